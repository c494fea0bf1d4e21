"""The project helpers a migrated function calls, given async twins of their own.

When the migrated function calls a sync helper of the project that queries (what ASL117
reports), the helper's `async def a<name>()` is written beside it — its body made async the way
the function's is — and the call becomes `await a<name>(...)`; the sync helper stays for its
other callers.  A helper is followed across modules (the twin is imported where the call is),
and its own helpers in turn, up to MAX_DEPTH calls away (a helper already given its twin in
this run is awaited as it is, which ends recursion).  A helper whose body does not translate
completely, or that is decorated, keeps the `await sync_to_async(helper)(...)` of ASL117's fix.
An `a<name>` that exists already is used as it is.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from typing import Callable

from .diagnostics import Diagnostic
from .imports import module_name_for
from .source import SourceFile

MAX_DEPTH = 5  # calls away; a cycle ends at the twin written first
HELPER_CALL = "ASL117"


@dataclass
class Files:
    """The texts of the files a migration changes, in memory until all of it succeeded."""

    read: Callable[[str], SourceFile | None]
    module_paths: dict[str, str]
    texts: dict[str, str] = field(default_factory=dict)
    sources: dict[str, SourceFile] = field(default_factory=dict)

    def text(self, path: str) -> str | None:
        if path not in self.texts:
            source = self.read(path)
            if source is None:
                return None
            self.sources[path], self.texts[path] = source, source.text
        return self.texts[path]


def helper_calls(tree: ast.Module, function: ast.AST, findings: list[Diagnostic], source: SourceFile) -> dict[str, list[ast.Call]]:
    """The calls of plain names in `function` that ASL117 reports, by the name called."""
    starts = {d.start for d in findings if d.code == HELPER_CALL}
    found: dict[str, list[ast.Call]] = {}
    for node in ast.walk(function):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and source.start(node) in starts:
            found.setdefault(node.func.id, []).append(node)
    return found


def helper_location(files: Files, path: str, tree: ast.Module, name: str) -> tuple[str, str, str | None] | None:
    """(file, function name, module to import the twin from or None) of the helper `name`
    called in `path`: a module-level function of that file, or one imported from a project
    module by `from module import function [as name]`."""
    for statement in tree.body:
        if isinstance(statement, ast.FunctionDef) and statement.name == name:
            return path, name, None
    module, is_package = module_name_for(path)
    for statement in tree.body:
        if isinstance(statement, ast.ImportFrom) and statement.module:
            for alias in statement.names:
                if (alias.asname or alias.name) == name:
                    base = statement.module
                    if statement.level:
                        parts = module.split(".")[: len(module.split(".")) - statement.level + (1 if is_package else 0)]
                        base = ".".join([*parts, statement.module])
                    target = files.module_paths.get(base)
                    return (target, alias.name, base) if target else None
    return None


def twin_source(text: str, source: SourceFile, helper: ast.FunctionDef, twin: str) -> str | None:
    """The text with `async def <twin>` written after the sync `helper`, a copy of it; None for a
    decorated helper (what its decorator does to an async function is not known)."""
    if helper.decorator_list:
        return None
    start = source.line_starts[helper.lineno - 1]
    end = source.line_starts[helper.end_lineno] if helper.end_lineno < len(source.line_starts) else len(text)
    copy = text[start:end]
    header = f"def {helper.name}("
    if header not in copy:
        return None
    copy = copy.replace(header, f"async def {twin}(", 1)
    if not copy.endswith(("\n", "\r")):
        copy += source.newline
    return text[:end] + source.newline + source.newline + copy + text[end:]


def awaited_calls(text: str, source: SourceFile, calls: list[ast.Call], parents: dict[int, ast.AST], twin: str) -> str:
    """Each call `helper(...)` rewritten `await <twin>(...)`, in parentheses where the call is an
    operand (`helper(x).pages` → `(await twin(x)).pages`)."""
    for call in sorted(calls, key=lambda c: source.start(c), reverse=True):
        start, end = source.start(call), source.end(call)
        func_end = source.end(call.func)
        parent = parents.get(id(call))
        operand = isinstance(parent, (ast.Attribute, ast.Subscript)) or (isinstance(parent, ast.Call) and parent.func is call)
        rewritten = f"await {twin}{text[func_end:end]}"
        text = text[:start] + (f"({rewritten})" if operand else rewritten) + text[end:]
    return text

