"""Replacing an expression with an `await` (or `not await`) form without changing how the
surrounding code parses."""

from __future__ import annotations

import ast

from ..context import Context
from ..diagnostics import Applicability, Edit
from ..fixes import parses

# Parents in which an `await x` operand must be parenthesised: `(await x).attr`, `(await x)[0]`,
# `(await x)()`.
_PRIMARY_PARENTS = (ast.Attribute, ast.Subscript, ast.Call)
# `not …` binds more loosely than these.
_NOT_NEEDS_PARENS = (ast.BinOp, ast.UnaryOp, ast.Compare, ast.Await)


def _is_primary_operand(node: ast.AST, parent: ast.AST | None) -> bool:
    return (
        (isinstance(parent, ast.Attribute) and parent.value is node)
        or (isinstance(parent, ast.Subscript) and parent.value is node)
        or (isinstance(parent, ast.Call) and parent.func is node)
    )


def needs_parentheses(node: ast.AST, parent: ast.AST | None, *, negated: bool = False) -> bool:
    if _is_primary_operand(node, parent):
        return True
    if negated and isinstance(parent, _NOT_NEEDS_PARENS):
        return not (isinstance(parent, ast.UnaryOp) and isinstance(parent.op, ast.Not))
    return False


def is_awaited(node: ast.AST, parent: ast.AST | None) -> bool:
    """`await node` already: the code awaits a sync call by mistake, and the fix must not add a
    second `await` (`await await x` does not parse)."""
    return isinstance(parent, ast.Await) and parent.value is node


# Expressions that take `.attr`, `[…]` or `(…)` after them as they are written.
_PRIMARIES = (
    ast.Name, ast.Attribute, ast.Call, ast.Subscript, ast.List, ast.Tuple, ast.Dict, ast.Set,
    ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp, ast.JoinedStr,
)


def operand(ctx: Context, node: ast.expr, text: str | None = None) -> str:
    """The node's text (or `text`, a rewrite of it), to be written as the receiver of
    `.method()` or after `for … in`, outside the brackets it stood in: parenthesised unless it is
    a primary on one logical line (`(y := qs).acount()`, and `Book.objects\\n.all()` taken out
    of `len(…)`)."""
    text = ctx.text(node) if text is None else text
    if isinstance(node, _PRIMARIES) and _one_logical_line(text):
        return text
    return f"({text})"


def argument(ctx: Context, node: ast.expr) -> str:
    """The node's text as one argument of a call: `session[k] = a, b` → `aset(k, (a, b))`."""
    text = ctx.text(node)
    return f"({text})" if isinstance(node, (ast.Tuple, ast.Yield, ast.YieldFrom)) else text


def _one_logical_line(text: str) -> bool:
    return ("\n" not in text and "\r" not in text) or parses(text, mode="eval")


def already_parenthesised(ctx: Context, node: ast.AST) -> bool:
    before = ctx.source.text[: ctx.source.start(node)].rstrip()
    after = ctx.source.text[ctx.source.end(node) :].lstrip()
    return before.endswith("(") and after.startswith(")") and not isinstance(
        ctx.parent, ast.Call
    )


_COMPREHENSIONS = (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)


def can_await_here(ctx: Context, node: ast.AST, *, comprehension: bool = False) -> bool:
    """Whether `node` can become `await node` (or an `async for`), or with `comprehension` an
    async comprehension.  Not inside a generator expression: it would become an async generator,
    which breaks whatever consumes it.  Not making a comprehension async inside one that is not:
    Python 3.10 refuses that ("asynchronous comprehension outside of an asynchronous function")."""
    scopes = _comprehensions_around(ctx.parents, node)
    if any(isinstance(scope, ast.GeneratorExp) for scope in scopes):
        return False
    # The comprehension that becomes async (the innermost, or the one written at `node`) must be
    # directly in the function or in an async comprehension.
    enclosing = scopes[-1:] if comprehension else scopes[-2:-1]
    return not enclosing or _is_async_comprehension(enclosing[0])


