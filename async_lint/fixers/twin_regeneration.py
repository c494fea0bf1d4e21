"""Regenerating one twin of a user's pair from the other (ASL501).

- From the async twin (`canonical = "async"`): the sync twin becomes the async body in sync form,
  as psycopg generates its sync code, written by the one translator (`twins.translation`, in
  writing mode): `await` goes, `async for`/`async with`/async comprehensions become their sync
  statements, calls of async twins call their sync names, `sync_to_async(f)(...)` becomes
  `f(...)`, and an awaited call of the module's (or the class's) own coroutine function with no
  sync twin becomes `async_to_sync(f)(...)`.  Anything else async (an `async with` over an
  unknown context manager, an awaited library coroutine such as `asyncio.wait_for(...)`) means
  no fix: there is no sync form to write.
- From the sync twin (`canonical = "sync"`): the async twin delegates,
  `return await sync_to_async(self.x)(...)`, which is consistent by construction.

The regenerated twin keeps its name, decorators and docstring; the rest is the canonical twin's
text with the translator's edits, so its comments survive.  A regeneration is offered only if
the pair, read again from the new text, agrees (equal or delegating).
"""

from __future__ import annotations

import ast
import re

from .. import twins
from ..context import Context
from ..diagnostics import Applicability, Edit, Fix
from ..fixes import apply_edits
from ..imports import import_bindings, module_name_for
from ..source import SourceFile
from ..twins.translation import CannotTranslate, Evidence, Names, translate
from .imports import ensure_import
from .missing_method_twin import forwarded_arguments, parameter_text
from .sync_to_async import import_edits as sync_to_async_imports
from .sync_to_async import wrapper_name


def regenerate(ctx: Context, pair: twins.TwinPair, names: Names, canonical: str) -> Fix | None:
    try:
        if canonical == "async":
            edits = _sync_from_async(ctx, pair, names)
            message = f"Regenerate `{pair.sync.name}()` from `{pair.async_.name}()`"
        else:
            edits = _async_from_sync(ctx, pair)
            message = f"Regenerate `{pair.async_.name}()` as a `sync_to_async` wrapper of `{pair.sync.name}()`"
    except CannotTranslate:
        return None
    if edits is None or not _agrees(ctx, pair, edits):
        return None
    return Fix(message, tuple(sorted(set(edits))), Applicability.UNSAFE)


def _docstring(function: ast.AST) -> ast.Expr | None:
    first = function.body[0] if function.body else None
    if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) and isinstance(first.value.value, str):
        return first
    return None


def _sync_from_async(ctx: Context, pair: twins.TwinPair, names: Names) -> list[Edit] | None:
    source = ctx.source
    translation = translate(
        source, pair.async_, names, Evidence.of(pair.sync, names), writing=True, owner=pair.owner, siblings=pair.siblings
    )
    start, end = source.start(pair.async_), source.end(pair.async_)
    edits = [e for e in translation.edits if start <= e.start and e.end <= end]
    # The sync twin keeps its own docstring (or none).
    own, theirs = _docstring(pair.sync), _docstring(pair.async_)
    if theirs is not None:
        doc_start, doc_end = source.line_starts[theirs.lineno - 1], source.line_starts[theirs.end_lineno] if theirs.end_lineno < len(source.line_starts) else end
        edits = [e for e in edits if not (doc_start <= e.start < doc_end)]
        edits.append(Edit(doc_start, doc_end, _line_text(source, own) if own is not None else ""))
    elif own is not None and pair.async_.body[0].lineno != pair.async_.lineno:
        at = source.line_starts[pair.async_.body[0].lineno - 1]
        edits.append(Edit(at, at, _line_text(source, own)))
    text = apply_edits(source.text[start:end], [Edit(e.start - start, e.end - start, e.content) for e in sorted(edits)])
    header = re.match(rf"def(\s+){re.escape(pair.async_.name)}\b", text)
    if header is None:
        return None
    text = f"def{header.group(1)}{pair.sync.name}{text[header.end():]}"
    new = [Edit(source.start(pair.sync), source.end(pair.sync), text)]
    for module, name in sorted(translation.imports):
        found = ensure_import(ctx, module, name)
        if found is None:
            return None
        new.extend(found)
    return new


def _line_text(source: SourceFile, node: ast.AST) -> str:
    """The whole lines a statement stands on, with their line breaks."""
    start = source.line_starts[node.lineno - 1]
    end = source.line_starts[node.end_lineno] if node.end_lineno < len(source.line_starts) else len(source.text)
    text = source.text[start:end]
    return text if text.endswith(("\n", "\r")) else text + source.newline


def _async_from_sync(ctx: Context, pair: twins.TwinPair) -> list[Edit] | None:
    """`async def ax(<the sync twin's parameters>): return await sync_to_async(self.x)(...)`."""
    if twins.is_generator(pair.sync):
        return None  # a generator cannot be delegated to
    imports = sync_to_async_imports(ctx)
    parameters = parameter_text(ctx, pair.sync)
    if imports is None or parameters is None:
        return None
    arguments = pair.sync.args
    positional = [a.arg for a in (*arguments.posonlyargs, *arguments.args)]
    if pair.owner is not None:
        if "staticmethod" in twins.pairs.decorator_names(pair.sync):
            callee = f"{pair.owner.name}.{pair.sync.name}"
        elif not positional:
            return None  # a method without self
        else:
            callee = f"{positional[0]}.{pair.sync.name}"
    else:
        callee = pair.sync.name
    call = forwarded_arguments(pair.sync, skip_first=pair.owner is not None and "staticmethod" not in twins.pairs.decorator_names(pair.sync))
    source = ctx.source
    function = pair.async_
    body_indent = source.indentation(function.body[0]) if function.body[0].lineno != function.lineno else None
    if body_indent is None:
        body_indent = (source.indentation(function) or "") + source.indent_step(function)
    own = _docstring(function)
    body = f"{body_indent}return await {wrapper_name(ctx)}({callee})({call})"
    if own is not None:
        body = _line_text(source, own) + body  # the async twin keeps its docstring
    # `async def ax`, the sync twin's parameters, the async twin's own return annotation.
    returns = f" -> {ctx.text(function.returns)}" if function.returns is not None else ""
    text = f"async def {function.name}{parameters}{returns}:{source.newline}{body}"
    return [Edit(source.start(function), source.end(function), text), *imports]


def _agrees(ctx: Context, pair: twins.TwinPair, edits: list[Edit]) -> bool:
    """The pair, read again from the fixed text, agrees."""
    text = apply_edits(ctx.source.text, sorted(set(edits)))
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return False
    source = SourceFile(ctx.source.path, text)
    module, is_package = module_name_for(ctx.source.path)
    file_twins = twins.FileTwins(source, tree, import_bindings(tree, module, is_package), ctx.twins)
    for candidate in file_twins.pairs:
        if candidate.path == pair.path and candidate.names == pair.names:
            return file_twins.comparison(candidate).verdict in (twins.EQUAL, twins.DELEGATING)
    return False
