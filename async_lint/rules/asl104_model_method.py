from __future__ import annotations

import ast

from .. import django_api as api
from ..semantic import Instance
from .base import Invalid, Rule, Valid
from ._fix_choice import called_method, method_fix, thread_fix


# What Django's async twins pass on to the sync method (django/db/models/base.py, 4.2+).
TWIN_PARAMETERS = {
    "save": frozenset({"force_insert", "force_update", "using", "update_fields"}),
    "delete": frozenset({"using", "keep_parents"}),
    "refresh_from_db": frozenset({"using", "fields", "from_queryset"}),
}


def _twin_accepts(call: ast.Call, method: str) -> bool:
    """Whether the async twin can take this call's arguments (keywords it knows, no positionals,
    no `**kwargs` it cannot see into)."""
    return not call.args and all(k.arg in TWIN_PARAMETERS[method] for k in call.keywords)


class SyncModelMethod(Rule):
    """A model instance method that hits the database, called on the event loop.

    ## What it does
    Flags `obj.save()`, `obj.delete()`, `obj.refresh_from_db()`, and the methods with no async
    twin that still query: `full_clean()`, `clean_fields()`, `validate_unique()`,
    `validate_constraints()`, `get_next_by_<field>()`, `get_previous_by_<field>()`,
    `get_next_in_order()`, `get_previous_in_order()`; on a value known to be a model instance.

    ## Why is this bad?
    They run SQL through the sync database API and raise `SynchronousOnlyOperation`.

    ## Fix
    `await obj.asave()` / `adelete()` / `arefresh_from_db()` on Django 4.2+; otherwise, and for
    the methods without a twin, `await sync_to_async(obj.full_clean)()`.

    ## Fix safety
    Safe: `asave()` and friends call the sync method in a thread, so an overridden `save()`
    still runs.  A call with arguments the twin does not pass on (`save(index=False)` to an
    override with extra parameters, positional arguments, `**kwargs`) keeps the sync method, run
    with `sync_to_async`.
    """

    code = "ASL104"
    name = "sync-model-method"
    node_types = (ast.Call,)

    INVALID = [
        Invalid(
            "from library.models import Book\n\nasync def rename(pk, title):\n    book = await Book.objects.aget(pk=pk)\n    book.title = title\n    book.save(update_fields=['title'])\n",
            fixed="from library.models import Book\n\nasync def rename(pk, title):\n    book = await Book.objects.aget(pk=pk)\n    book.title = title\n    await book.asave(update_fields=['title'])\n",
        ),
        Invalid(
            "from library.models import Book\n\nasync def check(book: Book):\n    book.full_clean()\n",
            fixed="from asgiref.sync import sync_to_async\n\nfrom library.models import Book\n\nasync def check(book: Book):\n    await sync_to_async(book.full_clean)()\n",
        ),
        Invalid(
            "from library.models import Book\n\nasync def quiet(book: Book):\n    book.save(index=False)\n",
            fixed="from asgiref.sync import sync_to_async\n\nfrom library.models import Book\n\nasync def quiet(book: Book):\n    await sync_to_async(book.save)(index=False)\n",
        ),
        Invalid(
            "from library.models import Author\n\nasync def create(name):\n    author = Author(name=name)\n    author.save()\n    return author\n",
            fixed="from asgiref.sync import sync_to_async\n\nfrom library.models import Author\n\nasync def create(name):\n    author = Author(name=name)\n    await sync_to_async(author.save)()\n    return author\n",
            target_version="4.1",
        ),
        # A Protocol that declares a model's save(update_fields=...) types a model instance.
        Invalid(
            "from typing import Protocol\n\n\nclass Saveable(Protocol):\n    def save(self, update_fields=None): ...\n\n\nasync def touch(obj: Saveable):\n    obj.save(update_fields=['modified'])\n",
            fixed="from typing import Protocol\n\n\nclass Saveable(Protocol):\n    def save(self, update_fields=None): ...\n\n\nasync def touch(obj: Saveable):\n    await obj.asave(update_fields=['modified'])\n",
        ),
    ]
    VALID = [
        Valid("from library.models import Book\n\nasync def rename(book: Book):\n    await book.asave()\n"),
        Valid("async def store(storage, name, content):\n    storage.save(name, content)\n"),
        Valid("async def save_form(form):\n    form.save()\n"),
        Valid("from typing import Protocol\n\n\nclass Writer(Protocol):\n    def save(self, path): ...\n\n\nasync def store(w: Writer):\n    w.save('out.txt')\n"),
    ]

    def check(self, node, ctx):
        receiver, method = called_method(node) or (None, "")
        twin = api.MODEL_METHODS.get(method)
        without_twin = method in api.MODEL_METHODS_WITHOUT_TWIN or method.startswith(
            api.MODEL_METHOD_PREFIXES_WITHOUT_TWIN
        )
        if twin is None and not without_twin:
            return
        if not isinstance(ctx.infer(receiver), Instance):
            return
        if twin and not _twin_accepts(node, method):
            # `page.save(index=False)`: a parameter of the model's own save(), which Django's
            # asave() does not pass on (TypeError).  The sync call, in a thread, keeps it.
            twin = None
        advice, fix = method_fix(ctx, node, twin) if twin else thread_fix(ctx, node)
        yield ctx.report(self.code, node, f"`.{method}()` runs a database query on the event loop; {advice}", fix)
