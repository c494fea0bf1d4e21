"""`async-lint migrate FILE::NAME [...]`: a sync function or method made async, with the sync
Django calls in it rewritten to the async API of the target version.

NAME is a module-level function or `Class.method`.  Its `def` becomes `async def`, and then the
fixes of the event-loop rules (ASL1, ASL2: `await ….aget()`, `async for`, `select_related`, and
`await sync_to_async(…)(…)` where Django has no async form or a project helper is sync) are
applied inside it, round after round, unsafe ones included: the function is meant to change.
What no fix can turn async (a finding without a fix) makes the migration refuse, naming the line
and why; the file is then left as it was.  Sync call sites
of the migrated function in the project, which now get a coroutine, are listed.

A `with transaction.atomic():` block (with its `select_for_update()`) is moved into a sync inner
function run with `await sync_to_async(...)()` (migrate_blocks.py).  The helpers a function
calls are run through `sync_to_async` rather than given async twins of their own.
"""

from __future__ import annotations

import ast
import difflib
import os
from dataclasses import dataclass, field

from .diagnostics import Diagnostic
from .discovery import discover
from .engine import Dispatch, lint_source, parse
from .context import Context
from .fixers.imports import ensure_import
from .fixes import FixProducedInvalidCode, apply_edits, fix_text
from .imports import module_name_for
from .migrate_blocks import move_atomic_blocks
from .project_setup import Project, ProjectModel
from .rules import RULES
from .runner import write_atomic
from .semantic import FileModel
from .source import SourceFile, UnreadableSource

# What runs on the event loop once the function is async: the event-loop rules' families.
_FAMILIES = ("ASL1", "ASL2")


class MigrationError(Exception):
    """A migration that cannot be done (the message says where and why); nothing is written."""


@dataclass
class Migrated:
    source: SourceFile  # as read: its encoding and line endings are written back
    name: str
    after: str
    callers: list[str] = field(default_factory=list)  # "path:line" of sync call sites

    @property
    def path(self) -> str:
        return self.source.path


def parse_target(spec: str) -> tuple[str, str]:
    path, separator, name = spec.rpartition("::")
    if not separator or not path or not name:
        raise MigrationError(f"expected FILE::NAME (a function or Class.method), got {spec!r}")
    return path, name


def migrate(project: Project, spec: str) -> Migrated:
    path, name = parse_target(spec)
    try:
        with open(path, "rb") as handle:
            source = SourceFile.from_bytes(os.path.abspath(path), handle.read())
    except (OSError, UnreadableSource) as error:
        raise MigrationError(f"{path}: cannot read: {getattr(error, 'strerror', None) or error}") from None
    tree = parse(source)
    if not isinstance(tree, ast.Module):
        raise MigrationError(f"{path}: does not parse: {tree}")
    function = find_function(tree, name)
    if function is None:
        raise MigrationError(f"{path}: no function or method `{name}`")
    if isinstance(function, ast.AsyncFunctionDef):
        raise MigrationError(f"{path}:{function.lineno}: `{name}` is already async")
    config = project.config
    model = ProjectModel.of_files(discover([str(config.root)], config), config.twins.patterns)
    enabled = frozenset(code for code in project.enabled if code.startswith(_FAMILIES))
    settings = project.settings(enabled)
    dispatch = Dispatch(enabled, RULES)
    functions = model.functions(project.target, dispatch)

    start = source.start(function)
    made_async = SourceFile(source.path, source.text[:start] + "async " + source.text[start:], source.encoding)
    text = _blocks_in_threads(made_async, name, model, functions, project)

    def lint(current: str) -> list[Diagnostic]:
        edited = SourceFile(source.path, current, source.encoding)
        found = lint_source(edited, model.index, settings, dispatch, functions=functions)
        span = _span(edited, name)
        return [d for d in found if span is not None and span[0] <= d.start < span[1]]

    try:
        fixed, _, remaining = fix_text(text, lint, unsafe=True)
    except FixProducedInvalidCode:
        raise MigrationError(f"{path}: a fix produced code that does not parse; nothing was written") from None
    if remaining:
        edited = SourceFile(source.path, fixed, source.encoding)
        lines = [f"{path}:{edited.row_col(d.start)[0]}: {d.code} {d.message}" for d in remaining]
        raise MigrationError(
            f"`{name}` cannot be made async completely; nothing was written:\n  " + "\n  ".join(lines)
        )
    return Migrated(source, name, fixed, _sync_callers(model, source, name))


