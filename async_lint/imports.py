"""Module names and import bindings: turning `models.Model` into `django.db.models.Model`."""

from __future__ import annotations

import ast
import os
from functools import lru_cache
from typing import Iterator


@lru_cache(maxsize=4096)
def _package_parts(directory: str) -> tuple[str, ...]:
    if not os.path.isfile(os.path.join(directory, "__init__.py")):
        return ()
    parent = os.path.dirname(directory)
    if parent == directory:
        return ()
    return (*_package_parts(parent), os.path.basename(directory))


@lru_cache(maxsize=65536)
def module_name_for(path: str) -> tuple[str, bool]:
    """The dotted module name of a file, found by walking up through `__init__.py` packages,
    and whether the file is itself a package (`__init__.py`)."""
    path = os.path.abspath(path)
    directory, filename = os.path.split(path)
    stem = os.path.splitext(filename)[0]
    package = _package_parts(directory)
    if stem == "__init__":
        return ".".join(package) or stem, True
    return ".".join((*package, stem)), False


def resolve_relative(module: str, is_package: bool, level: int, target: str | None) -> str:
    if level == 0:
        return target or ""
    parts = module.split(".")
    if not is_package:
        parts = parts[:-1]
    if level > 1:
        parts = parts[: len(parts) - (level - 1)]
    return ".".join(p for p in (*parts, target) if p)


def _import_statements(body: list[ast.stmt]):
    """Imports at module level, including those under `if`/`try` (TYPE_CHECKING, fallbacks)."""
    for stmt in body:
        if isinstance(stmt, (ast.Import, ast.ImportFrom)):
            yield stmt
        elif isinstance(stmt, ast.If):
            yield from _import_statements(stmt.body)
            yield from _import_statements(stmt.orelse)
        elif isinstance(stmt, ast.Try):
            for block in (stmt.body, stmt.orelse, stmt.finalbody, *(h.body for h in stmt.handlers)):
                yield from _import_statements(block)


def bound_by(stmt: ast.Import | ast.ImportFrom, source: str | None = None) -> Iterator[tuple[str, str]]:
    """(name, qualified name) for each name an import statement binds.  `source` is the module a
    `from` import reads from, already resolved when it is relative (default: `stmt.module`)."""
    if isinstance(stmt, ast.Import):
        for alias in stmt.names:
            if alias.asname:
                yield alias.asname, alias.name
            else:
                top = alias.name.split(".")[0]
                yield top, top
        return
    source = source or stmt.module
    for alias in stmt.names:
        if alias.name != "*":
            yield alias.asname or alias.name, f"{source}.{alias.name}"


def names_bound(stmt: ast.Import | ast.ImportFrom, module: str, is_package: bool) -> Iterator[tuple[str, str]]:
    """`bound_by` for a statement of `module`, its relative imports resolved."""
    source = resolve_relative(module, is_package, stmt.level, stmt.module) if isinstance(stmt, ast.ImportFrom) else None
    return bound_by(stmt, source)


def import_bindings(tree: ast.Module, module: str, is_package: bool) -> dict[str, str]:
    """Names bound by module-level imports, mapped to the qualified name they refer to."""
    bindings: dict[str, str] = {}
    for stmt in _import_statements(tree.body):
        bindings.update(names_bound(stmt, module, is_package))
    return bindings


def dotted_name(node: ast.expr) -> str | None:
    """`a.b.c` for a chain of attribute reads on a name, else None."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    parts.append(node.id)
    return ".".join(reversed(parts))


def qualify(node: ast.expr, bindings: dict[str, str]) -> str | None:
    """The qualified name an expression refers to through the module's imports, if any."""
    name = dotted_name(node)
    if name is None:
        return None
    head, _, rest = name.partition(".")
    bound = bindings.get(head)
    if bound is None:
        return None
    return f"{bound}.{rest}" if rest else bound
