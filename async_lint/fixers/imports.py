"""Making a name importable: reuse an existing import, extend a `from module import …`, or add
one line after the file's leading imports."""

from __future__ import annotations

import ast
import sys

from ..context import Context
from ..diagnostics import Edit
from ..source import SourceFile


def is_builtin(ctx: Context, name: str) -> bool:
    """`name` refers to the builtin: nothing in the file shadows it."""
    file = ctx.file
    return not shadowed(ctx, name) and not any(
        name in names
        for names in (file.imports, file.module_functions, file.module_classes, file.module_assignments)
    )


def shadowed(ctx: Context, name: str) -> bool:
    """Whether `name`, written where the fix writes it, means a local of the function (or of
    an enclosing one) instead of what the module binds."""
    return ctx.scope is not None and ctx.scope.binds(name)


def ensure_import(ctx: Context, module: str, name: str) -> tuple[Edit, ...] | None:
    """Edits that bind `name` to `module.name` at module level; () when it already is, None
    when the name is taken by something else (then no fix is offered)."""
    if shadowed(ctx, name):
        return None
    qualname = f"{module}.{name}"
    bound = ctx.file.imports.get(name)
    if bound == qualname:
        return ()
    if bound is not None or name in ctx.file.module_functions or name in ctx.file.module_classes:
        return None
    source = ctx.source
    for stmt in ctx.file.tree.body:
        # A star import binds names the analysis cannot see (it would report the fixed call
        # again): the name is imported explicitly.
        if isinstance(stmt, ast.ImportFrom) and stmt.module == module and stmt.level == 0 and stmt.names[0].name != "*":
            last = stmt.names[-1]
            end = source.offset(last.end_lineno, last.end_col_offset)
            return (Edit(end, end, f", {name}"),)
    return _new_import(ctx, f"from {module} import {name}")


def ensure_module_import(ctx: Context, module: str) -> tuple[str, tuple[Edit, ...]] | None:
    """The name `module` is bound to (`import asyncio`), with the edits that add the import when
    the file lacks it; None when the name is taken by something else."""
    alias = ctx.file.alias_of(module)
    if alias is not None:
        return (alias, ()) if not shadowed(ctx, alias) else None
    file = ctx.file
    if module in file.imports or module in file.module_functions or module in file.module_classes or shadowed(ctx, module):
        return None
    return module, _new_import(ctx, f"import {module}")


def _new_import(ctx: Context, statement: str) -> tuple[Edit, ...]:
    """A third-party import (asgiref's, for every fix): after the file's last third-party
    import; else in a block of its own before the first-party imports; else one line after the
    file's leading docstring and imports."""
    source = ctx.source
    line = f"{statement}{source.newline}"
    leading = [s for s in _leading_statements(ctx.file.tree.body) if isinstance(s, (ast.Import, ast.ImportFrom))]
    sections = [(_section(ctx, stmt), stmt) for stmt in leading]
    third_party = [stmt for section, stmt in sections if section == "third-party"]
    first_party = [stmt for section, stmt in sections if section == "first-party"]
    if third_party and third_party[-1].end_lineno < len(source.line_starts):
        offset = source.line_starts[third_party[-1].end_lineno]
        if source.text[offset - 1 : offset] in ("\n", "\r"):
            return (Edit(offset, offset, line),)
    if first_party and not third_party:
        offset = source.line_starts[first_party[0].lineno - 1]
        return (Edit(offset, offset, line + source.newline),)
    anchor = _leading_import_block_end(ctx.file.tree.body)
    if anchor is None:
        # The file's first import: set off from the code below as isort does (two blank lines
        # before a class or function, one before other code).
        offset = _after_leading_comments(source)
        body = ctx.file.tree.body
        definition = body and isinstance(body[0], (ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))
        return (Edit(offset, offset, line + source.newline * (2 if definition else 1 if body else 0)),)
    if anchor.end_lineno < len(source.line_starts):
        offset = source.line_starts[anchor.end_lineno]
        if source.text[offset - 1 : offset] in ("\n", "\r"):
            return (Edit(offset, offset, line),)
    end = len(source.text)
    return (Edit(end, end, source.newline + statement),)


def _after_leading_comments(source: SourceFile) -> int:
    """Where the file's leading comment lines end: a shebang and an encoding declaration must
    stay on the first two lines."""
    row = 0
    while row < len(source.line_starts) and source.line_text(row + 1).startswith("#"):
        row += 1
    return source.line_starts[row] if row < len(source.line_starts) else len(source.text)


def _section(ctx: Context, stmt: ast.Import | ast.ImportFrom) -> str:
    """isort's section of an import: future, standard library, first party (relative, or a
    package of the project) or third party."""
    if isinstance(stmt, ast.ImportFrom) and stmt.level:
        return "first-party"
    module = stmt.module if isinstance(stmt, ast.ImportFrom) else stmt.names[0].name
    top = (module or "").split(".")[0]
    if top == "__future__":
        return "future"
    if top in sys.stdlib_module_names:
        return "standard-library"
    project = ctx.file.functions.packages if ctx.file.functions is not None else frozenset()
    if top == ctx.file.module.split(".")[0] or top in project:
        return "first-party"
    return "third-party"


def _leading_statements(body: list[ast.stmt]) -> list[ast.stmt]:
    """The leading docstring and imports."""
    anchor = _leading_import_block_end(body)
    return body[: body.index(anchor) + 1] if anchor is not None else []


def _leading_import_block_end(body: list[ast.stmt]) -> ast.stmt | None:
    """The statement after which a new import goes: the last of the leading docstring,
    `__future__` imports and imports."""
    anchor = None
    for position, stmt in enumerate(body):
        is_docstring = (
            position == 0
            and isinstance(stmt, ast.Expr)
            and isinstance(stmt.value, ast.Constant)
            and isinstance(stmt.value.value, str)
        )
        if is_docstring or isinstance(stmt, (ast.Import, ast.ImportFrom)):
            anchor = stmt
        else:
            break
    return anchor
