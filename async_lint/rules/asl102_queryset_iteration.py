from __future__ import annotations

import ast

from ..diagnostics import Applicability, Edit, Fix
from ..fixers.expressions import can_await_here
from ..fixers.imports import is_builtin
from ..django_api import ASYNC_ITERATION_SINCE
from ..fixers.iteration import async_comprehension, async_for_statement, collected, element_name
from ..fixers.sync_to_async import wrap_call, wrap_value
from ..semantic import QuerySet
from .base import Invalid, Rule, Valid
from ._fix_choice import filled_before, in_duck_typing_fallback

# Builtins that iterate their argument(s) at once.
CONSUMERS = frozenset(
    "list tuple set frozenset sorted any all enumerate zip min max sum dict iter".split()
)


def _queries(value: object, node: ast.expr, ctx) -> bool:
    """Iterating `node` runs a query: not a prefetched relation's `.all()`, nor a variable whose
    result cache an earlier `async for` filled."""
    return isinstance(value, QuerySet) and not value.from_prefetch_cache and not filled_before(node, ctx)


# Those that consume a generator whole (not the lazy `enumerate`, `zip`, `iter`): an async list
# comprehension can stand in (`any` and `all` stop early, so there the rewrite evaluates every
# element: unsafe).
WHOLE_CONSUMERS = CONSUMERS - {"enumerate", "zip", "iter"}


