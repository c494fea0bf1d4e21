from __future__ import annotations

import ast

from ..diagnostics import Applicability, Edit, Fix
from ..fixers.expressions import can_await_here, prefix_await
from ..semantic import Coroutine, iter_scope_nodes
from .asl103_queryset_evaluation import in_test_position
from .base import Invalid, Rule, Valid


class UnawaitedCoroutine(Rule):
    """A Django coroutine that is never awaited: `qs.aexists()` in an `if`, a bare `obj.asave()`.

    ## What it does
    Flags calls of Django's async methods (`a`-prefixed QuerySet, model, related-manager,
    cache, session, signal and auth twins, `request.auser()`, `aget_object_or_404()`) and of
    `sync_to_async(f)(...)` whose result is dropped (a bare statement) or only tested for truth
    (`if qs.aexists():`), inside an `async def`; and a variable holding such a call's result
    that is tested for truth without having been awaited (`exists = qs.aexists()` then
    `if exists:`).

    ## Why is this bad?
    Calling a coroutine function runs nothing: the write never happens, and a coroutine object
    is always true, so `if qs.aexists():` takes the branch for an empty table.  Python only
    warns ("coroutine … was never awaited") when the object is garbage-collected.

    ## Fix
    Add the missing `await` (for a variable, at the call that gave it its value, when the
    function never awaits the variable itself).

    ## Fix safety
    Unsafe: awaiting makes the call happen, which is the intent, but changes what the code does.
    """

    code = "ASL116"
    name = "unawaited-coroutine"
    node_types = (ast.Call, ast.Name)
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
        # A coroutine kept in a variable is as true as one tested directly.
        Invalid(
            "from library.models import Book\n\nasync def any_books():\n    exists = Book.objects.aexists()\n    if not exists:\n        return 'empty'\n",
            unsafe_fixed="from library.models import Book\n\nasync def any_books():\n    exists = await Book.objects.aexists()\n    if not exists:\n        return 'empty'\n",
        ),
    ]
    VALID = [
        Valid("import asyncio\nfrom library.models import Book\n\nasync def counts():\n    return await asyncio.gather(Book.objects.acount(), Book.objects.filter(pages=1).acount())\n"),
        Valid("from library.models import Book\n\nasync def later():\n    pending = Book.objects.acount()\n    return await pending\n"),
        Valid("async def run(client):\n    client.asave()\n"),
        Valid("from library.models import Book\n\nasync def any_books():\n    exists = Book.objects.aexists()\n    if await exists:\n        return True\n"),
    ]

    def check(self, node, ctx):
        if isinstance(node, ast.Name):
            yield from self._tested_variable(node, ctx)
            return
        parent = ctx.parent
        dropped = isinstance(parent, ast.Expr)
        if not (dropped or in_test_position(node, ctx.parents)):
            return
        if not isinstance(ctx.infer(node), Coroutine):
            return
        fix = Fix("Add `await`", tuple(prefix_await(ctx, node)), Applicability.UNSAFE) if can_await_here(ctx, node) else None
        what = "is never awaited, so it never runs" if dropped else "is a coroutine, which is always true; it was never awaited"
        yield ctx.report(self.code, node, f"This call {what}; add `await`", fix)

    def _tested_variable(self, name: ast.Name, ctx):
        if not isinstance(name.ctx, ast.Load) or not in_test_position(name, ctx.parents):
            return
        if not isinstance(ctx.infer(name), Coroutine):
            return
        bindings = [
            stmt for stmt in iter_scope_nodes(ctx.scope.node.body)
            if isinstance(stmt, ast.Assign) and any(isinstance(t, ast.Name) and t.id == name.id for t in stmt.targets)
        ]
        if len(bindings) != 1 or not isinstance(bindings[0].value, ast.Call):
            return
        call = bindings[0].value
        awaited = any(
            isinstance(n, ast.Await) and isinstance(n.value, ast.Name) and n.value.id == name.id
            for n in iter_scope_nodes(ctx.scope.node.body)
        )
        fix = None
        if not awaited:  # the call is an assignment's whole value: `await` fits there
            edit = Edit(ctx.source.start(call), ctx.source.start(call), "await ")
            fix = Fix("Add `await` where it is assigned", (edit,), Applicability.UNSAFE)
        yield ctx.report(
            self.code,
            name,
            f"`{name.id}` holds an unawaited coroutine (`{ctx.text(call.func)}()`, line {call.lineno}), "
            "which is always true; add `await`",
            fix,
        )
