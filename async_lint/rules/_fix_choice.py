"""The one decision most ASL1 rules share: call the async twin when the target Django has it
(unsafe when the twin is a native re-implementation that skips sync overrides), otherwise run
the sync call in a thread with `sync_to_async`."""

from __future__ import annotations

import ast

from ..context import Context
from ..diagnostics import Applicability, Fix
from ..django_api import Twin, format_version
from ..fixers.sync_to_async import wrap_call
from ..fixers.await_api_twin import await_function_twin, await_method_twin


def _applicability(twin: Twin, ctx: Context) -> Applicability:
    return Applicability.SAFE if twin.keeps_behaviour(ctx.target) else Applicability.UNSAFE


def method_fix(ctx: Context, call: ast.Call, twin: Twin) -> tuple[str, Fix | None]:
    """Advice for the message and the fix for `receiver.<twin.sync>(...)`."""
    if twin.available(ctx.target):
        return f"use `await ….{twin.twin}()`", await_method_twin(ctx, call, twin.twin, _applicability(twin, ctx))
    return f"use `await sync_to_async(….{twin.sync})()` ({_why_not(twin, ctx)})", wrap_call(ctx, call)


def _why_not(twin: Twin, ctx: Context) -> str:
    if ctx.target >= twin.since:
        return f"`{twin.twin}()` is broken in Django {format_version(ctx.target)}"
    return f"`{twin.twin}()` needs Django {format_version(twin.since)}"


def function_fix(ctx: Context, call: ast.Call, module: str, twin: Twin) -> tuple[str, Fix | None]:
    """Advice and fix for a call of the module function `module.<twin.sync>`."""
    if twin.available(ctx.target):
        return (
            f"use `await {twin.twin}()`",
            await_function_twin(ctx, call, module, twin.twin, _applicability(twin, ctx)),
        )
    return f"use `await sync_to_async({twin.sync})()` ({_why_not(twin, ctx)})", wrap_call(ctx, call)


def thread_fix(ctx: Context, call: ast.Call) -> tuple[str, Fix | None]:
    """Advice and fix for a sync call with no async twin in any Django version."""
    return f"use `await sync_to_async({ctx.text(call.func)})()`", wrap_call(ctx, call)


def called_method(node: ast.AST) -> tuple[ast.expr, str] | None:
    """(receiver, method name) of `receiver.method(...)`."""
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
        return node.func.value, node.func.attr
    return None


def filled_before(node: ast.expr, ctx: Context) -> bool:
    """A QuerySet variable already evaluated earlier in the function reads its cache."""
    return ctx.scope is not None and ctx.scope.filled_before(node)


_DUCK_TYPING_ERRORS = frozenset({"AttributeError", "TypeError"})


def in_duck_typing_fallback(ctx: Context) -> bool:
    """Inside `except AttributeError:` (or TypeError), the code runs because a value was *not*
    what its annotation says: `try: qs.all().count() except AttributeError: len(qs)`."""
    for parent in ctx.parents:
        if isinstance(parent, ast.ExceptHandler) and parent.type is not None:
            caught = parent.type.elts if isinstance(parent.type, ast.Tuple) else [parent.type]
            if any(isinstance(c, ast.Name) and c.id in _DUCK_TYPING_ERRORS for c in caught):
                return True
    return False
