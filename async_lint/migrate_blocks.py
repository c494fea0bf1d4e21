"""Blocks of a migrated function that must stay sync: a `with transaction.atomic():` block (the
transaction, `select_for_update()` in it, every query of it on one connection, in one thread)
becomes a sync inner function run with `await sync_to_async(...)()`, as Django's own async code
does it (the `db` session backend's `asave()`).  The names the block assigns that the function
reads afterwards are returned from it.

A block that returns, yields, breaks out of an enclosing loop, declares `global`/`nonlocal`, or
holds a string running over several lines (re-indenting it would change the string) is not
moved: the migration then refuses, as for any finding without a fix.
"""

from __future__ import annotations

import ast
import io
import tokenize

from .semantic import iter_scope_nodes
from .source import SourceFile

_ATOMIC = ("transaction.atomic", "atomic", "django.db.transaction.atomic")
_STOPPERS = (ast.Return, ast.Yield, ast.YieldFrom, ast.Await, ast.AsyncFor, ast.AsyncWith, ast.Global, ast.Nonlocal)


def move_atomic_blocks(source: SourceFile, function: ast.AsyncFunctionDef) -> str | None:
    """The text with each atomic block of `function` (not nested in another) run in a thread;
    None when there is none, or one cannot be moved."""
    blocks = [s for s in _own_statements(function.body) if isinstance(s, ast.With) and _is_atomic(s)]
    if not blocks:
        return None
    text = source.text
    step = source.indent_step(function)
    # From the last block up, so that earlier offsets stay right.
    for number, block in reversed(list(enumerate(blocks, 1))):
        replacement = _moved(source, function, block, step, f"_atomic_block_{number}" if len(blocks) > 1 else "_atomic_block")
        if replacement is None:
            return None
        start = source.line_starts[block.lineno - 1]
        end = source.line_starts[block.end_lineno] if block.end_lineno < len(source.line_starts) else len(source.text)
        text = text[:start] + replacement + text[end:]
    return text


def _own_statements(body: list[ast.stmt]):
    """Statements of a body, nested blocks included, nested functions and classes not."""
    for statement in body:
        yield statement
        if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.With)):
            continue  # an atomic block's own inner blocks go with it
        for name in ("body", "orelse", "finalbody"):
            yield from _own_statements(getattr(statement, name, []) or [])
        for handler in getattr(statement, "handlers", []) or []:
            yield from _own_statements(handler.body)


def _is_atomic(statement: ast.With) -> bool:
    return any(
        isinstance(item.context_expr, ast.Call) and ast.unparse(item.context_expr.func) in _ATOMIC
        for item in statement.items
    )


def _moved(source: SourceFile, function, block: ast.With, step: str, name: str) -> str | None:
    if any(isinstance(n, _STOPPERS) for n in iter_scope_nodes([block])) or _loose_jump(block):
        return None
    lines = source.text[source.line_starts[block.lineno - 1] : _line_end(source, block.end_lineno)]
    if _multiline_strings(lines):
        return None
    indent = source.indentation(block)
    if indent is None:
        return None
    assigned = {n.id for n in iter_scope_nodes([block]) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
    read_after = {
        n.id for n in ast.walk(function)
        if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load) and n.lineno > block.end_lineno
    }
    returned = sorted(assigned & read_after)
    newline = source.newline
    body = "".join(f"{step}{line}" if line.strip() else line for line in io.StringIO(lines, newline="").readlines())
    if not body.endswith(("\n", "\r")):
        body += newline
    text = f"{indent}def {name}():{newline}{body}"
    call = f"await sync_to_async({name})()"
    if returned:
        text += f"{indent}{step}return {', '.join(returned)}{newline}"
        targets = returned[0] if len(returned) == 1 else ", ".join(returned)
        text += f"{indent}{targets} = {call}{newline}"
    else:
        text += f"{indent}{call}{newline}"
    return text


def _loose_jump(block: ast.With) -> bool:
    """A `break`/`continue` that leaves the block (no loop of its own around it)."""
    def visit(node, in_loop):
        if isinstance(node, (ast.Break, ast.Continue)) and not in_loop:
            return True
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)):
            return False
        inner = in_loop or isinstance(node, (ast.For, ast.While))
        return any(visit(child, inner) for child in ast.iter_child_nodes(node))
    return any(visit(child, False) for child in block.body)


def _line_end(source: SourceFile, row: int) -> int:
    return source.line_starts[row] if row < len(source.line_starts) else len(source.text)


def _multiline_strings(text: str) -> bool:
    try:
        return any(
            t.type == tokenize.STRING and t.start[0] != t.end[0]
            for t in tokenize.generate_tokens(io.StringIO(text.lstrip()).readline)
        )
    except (tokenize.TokenError, SyntaxError, IndentationError):
        return True
