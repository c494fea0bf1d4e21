from __future__ import annotations

import ast

from ..fixers.sync_to_async import wrap_call
from ..twins import twin_name
from ..semantic import LocalFunction
from .base import Invalid, Rule, Valid

SESSION_ACCESS = "ASL110"  # not I/O once an awaited call has loaded the session
# Decorators that leave a function a plain sync callable.
TRANSPARENT_DECORATORS = frozenset({"staticmethod", "classmethod"})


class SyncHelperCall(Rule):
    """A sync function of this module that does something unsafe, called directly from async code.

    ## What it does
    Flags, inside an `async def`, a direct call of a sync function or method defined in the same
    module (or class) whose own body does what the other ASL1 rules flag: a query, a model
    save, a blocking cache or mail call.  The helper itself is fine; the call site is not.  Only
    one hop is followed.

    ## Why is this bad?
    The helper runs on the event loop like any other code there, so its query raises
    `SynchronousOnlyOperation` (or its I/O blocks the loop), at run time, from inside the helper.

    ## Fix
    `await sync_to_async(helper)(...)`, which runs the whole helper in Django's worker thread.

    ## Fix safety
    Safe: the helper runs unchanged, in the thread Django uses for its own `a*` wrappers.
    """

    code = "ASL117"
    name = "sync-helper-call"
    node_types = (ast.Call,)
    counts_in_helpers = False

    INVALID = [
        Invalid(
            "from library.models import Book\n\ndef titles():\n    return [b.title for b in Book.objects.all()]\n\nasync def view(request):\n    return titles()\n",
            fixed="from library.models import Book\nfrom asgiref.sync import sync_to_async\n\ndef titles():\n    return [b.title for b in Book.objects.all()]\n\nasync def view(request):\n    return await sync_to_async(titles)()\n",
        ),
        Invalid(
            "from library.models import Book\n\nclass Report:\n    def count(self):\n        return Book.objects.count()\n\n    async def render(self):\n        return self.count() + 1\n",
            fixed="from library.models import Book\nfrom asgiref.sync import sync_to_async\n\nclass Report:\n    def count(self):\n        return Book.objects.count()\n\n    async def render(self):\n        return await sync_to_async(self.count)() + 1\n",
        ),
    ]
    VALID = [
        Valid("from library.models import Book\n\ndef label(book):\n    return book.title.upper()\n\nasync def view(book):\n    return label(book)\n"),
        Valid("from asgiref.sync import sync_to_async\nfrom library.models import Book\n\n@sync_to_async\ndef titles():\n    return [b.title for b in Book.objects.all()]\n\nasync def view():\n    return await titles()\n"),
        Valid("from asgiref.sync import sync_to_async\nfrom library.models import Book\n\ndef titles():\n    return [b.title for b in Book.objects.all()]\n\nasync def view():\n    return await sync_to_async(titles)()\n"),
    ]

    def check(self, node, ctx):
        if ctx.helpers is None:
            return
        helper = self._helper(node.func, ctx)
        if helper is None:
            return
        function, owner = helper
        if self._has_async_twin(function, owner, ctx):
            return  # calling the sync twin of an async function: ASL502's finding
        nested_in = ctx.scope if function in ctx.scope.local_functions.values() else None
        session_loaded = ctx.scope.session_loaded_before(node)
        hazard = next(
            (h for h in ctx.helpers.hazards(function, owner, nested_in) if not (session_loaded and h.code == SESSION_ACCESS)),
            None,
        )
        if hazard is None:
            return
        row = ctx.source.row_col(hazard.start)[0]
        inner = ctx.source.text[hazard.start : hazard.end].split("\n")[0]
        if len(inner) > 40:
            inner = inner[:37] + "..."
        callee = ctx.text(node.func)
        yield ctx.report(
            self.code,
            node,
            f"`{callee}()` runs `{inner}` (line {row}) on the event loop; call it with `await sync_to_async({callee})()`",
            wrap_call(ctx, node),
        )

    @staticmethod
    def _has_async_twin(function: ast.FunctionDef, owner: ast.ClassDef | None, ctx) -> bool:
        body = owner.body if owner is not None else ctx.file.tree.body
        names = {s.name for s in body if isinstance(s, ast.AsyncFunctionDef)}
        return any(twin_name(function.name, pattern) in names for pattern in ctx.twins.patterns)

    @staticmethod
    def _helper(func: ast.expr, ctx) -> tuple[ast.FunctionDef, ast.ClassDef | None] | None:
        if isinstance(func, ast.Name):
            value = ctx.infer(func)
            if isinstance(value, LocalFunction) and _plain(value.node):
                return value.node, None
            return None
        owner = ctx.scope.owner
        if (
            isinstance(func, ast.Attribute)
            and isinstance(func.value, ast.Name)
            and func.value.id in ("self", "cls")
            and owner is not None
        ):
            for stmt in owner.body:
                if isinstance(stmt, ast.FunctionDef) and stmt.name == func.attr and _plain(stmt):
                    return stmt, owner
        return None


def _plain(function: ast.FunctionDef) -> bool:
    return all(isinstance(d, ast.Name) and d.id in TRANSPARENT_DECORATORS for d in function.decorator_list)