class SyncQuerySetIteration(Rule):
    """A QuerySet iterated on the event loop.

    ## What it does
    Flags `for x in qs`, comprehensions over a QuerySet, and builtins that consume one
    (`list(qs)`, `tuple(qs)`, `set(qs)`, `sorted(qs)`, `any(qs)`, `enumerate(qs)`, …) inside an
    `async def`.  `qs.iterator()` counts too.

    ## Why is this bad?
    Iterating a QuerySet fetches its rows through the sync database API, which raises
    `SynchronousOnlyOperation` on the event loop.

    ## Fix
    `async for x in qs` and `[f(x) async for x in qs]` (Django 4.1+); `list(qs)` becomes
    `[x async for x in qs]`, other consumers get an async list comprehension as their argument;
    `qs.iterator()` becomes `qs.aiterator()`.  Before 4.1 the rows are fetched with
    `await sync_to_async(list)(qs)`.  A generator expression cannot be made async without
    changing what consumes it, so it gets no fix.

    ## Fix safety
    Safe: `async for` over a QuerySet fills the same result cache, in one query, as `for` does.
    """

    code = "ASL102"
    name = "sync-queryset-iteration"
    node_types = (ast.For, ast.comprehension, ast.Call)

    INVALID = [
        Invalid(
            "from library.models import Book\n\nasync def titles():\n    out = []\n    for book in Book.objects.filter(published=True):\n        out.append(book.title)\n    return out\n",
            fixed="from library.models import Book\n\nasync def titles():\n    out = []\n    async for book in Book.objects.filter(published=True):\n        out.append(book.title)\n    return out\n",
        ),
        Invalid(
            "from library.models import Book\n\nasync def titles():\n    return [b.title for b in Book.objects.all()]\n",
            fixed="from library.models import Book\n\nasync def titles():\n    return [b.title async for b in Book.objects.all()]\n",
        ),
        Invalid(
            "from library.models import Book\n\nasync def books():\n    return list(Book.objects.published())\n",
            fixed="from library.models import Book\n\nasync def books():\n    return [book async for book in Book.objects.published()]\n",
        ),
        Invalid(
            "from library.models import Book\n\nasync def titles():\n    return sorted(Book.objects.values_list('title', flat=True))\n",
            fixed="from library.models import Book\n\nasync def titles():\n    return sorted([row async for row in Book.objects.values_list('title', flat=True)])\n",
        ),
        Invalid(
            "from library.models import Book\n\nasync def stream():\n    for book in Book.objects.iterator(chunk_size=100):\n        print(book)\n",
            fixed="from library.models import Book\n\nasync def stream():\n    async for book in Book.objects.aiterator(chunk_size=100):\n        print(book)\n",
        ),
        Invalid(
            "from library.models import Book\n\nasync def stream():\n    for book in Book.objects.prefetch_related('tags').iterator(chunk_size=100):\n        print(book)\n",
            fixed="from asgiref.sync import sync_to_async\n\nfrom library.models import Book\n\nasync def stream():\n    for book in await sync_to_async(list)(Book.objects.prefetch_related('tags').iterator(chunk_size=100)):\n        print(book)\n",
            target_version="4.2",
        ),
        Invalid(
            "from library.models import Book\n\nasync def total():\n    return sum(b.pages for b in Book.objects.all())\n",
            fixed="from library.models import Book\n\nasync def total():\n    return sum([b.pages async for b in Book.objects.all()])\n",
        ),
        # A generator expression nothing consumes whole cannot become async.
        Invalid("from library.models import Book\n\nasync def first_long():\n    return next(b for b in Book.objects.all() if b.pages > 300)\n"),
        Invalid(
            "from library.models import Book\n\nasync def titles():\n    return [b.title for b in Book.objects.all()]\n",
            fixed="from asgiref.sync import sync_to_async\n\nfrom library.models import Book\n\nasync def titles():\n    return [b.title for b in await sync_to_async(list)(Book.objects.all())]\n",
            target_version="4.0",
        ),
        # A generator expression consumed whole by a builtin becomes an async list comprehension.
        Invalid(
            "from library.models import Book\n\nasync def titles():\n    return sorted(b.title for b in Book.objects.all())\n",
            fixed="from library.models import Book\n\nasync def titles():\n    return sorted([b.title async for b in Book.objects.all()])\n",
        ),
        Invalid(
            "from library.models import Book\n\nasync def titles():\n    return ', '.join(b.title for b in Book.objects.all())\n",
            fixed="from library.models import Book\n\nasync def titles():\n    return ', '.join([b.title async for b in Book.objects.all()])\n",
        ),
    ]
    VALID = [
        Valid("from library.models import Book\n\nasync def titles():\n    return [b.title async for b in Book.objects.all()]\n"),
        Valid("async def titles(books: list):\n    return [b.title for b in books]\n"),
        Valid("from library.models import Book\n\nasync def tags():\n    book = await Book.objects.prefetch_related('tags').aget(pk=1)\n    return [t.name for t in book.tags.all()]\n"),
        Valid("from library.models import Book\n\nasync def view():\n    def titles():\n        return [b.title for b in Book.objects.all()]\n    return titles\n"),
        Valid("from library.models import Book\n\nasync def view():\n    list = lambda qs: qs\n    return list(Book.objects.all())\n"),
    ]

    def check(self, node, ctx):
        if in_duck_typing_fallback(ctx):
            return
        if isinstance(node, ast.For):
            value = ctx.infer(node.iter)
            if _queries(value, node.iter, ctx):
                edits = async_for_statement(ctx, node)
                fix = Fix("Use `async for`", edits) if edits else None
                yield ctx.report(self.code, node.iter, "Iterating a QuerySet runs a query on the event loop; use `async for`", fix)
        elif isinstance(node, ast.comprehension):
            value = ctx.infer(node.iter)
            if _queries(value, node.iter, ctx) and not node.is_async:
                # `async for` only where an `await` could go (not in a generator expression).
                can_be_async = can_await_here(ctx, node)
                edits = async_comprehension(ctx, node) if can_be_async else None
                fix = Fix("Use an async comprehension", edits) if edits else None
                if not can_be_async:
                    fix = self._consumed_generator_fix(ctx, node)
                    can_be_async = fix is not None
                advice = "use `async for` in the comprehension" if can_be_async else "collect with `[x async for x in qs]` first"
                yield ctx.report(self.code, node.iter, f"A comprehension over a QuerySet runs a query on the event loop; {advice}", fix)
        elif isinstance(node.func, ast.Name) and node.func.id in CONSUMERS and is_builtin(ctx, node.func.id):
            for argument in node.args if node.func.id == "zip" else node.args[:1]:
                value = ctx.infer(argument)
                if _queries(value, argument, ctx):
                    yield ctx.report(
                        self.code,
                        node,
                        f"`{node.func.id}()` iterates a QuerySet on the event loop; pass it `[x async for x in qs]`",
                        self._consumer_fix(ctx, node, argument, value),
                    )

    @staticmethod
    def _consumed_generator_fix(ctx, generator: ast.comprehension) -> Fix | None:
        """`sorted(b.title for b in qs)` → `sorted([b.title async for b in qs])`: a generator
        expression that a builtin consumes whole becomes an async list comprehension."""
        expression = ctx.parents[-1] if ctx.parents else None
        call = ctx.parents[-2] if len(ctx.parents) > 1 else None
        if not (
            isinstance(expression, ast.GeneratorExp)
            and len(expression.generators) == 1
            and isinstance(call, ast.Call)
            and call.args[:1] == [expression]
            and len(call.args) == 1
            and ctx.target >= ASYNC_ITERATION_SINCE
        ):
            return None
        func = call.func
        if isinstance(func, ast.Name) and func.id in WHOLE_CONSUMERS and is_builtin(ctx, func.id):
            applicability = Applicability.UNSAFE if func.id in ("any", "all") else Applicability.SAFE
        elif isinstance(func, ast.Attribute) and func.attr == "join" and isinstance(func.value, ast.Constant) and isinstance(func.value.value, str):
            applicability = Applicability.SAFE
        else:
            return None
        saved, ctx.parents = ctx.parents, ctx.parents[:-2]
        try:
            if not can_await_here(ctx, call, comprehension=True):
                return None
        finally:
            ctx.parents = saved
        inner = async_comprehension(ctx, generator)
        start, end = ctx.source.start(expression), ctx.source.end(expression)
        if inner is None or ctx.source.text[start] != "(" or ctx.source.text[end - 1] != ")":
            return None
        brackets = (Edit(start + 1, start + 1, "["), Edit(end - 1, end - 1, "]"))
        return Fix("Collect with an async list comprehension", tuple(sorted((*inner, *brackets))), applicability)

    def _consumer_fix(self, ctx, call: ast.Call, argument: ast.expr, value: QuerySet) -> Fix | None:
        if not can_await_here(ctx, call):
            return None
        name = element_name(value)
        function = call.func.id
        if ctx.target < ASYNC_ITERATION_SINCE:
            edits = wrap_call(ctx, call) if function == "list" else wrap_value(ctx, argument, "list")
            edits = edits.edits if isinstance(edits, Fix) else edits
            return Fix("Fetch the rows with `await sync_to_async(list)(qs)`", edits) if edits else None
        if not can_await_here(ctx, call, comprehension=True):
            return None
        if function in ("list", "set") and len(call.args) == 1 and not call.keywords:
            text = collected(ctx, argument, name, "[]" if function == "list" else "{}")
            edit = Edit(ctx.source.start(call), ctx.source.end(call), text) if text else None
        else:
            text = collected(ctx, argument, name)
            edit = Edit(ctx.source.start(argument), ctx.source.end(argument), text) if text else None
        if edit is None:
            return None
        return Fix("Collect the rows with an async comprehension", (edit,), Applicability.SAFE)
