from __future__ import annotations

import ast

from ..diagnostics import Applicability
from ..fixers.eager_loading import add_lookup, in_function
from ..fixers.sync_to_async import wrap_call
from ..semantic import QuerySet, assigned_once
from ..templates import ITEM
from .base import Invalid, Rule, Valid
from ._rendered_templates import as_instance, elements, rendering, unloaded_relations

_HEAD = "from django.shortcuts import render\nfrom library.models import Book\n\n\n"


class TemplateLazyRelation(Rule):
    """A template rendered on the event loop reads a relation the query did not load:
    `{{ book.author.name }}`.

    ## What it does
    Flags, at the context value, a model instance, a list of instances or a QuerySet handed to
    a template rendered inside an `async def` (see ASL119 for which calls) when the template
    (with what it extends and includes) follows a foreign key, one-to-one or generic relation,
    or iterates a many-to-many or reverse relation, that the query's `select_related()` /
    `prefetch_related()` does not cover.  Nested paths are followed (`book.author.profile.bio`),
    and a printed instance (`{{ review }}`) runs its model's `__str__` (see ASL205).

    ## Why is this bad?
    Each unloaded relation is fetched by its descriptor with a sync query while the template
    renders on the event loop: `SynchronousOnlyOperation`.  In a loop it is also an N+1 query.

    ## Fix
    The path is added to the query's `select_related(...)` / `prefetch_related(...)`, or the
    call is appended where the rows are fetched.  When the query is not in the function,
    rendering runs in a thread instead: `await sync_to_async(render)(request, ...)`.

    ## Fix safety
    Safe: the same rows and relations, loaded with the query or read in Django's thread.
    """

    code = "ASL204"
    name = "template-lazy-relation"
    node_types = (ast.Call,)
    requires_text = ("render",)

    INVALID = [
        Invalid(
            _HEAD + "async def books(request):\n    books = [book async for book in Book.objects.all()]\n"
            '    return render(request, "library/book_list.html", {"books": books})\n',
            fixed=_HEAD + "async def books(request):\n    books = [book async for book in Book.objects.all().select_related(\"author\")]\n"
            '    return render(request, "library/book_list.html", {"books": books})\n',
        ),
        Invalid(
            _HEAD + "async def book(request, pk):\n    book = await Book.objects.select_related('author').aget(pk=pk)\n"
            '    return render(request, "library/book_detail.html", {"book": book})\n',
            fixed=_HEAD + "async def book(request, pk):\n    book = await Book.objects.select_related('author').prefetch_related(\"tags\").aget(pk=pk)\n"
            '    return render(request, "library/book_detail.html", {"book": book})\n',
        ),
    ]
    VALID = [
        Valid(
            _HEAD + "async def books(request):\n    books = [book async for book in Book.objects.select_related('author')]\n"
            '    return render(request, "library/book_list.html", {"books": books})\n'
        ),
        Valid(
            _HEAD + "async def books(request):\n    books = [book async for book in Book.objects.all()]\n"
            '    return render(request, "library/book_titles.html", {"books": books})\n'
        ),
        Valid(
            _HEAD + "async def book(request, pk):\n    book = await Book.objects.select_related('author').prefetch_related('tags').aget(pk=pk)\n"
            '    return render(request, "library/book_detail.html", {"book": book})\n'
        ),
    ]

    def check(self, node, ctx):
        found = rendering(node, ctx)
        if found is None:
            return
        for key, value_node in found.context.items():
            value = ctx.infer(value_node)
            start = elements(value)
            if start is None:
                continue
            model, loading, source, collection = start
            if isinstance(value, QuerySet):
                # The QuerySet expression: in the context, or where the name was bound.
                source = assigned_once(value_node.id, ctx.scope.node.body) if isinstance(value_node, ast.Name) else value_node
            reported = set()
            for below, path in _below(found.reads.of(key), collection):
                for lookup, method, through in unloaded_relations(model, loading, below, ctx):
                    if lookup in reported:
                        continue
                    reported.add(lookup)
                    existing = loading.prefetch_call if method == "prefetch_related" else loading.select_call
                    instance = as_instance(model, loading, source)
                    # `whole`: ASL119 may collect the same QuerySet expression; one fix per round.
                    fix = add_lookup(ctx, instance, method, lookup, existing, whole=True) if _changeable(ctx, existing, source) else None
                    read = ".".join(s for s in (key, *through))
                    yield ctx.report(
                        self.code,
                        value_node,
                        f"the template reads `{read}` ({found.where(path)}), which the query did not load: add "
                        f'`{method}("{lookup}")` to it',
                        fix or wrap_call(ctx, found.call, Applicability.SAFE),
                    )


def _below(reads, collection: bool):
    """Each read path below the value: for a collection, below one element (`books.0` too)."""
    for path in reads:
        below = path[1:]
        if collection:
            if not below or not (below[0] == ITEM or below[0].isdigit()):
                continue
            below = below[1:]
        yield below, path


def _changeable(ctx, existing, source) -> bool:
    return (existing is not None and in_function(ctx, existing)) or (source is not None and in_function(ctx, source))