def _blocks_in_threads(source: SourceFile, name: str, model: ProjectModel, functions, project: Project) -> str:
    """The atomic blocks of the function moved into sync inner functions run in a thread (see
    migrate_blocks), with `sync_to_async` imported as the fixes import it; the text unchanged
    when there is none."""
    tree = parse(source)
    function = find_function(tree, name) if isinstance(tree, ast.Module) else None
    moved = move_atomic_blocks(source, function) if isinstance(function, ast.AsyncFunctionDef) else None
    if moved is None:
        return source.text
    moved_source = SourceFile(source.path, moved, source.encoding)
    moved_tree = parse(moved_source)
    if not isinstance(moved_tree, ast.Module):
        return source.text
    module, is_package = module_name_for(source.path)
    file = FileModel(moved_tree, module, is_package, model.index, functions, moved)
    edits = ensure_import(Context(moved_source, file, project.target, None, functions=functions), "asgiref.sync", "sync_to_async")
    return apply_edits(moved, list(edits)) if edits else moved


def find_function(tree: ast.Module, name: str) -> ast.FunctionDef | ast.AsyncFunctionDef | None:
    owner, _, function = name.rpartition(".")
    body: list[ast.stmt] = tree.body
    if owner:
        cls = next((s for s in tree.body if isinstance(s, ast.ClassDef) and s.name == owner), None)
        if cls is None:
            return None
        body = cls.body
    return next((s for s in body if isinstance(s, (ast.FunctionDef, ast.AsyncFunctionDef)) and s.name == function), None)


def _span(source: SourceFile, name: str) -> tuple[int, int] | None:
    tree = parse(source)
    function = find_function(tree, name) if isinstance(tree, ast.Module) else None
    return (source.start(function), source.end(function)) if function is not None else None


def _sync_callers(model: ProjectModel, migrated_source: SourceFile, name: str) -> list[str]:
    """`path:line` of the project's calls of the function made in sync code or not awaited: of a
    module-level function, `name(...)` or `module.name(...)` anywhere in the project; of a
    method, `self.name(...)` in its class (other receivers cannot be told apart by name)."""
    owner, _, function = name.rpartition(".")
    if owner:
        tree = parse(migrated_source)
        cls = next((s for s in tree.body if isinstance(s, ast.ClassDef) and s.name == owner), None) if isinstance(tree, ast.Module) else None
        if cls is None:
            return []
        return [
            f"{os.path.relpath(migrated_source.path)}:{node.lineno}"
            for node in _unawaited_calls(cls, function, receiver="self")
        ]
    found = []
    for path in sorted(model.module_paths.values()):
        source = model.read(path)
        if source is None or f"{function}(" not in source.text:
            continue
        tree = parse(source)
        if not isinstance(tree, ast.Module):
            continue
        for node in _unawaited_calls(tree, function):
            found.append(f"{os.path.relpath(path)}:{node.lineno}")
    return found


def _unawaited_calls(tree: ast.AST, name: str, receiver: str | None = None):
    awaited = {id(n.value) for n in ast.walk(tree) if isinstance(n, ast.Await)}
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and id(node) not in awaited:
            func = node.func
            if receiver is not None:
                called = func.attr if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and func.value.id == receiver else None
            else:
                called = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) else None
            if called == name:
                yield node


def diff(migrated: Migrated) -> str:
    shown = os.path.relpath(migrated.path)
    lines = difflib.unified_diff(
        migrated.source.text.splitlines(keepends=True), migrated.after.splitlines(keepends=True), f"a/{shown}", f"b/{shown}"
    )
    return "".join(lines)


def write(migrated: Migrated) -> None:
    write_atomic(migrated.path, migrated.source.to_bytes(migrated.after))
