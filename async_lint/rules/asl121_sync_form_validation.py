from __future__ import annotations

import ast

from ..diagnostics import Applicability
from ..fixers.sync_to_async import wrap_call
from .base import Invalid, Rule, Valid
from ._forms import form_of

_FORM = (
    "from django import forms\nfrom library.models import Book\n\n\n"
    "class BookForm(forms.ModelForm):\n    class Meta:\n        model = Book\n        fields = ['title', 'author']\n\n\n"
)
_TITLE_FORM = _FORM.replace("['title', 'author']", "['title', 'pages']")


class SyncFormValidation(Rule):
    """A form whose validation or saving queries the database, run on the event loop:
    `form.is_valid()` on a ModelForm with a foreign key, `form.save()`.

    ## What it does
    Flags, inside an `async def`, on a form built there from a project form class (or a model
    formset from `modelformset_factory()` / `inlineformset_factory()`):
    - `is_valid()` and `full_clean()` when validation queries: a ModelForm whose `Meta.fields`
      include a foreign key, one-to-one or many-to-many field (a `ModelChoiceField` looks the
      submitted value up), or any form declaring a `ModelChoiceField` /
      `ModelMultipleChoiceField`; every model formset (it fetches the objects it edits);
    - `save()` of a ModelForm or model formset, unless `commit=False`.

    ## Why is this bad?
    Django's forms have no async API: these run sync queries on the event loop
    (`SynchronousOnlyOperation`).

    ## Fix
    `await sync_to_async(form.is_valid)()`: validation (or saving) runs in Django's worker
    thread.

    ## Fix safety
    Safe: the same call, in a thread.
    """

    code = "ASL121"
    name = "sync-form-validation"
    node_types = (ast.Call,)
    requires_text = ("is_valid", "full_clean", "save")

    INVALID = [
        Invalid(
            _FORM + "async def create(request):\n    form = BookForm(request.POST)\n    if form.is_valid():\n        return 'ok'\n",
            fixed=_FORM.replace("from library.models import Book\n", "from asgiref.sync import sync_to_async\nfrom library.models import Book\n")
            + "async def create(request):\n    form = BookForm(request.POST)\n    if await sync_to_async(form.is_valid)():\n        return 'ok'\n",
        ),
        Invalid(
            _TITLE_FORM + "async def create(request, data):\n    form = BookForm(data)\n    form.full_clean()\n    return form.save()\n",
            fixed=_TITLE_FORM.replace("from library.models import Book\n", "from asgiref.sync import sync_to_async\nfrom library.models import Book\n")
            + "async def create(request, data):\n    form = BookForm(data)\n    form.full_clean()\n    return await sync_to_async(form.save)()\n",
        ),
    ]
    VALID = [
        # Validation without relations or unique fields runs no query.
        Valid(_TITLE_FORM + "async def check(data):\n    form = BookForm(data)\n    return form.is_valid()\n"),
        Valid(_TITLE_FORM + "async def draft(data):\n    form = BookForm(data)\n    return form.save(commit=False)\n"),
        Valid(_FORM + "from asgiref.sync import sync_to_async\n\n\nasync def create(data):\n    form = BookForm(data)\n    return await sync_to_async(form.is_valid)()\n"),
        Valid("from django import forms\n\n\nclass ContactForm(forms.Form):\n    email = forms.EmailField()\n\n\nasync def contact(request):\n    form = ContactForm(request.POST)\n    return form.is_valid()\n"),
    ]

    def check(self, node, ctx):
        if not isinstance(node.func, ast.Attribute) or node.func.attr not in ("is_valid", "full_clean", "save"):
            return
        form = form_of(node.func.value, ctx)
        if form is None:
            return
        method = node.func.attr
        if method == "save":
            if not form.saves or any(k.arg == "commit" for k in node.keywords) or node.args:
                return
            why = f"saves the {form.what}'s objects with the sync ORM"
        else:
            if form.validation_query is None:
                return
            why = f"runs a query on the event loop: {form.validation_query}"
        callee = ctx.text(node.func)
        yield ctx.report(
            self.code,
            node,
            f"`{callee}()` {why}; call it with `await sync_to_async({callee})()`",
            wrap_call(ctx, node, Applicability.SAFE),
        )
