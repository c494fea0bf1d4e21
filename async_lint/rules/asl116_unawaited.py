from __future__ import annotations

import ast

from ..diagnostics import Applicability, Fix
from ..fixers.expressions import can_await_here, prefix_await
from ..semantic import Coroutine
from .asl103_queryset_evaluation import in_test_position
from .base import Invalid, Rule, Valid


class UnawaitedCoroutine(Rule):
    """A Django coroutine that is never awaited: `qs.aexists()` in an `if`, a bare `obj.asave()`.

    ## What it does
    Flags calls of Django's async methods (`a`-prefixed QuerySet, model, related-manager,
    cache, session, signal and auth twins, `request.auser()`, `aget_object_or_404()`) and of
    `sync_to_async(f)(...)` whose result is dropped (a bare statement) or only tested for truth
    (`if qs.aexists():`), inside an `async def`.

    ## Why is this bad?
    Calling a coroutine function runs nothing: the write never happens, and a coroutine object
    is always true, so `if qs.aexists():` takes the branch for an empty table.  Python only
    warns ("coroutine … was never awaited") when the object is garbage-collected.

    ## Fix
    Add the missing `await`.

    ## Fix safety
    Unsafe: awaiting makes the call happen, which is the intent, but changes what the code does.
    """

    code = "ASL116"
    name = "unawaited-coroutine"
    node_types = (ast.Call,)
    counts_in_helpers = False

    INVALID = [
        Invalid(
            "from library.models import Book\n\nasync def touch(book: Book):\n    book.asave()\n",
            unsafe_fixed="from library.models import Book\n\nasync def touch(book: Book):\n    await book.asave()\n",
        ),
        Invalid(
            "from library.models import Book\n\nasync def any_books():\n    if Book.objects.aexists():\n        return True\n",
            unsafe_fixed="from library.models import Book\n\nasync def any_books():\n    if await Book.objects.aexists():\n        return True\n",
        ),
        Invalid(
            "async def remember(request):\n    request.session.aset('seen', True)\n",
            unsafe_fixed="async def remember(request):\n    await request.session.aset('seen', True)\n",
        ),
        Invalid(
            "from asgiref.sync import sync_to_async\n\nasync def run(job):\n    sync_to_async(job)()\n",
            unsafe_fixed="from asgiref.sync import sync_to_async\n\nasync def run(job):\n    await sync_to_async(job)()\n",
        ),
    ]
    VALID = [
        Valid("import asyncio\nfrom library.models import Book\n\nasync def counts():\n    return await asyncio.gather(Book.objects.acount(), Book.objects.filter(pages=1).acount())\n"),
        Valid("from library.models import Book\n\nasync def later():\n    pending = Book.objects.acount()\n    return await pending\n"),
        Valid("async def run(client):\n    client.asave()\n"),
    ]

    def check(self, node, ctx):
        parent = ctx.parent
        dropped = isinstance(parent, ast.Expr)
        if not (dropped or in_test_position(node, ctx.parents)):
            return
        if not isinstance(ctx.infer(node), Coroutine):
            return
        fix = Fix("Add `await`", tuple(prefix_await(ctx, node)), Applicability.UNSAFE) if can_await_here(ctx, node) else None
        what = "is never awaited, so it never runs" if dropped else "is a coroutine, which is always true; it was never awaited"
        yield ctx.report(self.code, node, f"This call {what}; add `await`", fix)
