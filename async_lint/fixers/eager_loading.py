"""Loading a relation with the query instead of lazily: add the path to the query's
`select_related(...)` / `prefetch_related(...)` (or `only(...)`), or append one.  When no query
in the function can be changed, read the relation in a thread instead."""

from __future__ import annotations

import ast
import io
import re
import tokenize

from ..context import Context
from ..diagnostics import Applicability, Edit, Fix
from ..semantic import Instance
from .expressions import can_await_here, replace_expression
from .imports import is_builtin
from .sync_to_async import import_edits, wrapper_name


def in_function(ctx: Context, node: ast.AST | None) -> bool:
    """Whether `node` is code of the function being checked (so changing it is local)."""
    if node is None or ctx.scope is None:
        return False
    scope = ctx.scope.node
    return ctx.source.start(scope) <= ctx.source.start(node) and ctx.source.end(node) <= ctx.source.end(scope)


def add_lookup(
    ctx: Context, instance: Instance, method: str, path: str, existing: ast.Call | None, *, whole: bool = False
) -> Fix | None:
    """Extend `existing` (a `select_related(...)`-like call of the query) with `path`, or append
    `.method("path")` to the query expression the instance was fetched from.  `whole`: the
    append rewrites the whole query expression, so that it overlaps (and is applied in another
    round than) a fix that rewrites that expression too."""
    if existing is not None and in_function(ctx, existing) and existing.args:
        quote = _string_quote(ctx, existing.args[-1])
        end = ctx.source.end(existing.args[-1])
        return Fix(f"Add {quote}{path}{quote} to `{method}()`", (Edit(end, end, f", {quote}{path}{quote}"),))
    if instance.source is None or not in_function(ctx, instance.source):
        return None
    end = ctx.source.end(instance.source)
    quote = _free_quote(ctx, end)
    if quote is None:
        return None
    call = f".{method}({quote}{path}{quote})"
    if whole:
        start = ctx.source.start(instance.source)
        return Fix(f'Load it with `.{method}("{path}")`', (Edit(start, end, ctx.text(instance.source) + call),))
    return Fix(f'Load it with `.{method}("{path}")`', (Edit(end, end, call),))


def _string_quote(ctx: Context, node: ast.expr) -> str:
    text = ctx.text(node)
    return "'" if text[-1:] == "'" else '"'


def _free_quote(ctx: Context, offset: int) -> str | None:
    """A quote for a string literal written at `offset` in the function: before Python 3.12, an
    f-string cannot hold its own quote in its expressions (a triple-quoted one can)."""
    taken: set[str] = set()
    for node in ast.walk(ctx.scope.node):
        if isinstance(node, ast.JoinedStr) and ctx.source.start(node) < offset < ctx.source.end(node):
            taken |= _single_quotes(ctx.text(node))
    return next((quote for quote in ('"', "'") if quote not in taken), None)


_STRING_STARTS = {tokenize.STRING, getattr(tokenize, "FSTRING_START", tokenize.STRING)}
_DELIMITER = re.compile(r"[a-zA-Z]*('''|\"\"\"|'|\")")


def _single_quotes(fstring: str) -> set[str]:
    """The quote characters of the f-string's parts that are not triple-quoted."""
    quotes = set()
    try:
        for token in tokenize.generate_tokens(io.StringIO(f"({fstring})").readline):
            # Python 3.12+ tokenizes an f-string into parts, opened by FSTRING_START (PEP 701).
            if token.type in _STRING_STARTS:
                delimiter = _DELIMITER.match(token.string).group(1)
                quotes.update(delimiter if len(delimiter) == 1 else ())
    except (tokenize.TokenError, SyntaxError):
        return {'"', "'"}
    return quotes


def read_in_thread(ctx: Context, attribute: ast.Attribute) -> Fix | None:
    """`obj.rel` → `await sync_to_async(getattr)(obj, "rel")`: the same read, in Django's thread."""
    imports = import_edits(ctx)
    if imports is None or not is_builtin(ctx, "getattr") or not can_await_here(ctx, attribute):
        return None
    quote = _free_quote(ctx, ctx.source.start(attribute))
    if quote is None:
        return None
    text = f"await {wrapper_name(ctx)}(getattr)({ctx.text(attribute.value)}, {quote}{attribute.attr}{quote})"
    edit = replace_expression(ctx, attribute, text, awaits=True)
    return Fix("Read it with `await sync_to_async(getattr)(…)`", tuple(sorted((edit, *imports))), Applicability.UNSAFE)
