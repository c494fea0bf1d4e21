"""Awaiting Django's async twin of a call: `x.get(...)` → `await x.aget(...)`, and
`f(...)` → `await af(...)`."""

from __future__ import annotations

import ast

from ..context import Context
from ..diagnostics import Applicability, Edit, Fix
from .expressions import can_await_here, prefix_await, rename_attribute
from .imports import ensure_import


def await_method_twin(
    ctx: Context, call: ast.Call, twin: str, applicability: Applicability = Applicability.SAFE
) -> Fix | None:
    """`receiver.method(args)` → `await receiver.twin(args)`."""
    if not isinstance(call.func, ast.Attribute) or not can_await_here(ctx, call):
        return None
    edits = [rename_attribute(ctx, call.func, twin), *prefix_await(ctx, call)]
    return Fix(f"Use `await ….{twin}()`", tuple(sorted(edits)), applicability)


def await_function_twin(
    ctx: Context, call: ast.Call, module: str, twin: str, applicability: Applicability = Applicability.SAFE
) -> Fix | None:
    """`function(args)` → `await twin(args)`, importing `twin` from `module` when the call
    named the function directly, or using `module_alias.twin` when it went through a module."""
    if not can_await_here(ctx, call):
        return None
    if isinstance(call.func, ast.Attribute):
        rename = rename_attribute(ctx, call.func, twin)
        import_edits: tuple[Edit, ...] | None = ()
    else:
        start, end = ctx.source.start(call.func), ctx.source.end(call.func)
        rename = Edit(start, end, twin)
        import_edits = ensure_import(ctx, module, twin)
    if import_edits is None:
        return None
    edits = [rename, *prefix_await(ctx, call), *import_edits]
    return Fix(f"Use `await {twin}()`", tuple(sorted(edits)), applicability)