def _comprehensions_around(parents: tuple[ast.AST, ...], node: ast.AST) -> list[ast.expr]:
    """The comprehensions whose own code holds `node`, outermost first; a comprehension's first
    iterable is evaluated outside it."""
    scopes = []
    for position, parent in enumerate(parents):
        if isinstance(parent, _COMPREHENSIONS):
            child = parents[position + 1] if position + 1 < len(parents) else node
            first = parent.generators[0]
            if child is not first or not _contains(first.iter, node):
                scopes.append(parent)
    return scopes


def _is_async_comprehension(comprehension: ast.expr) -> bool:
    """An `async for` or an `await` in the comprehension's own code (not in a nested one)."""
    if any(generator.is_async for generator in comprehension.generators):
        return True
    first, *others = comprehension.generators
    parts = (getattr(comprehension, name, None) for name in ("elt", "key", "value"))
    stack = [*(part for part in parts if part is not None), first.target, *first.ifs, *others]
    while stack:
        current = stack.pop()
        if isinstance(current, ast.Await):
            return True
        if isinstance(current, _COMPREHENSIONS):
            stack.append(current.generators[0].iter)  # evaluated in the enclosing comprehension
        elif not isinstance(current, (ast.Lambda, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            stack.extend(ast.iter_child_nodes(current))
    return False


def _contains(tree: ast.AST, node: ast.AST) -> bool:
    return any(n is node for n in ast.walk(tree))


def prefix_await(ctx: Context, node: ast.AST, *, negated: bool = False) -> list[Edit]:
    """Edits that turn `node` into `await node` (or `not await node`), parenthesised as needed."""
    if is_awaited(node, ctx.parent) and not negated:
        return []
    keyword = "not await " if negated else "await "
    start, end = ctx.source.start(node), ctx.source.end(node)
    if needs_parentheses(node, ctx.parent, negated=negated) and not already_parenthesised(ctx, node):
        return [Edit(start, start, f"({keyword}"), Edit(end, end, ")")]
    return [Edit(start, start, keyword)]


def replace_expression(ctx: Context, node: ast.AST, text: str, *, awaits: bool, negated: bool = False) -> Edit:
    """Replace `node` with `text` (an `await …` or `not await …` expression when `awaits`)."""
    if awaits and not negated and is_awaited(node, ctx.parent):
        text = text.removeprefix("await ")
    if awaits and needs_parentheses(node, ctx.parent, negated=negated) and not already_parenthesised(ctx, node):
        text = f"({text})"
    return Edit(ctx.source.start(node), ctx.source.end(node), text)


def rename_attribute(ctx: Context, attribute: ast.Attribute, new_name: str) -> Edit:
    end = ctx.source.end(attribute)
    if getattr(attribute, "from_getattr", False):
        # `getattr(qs, "count")` becomes `qs.acount` (a default given for a missing method
        # has no use once the method is named).
        return Edit(ctx.source.start(attribute), end, f"{ctx.text(attribute.value)}.{new_name}")
    return Edit(end - len(attribute.attr), end, new_name)


_EFFECTS = (ast.Call, ast.Await, ast.Yield, ast.YieldFrom, ast.NamedExpr)


def order_free(first: ast.expr, second: ast.expr) -> bool:
    """Whether evaluating the two expressions the other way round changes nothing: one is a
    literal or a variable, or neither calls anything (a call is assumed not to rebind a variable)."""
    if isinstance(first, (ast.Constant, ast.Name)) or isinstance(second, (ast.Constant, ast.Name)):
        return True
    return not any(isinstance(node, _EFFECTS) for side in (first, second) for node in ast.walk(side))


def membership_applicability(compare: ast.Compare) -> Applicability:
    """`x in c` evaluates `x` first, `await c.method(x)` the container."""
    return Applicability.SAFE if order_free(compare.left, compare.comparators[0]) else Applicability.UNSAFE


def membership_edit(ctx: Context, compare: ast.Compare, method: str) -> Edit:
    """`x in c` → `await c.method(x)`, `x not in c` → `not await c.method(x)`."""
    negated = isinstance(compare.ops[0], ast.NotIn)
    container = operand(ctx, compare.comparators[0])
    text = f"{'not ' if negated else ''}await {container}.{method}({ctx.text(compare.left)})"
    return replace_expression(ctx, compare, text, awaits=True, negated=negated)
