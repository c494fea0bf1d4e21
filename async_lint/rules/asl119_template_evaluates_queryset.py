from __future__ import annotations

import ast

from ..diagnostics import Applicability, Edit, Fix
from ..fixers.expressions import can_await_here
from ..fixers.iteration import collected, element_name
from ..fixers.sync_to_async import wrap_call
from ..semantic import QuerySet
from ..templates import ITEM
from .base import Invalid, Rule, Valid
from ._fix_choice import filled_before
from ._rendered_templates import rendering

_VIEW = "from django.shortcuts import render\nfrom library.models import Book\n\n\nasync def books(request):\n"


class TemplateEvaluatesQuerySet(Rule):
    """A lazy QuerySet handed to a template rendered on the event loop, which evaluates it.

    ## What it does
    Flags, inside an `async def`, a QuerySet in the context of `render()`,
    `render_to_string()`, `get_template(...).render()`, `Template(...).render()` or a
    `TemplateResponse`'s own `.render()` when the
    template reads it (`{% for book in books %}`, `{% if books %}`, `{{ books.count }}`),
    with what it extends and includes.  The template is found in the project's `templates/`
    folders; one that is not found (an installed package's, a name built at run time) is not
    guessed at.

    ## Why is this bad?
    Rendering runs the template in the calling thread: the QuerySet's query runs through the
    sync database API on the event loop and raises `SynchronousOnlyOperation`.  A
    `TemplateResponse` returned from an async view is not affected: Django renders it in a
    thread (`BaseHandler.get_response_async`).

    ## Fix
    When the template only iterates, tests or indexes it, the QuerySet is collected before
    rendering: `{"books": [book async for book in Book.objects.all()]}` (Django 4.1+).
    When it calls QuerySet methods (`{{ books.count }}`) or prints it, rendering runs in a
    thread instead: `await sync_to_async(render)(request, ...)`.

    ## Fix safety
    Safe: the template gets the same rows, fetched before rendering (a list where it had a
    QuerySet, which iterating, `{% if %}`, `|length` and indexing treat alike), or renders
    unchanged in Django's worker thread.
    """

    code = "ASL119"
    name = "template-evaluates-queryset"
    node_types = (ast.Call,)
    requires_text = ("render",)

    INVALID = [
        Invalid(
            _VIEW + '    return render(request, "library/book_titles.html", {"books": Book.objects.all()})\n',
            fixed=_VIEW + '    return render(request, "library/book_titles.html", {"books": [book async for book in Book.objects.all()]})\n',
        ),
        Invalid(
            _VIEW + '    context = {"books": Book.objects.filter(title__startswith="A")}\n'
            '    return render(request, "library/book_count.html", context)\n',
            fixed="from django.shortcuts import render\nfrom asgiref.sync import sync_to_async\nfrom library.models import Book\n\n\nasync def books(request):\n"
            '    context = {"books": Book.objects.filter(title__startswith="A")}\n'
            '    return await sync_to_async(render)(request, "library/book_count.html", context)\n',
        ),
        Invalid(
            "from django.template.response import TemplateResponse\nfrom library.models import Book\n\n\nasync def books(request):\n"
            '    response = TemplateResponse(request, "library/book_titles.html", {"books": Book.objects.all()})\n'
            "    return response.render()\n",
            fixed="from django.template.response import TemplateResponse\nfrom library.models import Book\n\n\nasync def books(request):\n"
            '    response = TemplateResponse(request, "library/book_titles.html", {"books": [book async for book in Book.objects.all()]})\n'
            "    return response.render()\n",
        ),
        Invalid(
            "from django.template import Context, Template\nfrom library.models import Book\n\n\nasync def titles():\n"
            '    template = Template("{% for b in books %}{{ b.title }}{% endfor %}")\n'
            '    return template.render(Context({"books": Book.objects.all()}))\n',
            fixed="from django.template import Context, Template\nfrom library.models import Book\n\n\nasync def titles():\n"
            '    template = Template("{% for b in books %}{{ b.title }}{% endfor %}")\n'
            '    return template.render(Context({"books": [book async for book in Book.objects.all()]}))\n',
        ),
    ]
    VALID = [
        # Collected before rendering.
        Valid(_VIEW + '    books = [book async for book in Book.objects.all()]\n    return render(request, "library/book_titles.html", {"books": books})\n'),
        # Rendered by Django in a thread.
        Valid(
            "from django.template.response import TemplateResponse\nfrom library.models import Book\n\n\nasync def books(request):\n"
            '    return TemplateResponse(request, "library/book_titles.html", {"books": Book.objects.all()})\n'
        ),
        # Rendered explicitly on the event loop.
        Valid(
            "from django.template.response import TemplateResponse\nfrom library.models import Book\n\n\nasync def books(request):\n"
            '    books = [book async for book in Book.objects.all()]\n'
            '    response = TemplateResponse(request, "library/book_titles.html", {"books": books})\n'
            "    return response.render()\n"
        ),
        # The template does not read it.
        Valid(_VIEW + '    return render(request, "library/greeting.html", {"books": Book.objects.all()})\n'),
        # A template outside the project: not guessed at.
        Valid(_VIEW + '    return render(request, "admin/index.html", {"books": Book.objects.all()})\n'),
    ]

    def check(self, node, ctx):
        found = rendering(node, ctx)
        if found is None:
            return
        for key, value_node in found.context.items():
            value = ctx.infer(value_node)
            if not isinstance(value, QuerySet) or value.from_prefetch_cache or filled_before(value_node, ctx):
                continue
            reads = found.reads.of(key)
            if not reads:
                continue
            first = next(iter(reads))
            yield ctx.report(
                self.code,
                value_node,
                f"the template evaluates the lazy QuerySet `{key}` on the event loop ({found.where(first)}); "
                "collect its rows before rendering",
                self._fix(ctx, found, key, value_node, value, reads),
            )

    @staticmethod
    def _fix(ctx, found, key, value_node, value, reads) -> Fix | None:
        # Iterated, tested, measured or indexed: a list of the same rows renders the same.
        as_a_list = all(len(p) == 1 or p[1] == ITEM or p[1].isdigit() for p in reads)
        if as_a_list and can_await_here(ctx, value_node, comprehension=True):
            text = collected(ctx, value_node, element_name(value))
            if text is not None:
                edit = Edit(ctx.source.start(value_node), ctx.source.end(value_node), text)
                return Fix("Collect the rows before rendering", (edit,), Applicability.SAFE)
        return wrap_call(ctx, found.call, Applicability.SAFE)
