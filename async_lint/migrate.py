"""`async-lint migrate FILE::NAME [...]`: a sync function or method made async, with the sync
Django calls in it rewritten to the async API of the target version.

NAME is a module-level function, `Class.method`, or a class-based view (every HTTP handler it
defines, together: Django wants them all sync or all async).  Its `def` becomes `async def`, and then the
fixes of the event-loop rules (ASL1, ASL2: `await ….aget()`, `async for`, `select_related`, and
`await sync_to_async(…)(…)` where Django has no async form) and ASL502's are applied inside it,
round after round, unsafe ones included: the function is meant to change.  A sync helper of the
project it calls gets an async twin of its own, written beside it the same way and awaited
(migrate_helpers.py); a `with transaction.atomic():` block moves into a sync inner function run
in a thread (migrate_blocks.py).  What no fix can turn async makes the migration refuse, naming
the line and why; no file is then written.  Sync call sites of the migrated function, which now
get a coroutine, are listed.
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
from .migrate_helpers import MAX_DEPTH, Files, awaited_calls, helper_calls, helper_location, twin_source
from .project_setup import Project, ProjectModel
from .rules import RULES
from .runner import write_atomic
from .semantic import FileModel, parents_of
from .source import SourceFile, UnreadableSource

# What runs on the event loop once the function is async: the event-loop rules' families, and
# ASL502 (a sync function called where its async twin exists: `await` the twin).
_FAMILIES = ("ASL1", "ASL2", "ASL502")
# The methods of a class-based view that Django calls as HTTP handlers (View.http_method_names).
_HANDLERS = ("get", "post", "put", "patch", "delete", "head", "options", "trace")


class MigrationError(Exception):
    """A migration that cannot be done (the message says where and why); nothing is written."""


@dataclass
class Migrated:
    source: SourceFile  # the migrated function's file as read
    name: str
    # Every file changed (the function's, and those of helpers given an async twin): as read
    # (its encoding and line endings are written back), and its new text.
    changes: dict[str, tuple[SourceFile, str]]
    callers: list[str] = field(default_factory=list)  # "path:line" of sync call sites
    # "path:line: `call()`" of calls the migration could not follow (methods of module-level
    # objects such as a service instance): if they query or block, they now do it on the loop.
    unfollowed: list[str] = field(default_factory=list)

    @property
    def path(self) -> str:
        return self.source.path

    @property
    def after(self) -> str:
        return self.changes[self.path][1]


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
    view = next((s for s in tree.body if isinstance(s, ast.ClassDef) and s.name == name), None)
    if view is not None:
        # A class-based view: every HTTP handler it defines, together (Django wants them all
        # async or all sync).
        names = [f"{name}.{s.name}" for s in view.body if isinstance(s, ast.FunctionDef) and s.name in _HANDLERS]
        if not names:
            raise MigrationError(f"{path}:{view.lineno}: `{name}` defines no sync HTTP handler ({', '.join(_HANDLERS)})")
    else:
        function = find_function(tree, name)
        if function is None:
            raise MigrationError(f"{path}: no function, method or class `{name}`")
        if isinstance(function, ast.AsyncFunctionDef):
            raise MigrationError(f"{path}:{function.lineno}: `{name}` is already async")
        _check_decorators(function, tree, source, path, name, project)
        names = [name]
    config = project.config
    model = ProjectModel.of_files(discover([str(config.root)], config), config.twins.patterns)
    enabled = frozenset(code for code in project.enabled if code.startswith(_FAMILIES))
    dispatch = Dispatch(enabled, RULES)
    run = _Run(project, model, project.settings(enabled), dispatch, model.functions(project.target, dispatch))
    files = Files(lambda p: source if p == source.path else model.read(p), model.module_paths)
    files.text(source.path)
    remaining: list[Diagnostic] = []
    try:
        for each in names:
            remaining += _convert(run, files, source.path, each, None, MAX_DEPTH)
    except FixProducedInvalidCode:
        raise MigrationError(f"{path}: a fix produced code that does not parse; nothing was written") from None
    remaining += _untyped_queries(files, source, names)
    if remaining:
        edited = SourceFile(source.path, files.texts[source.path], source.encoding)
        lines = [f"{path}:{edited.row_col(d.start)[0]}: {d.code} {d.message}" for d in remaining]
        raise MigrationError(
            f"`{name}` cannot be made async completely; nothing was written:\n  " + "\n  ".join(lines)
        )
    changes = {p: (files.sources[p], t) for p, t in files.texts.items() if t != files.sources[p].text}
    callers = [] if view is not None else _sync_callers(model, source, name)  # Django calls a view's handlers
    return Migrated(source, name, changes, callers, _unfollowed(run, changes))


@dataclass
class _Run:
    project: Project
    model: ProjectModel
    settings: object
    dispatch: Dispatch
    functions: object

    def findings_in(self, path: str, name: str, text: str, encoding: str) -> list[Diagnostic]:
        """The findings of the event-loop rules inside function `name` of this text."""
        edited = SourceFile(path, text, encoding)
        found = lint_source(edited, self.model.index, self.settings, self.dispatch, functions=self.functions)
        span = _span(edited, name)
        return [d for d in found if span is not None and span[0] <= d.start < span[1]]


# Stands for "no twin could be written" among a twin's remaining findings.
_NO_TWIN = [Diagnostic("ASL117", "no async twin", "", 0, 0)]


def _convert(run: _Run, files: Files, path: str, name: str, twin_of: str | None, depth: int) -> list[Diagnostic]:
    """Make function `name` of `path` async in `files` (with `twin_of`: write it as the async
    twin of that sync function); the findings left in it ([] when done)."""
    encoding = files.sources[path].encoding
    source = SourceFile(path, files.texts[path], encoding)
    tree = parse(source)
    if not isinstance(tree, ast.Module):
        return _NO_TWIN
    if twin_of is None:
        start = source.start(find_function(tree, name))
        text = source.text[:start] + "async " + source.text[start:]
    else:
        helper = find_function(tree, twin_of)
        text = twin_source(source.text, source, helper, name) if isinstance(helper, ast.FunctionDef) else None
        if text is None:
            return _NO_TWIN
    files.texts[path] = _blocks_in_threads(SourceFile(path, text, encoding), name, run.model, run.functions, run.project)
    if depth > 0:
        _helpers_made_async(run, files, path, name, depth)
    lint = lambda current: run.findings_in(path, name, current, encoding)  # noqa: E731
    fixed, _, remaining = fix_text(files.texts[path], lint, unsafe=True)
    files.texts[path] = fixed
    return remaining


def _helpers_made_async(run: _Run, files: Files, path: str, name: str, depth: int) -> None:
    """The sync project helpers `name` calls given an async twin, and awaited (see
    migrate_helpers); a helper that cannot have one is left to ASL117's fix."""
    encoding = files.sources[path].encoding
    source = SourceFile(path, files.texts[path], encoding)
    tree = parse(source)
    function = find_function(tree, name)
    findings = run.findings_in(path, name, source.text, encoding)
    for called, _ in helper_calls(tree, function, findings, source).items():
        where = helper_location(files, path, tree, called)
        if where is None or files.text(where[0]) is None:
            continue
        helper_path, helper, module = where
        twin = twin_name(helper)
        snapshot = dict(files.texts)
        existing = find_function(parse(SourceFile(helper_path, files.texts[helper_path])), twin)
        if existing is not None and not isinstance(existing, ast.AsyncFunctionDef):
            continue
        if existing is None and _convert(run, files, helper_path, twin, helper, depth - 1):
            files.texts = snapshot
            continue
        if not _call_the_twin(run, files, path, name, called, twin, module):
            files.texts = snapshot
        source = SourceFile(path, files.texts[path], encoding)
        tree = parse(source)


def _call_the_twin(run: _Run, files: Files, path: str, name: str, called: str, twin: str, module: str | None) -> bool:
    encoding = files.sources[path].encoding
    source = SourceFile(path, files.texts[path], encoding)
    tree = parse(source)
    function = find_function(tree, name)
    parents = parents_of(function)
    calls = [
        n for n in ast.walk(function)
        if isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id == called
        and not isinstance(parents.get(id(n)), ast.Await)
    ]
    text = awaited_calls(source.text, source, calls, parents, twin)
    if module is not None:
        edited = SourceFile(path, text, encoding)
        edited_tree = parse(edited)
        module_name, is_package = module_name_for(path)
        file = FileModel(edited_tree, module_name, is_package, run.model.index, run.functions, text)
        edits = ensure_import(Context(edited, file, run.project.target, None, functions=run.functions), module, twin)
        if edits is None:
            return False
        text = apply_edits(text, list(edits))
        text = _without_unused_import(text, module, called)
    files.texts[path] = text
    return True


def _without_unused_import(text: str, module: str, name: str) -> str:
    """`from module import name, aname` → `from module import aname` when nothing else in the
    file uses `name` any more (a one-line import statement only)."""
    tree = ast.parse(text)
    if any(isinstance(n, ast.Name) and n.id == name for n in ast.walk(tree)):
        return text
    for statement in tree.body:
        if isinstance(statement, ast.ImportFrom) and statement.module == module and statement.lineno == statement.end_lineno:
            kept = [a for a in statement.names if (a.asname or a.name) != name]
            if len(kept) == len(statement.names) or not kept:
                continue
            names = ", ".join(f"{a.name} as {a.asname}" if a.asname else a.name for a in kept)
            lines = text.splitlines(keepends=True)
            line = lines[statement.lineno - 1]
            ending = line[len(line.rstrip("\r\n")):]
            indent = line[: len(line) - len(line.lstrip())]
            lines[statement.lineno - 1] = f"{indent}from {'.' * statement.level}{module} import {names}{ending}"
            return "".join(lines)
    return text


# Decorators that take an async view as it is, since the version given: Django's view decorators
# since 5.0, its auth decorators since 5.1 (release notes of 5.0 and 5.1).
_ASYNC_DECORATORS = (("django.views.decorators.", (5, 0, 0)), ("django.contrib.auth.decorators.", (5, 1, 0)))


def _unfollowed(run: "_Run", changes: dict[str, tuple[SourceFile, str]]) -> list[str]:
    """Calls in the async functions the migration wrote whose target it could not read: a method
    of an object bound at module level (`_service = make_service()`, then `_service.register()`)
    that is not a project class's it can follow."""
    found = []
    for path, (original, after) in sorted(changes.items()):
        tree = ast.parse(after)
        module, is_package = module_name_for(path)
        file = FileModel(tree, module, is_package, run.model.index, run.functions, after)
        run.functions.add_file(SourceFile(path, after, original.encoding), file)
        before = ast.parse(original.text)
        was_async = {f.name for f in ast.walk(before) if isinstance(f, ast.AsyncFunctionDef)}
        objects = {
            t.id for s in tree.body if isinstance(s, (ast.Assign, ast.AnnAssign))
            for t in (s.targets if isinstance(s, ast.Assign) else [s.target]) if isinstance(t, ast.Name)
        }
        for function in ast.walk(tree):
            if not isinstance(function, ast.AsyncFunctionDef) or function.name in was_async:
                continue
            parents = parents_of(function)
            for node in ast.walk(function):
                if not isinstance(node, ast.Call) or isinstance(parents.get(id(node)), ast.Await):
                    continue
                root = node.func
                while isinstance(root, ast.Attribute):
                    root = root.value
                if isinstance(node.func, ast.Attribute) and isinstance(root, ast.Name) and root.id in objects:
                    scope = file.scope_for(function, None, None)
                    if not _in_sync_function(node, function, parents) and run.functions.resolve(node.func, file, scope) is None:
                        found.append(f"{os.path.relpath(path)}:{node.lineno}: `{ast.unparse(node.func)}()`")
    return found


def _check_decorators(function, tree: ast.Module, source: SourceFile, path: str, name: str, project: Project) -> None:
    """A decorator not known to accept an async function (it would call it and get a coroutine,
    or wrap it in a sync function) stops the migration."""
    from .imports import import_bindings, qualify

    module, is_package = module_name_for(source.path)
    imports = import_bindings(tree, module, is_package)
    for decorator in function.decorator_list:
        target = decorator.func if isinstance(decorator, ast.Call) else decorator
        qualname = qualify(target, imports) or ""
        if not any(qualname.startswith(prefix) and project.target >= since for prefix, since in _ASYNC_DECORATORS):
            raise MigrationError(
                f"{path}:{decorator.lineno}: `@{ast.unparse(decorator)}` is not known to accept an async function; "
                f"migrate `{name}` by hand, or without the decorator"
            )


def _untyped_queries(files: Files, source: SourceFile, names: list[str]) -> list[Diagnostic]:
    """Manager calls left sync because the model could not be told (`model.objects.get()` on a
    model chosen at run time): they would raise on the loop, so the migration is refused."""
    from .django_api import QUERYSET_METHODS

    text = files.texts[source.path]
    edited = SourceFile(source.path, text, source.encoding)
    tree = parse(edited)
    found = []
    for name in names:
        function = find_function(tree, name) if isinstance(tree, ast.Module) else None
        if function is None:
            continue
        parents = parents_of(function)
        for node in ast.walk(function):
            if (
                isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in QUERYSET_METHODS
                and ".objects" in ast.unparse(node.func.value) and not isinstance(parents.get(id(node)), ast.Await)
                and not _in_sync_function(node, function, parents)
            ):
                found.append(Diagnostic(
                    "ASL101", f"`.{node.func.attr}()` of a manager whose model async-lint cannot tell stays a sync query",
                    source.path, edited.start(node), edited.end(node),
                ))
    return found


def _in_sync_function(node: ast.AST, function: ast.AST, parents: dict[int, ast.AST]) -> bool:
    """Inside a sync inner function (a moved transaction block): it runs in a thread."""
    current = parents.get(id(node))
    while current is not None and current is not function:
        if isinstance(current, (ast.FunctionDef, ast.Lambda)):
            return True
        current = parents.get(id(current))
    return False


def twin_name(sync: str) -> str:
    """`load_case` → `aload_case`; a private `_load` → `_aload`, as Django names its twins."""
    return "_a" + sync[1:] if sync.startswith("_") and not sync.startswith("__") else "a" + sync


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
    parts = []
    for path, (source, after) in sorted(migrated.changes.items()):
        shown = os.path.relpath(path)
        parts.append("".join(difflib.unified_diff(
            source.text.splitlines(keepends=True), after.splitlines(keepends=True), f"a/{shown}", f"b/{shown}"
        )))
    return "".join(parts)


def write(migrated: Migrated) -> None:
    for path, (source, after) in migrated.changes.items():
        write_atomic(path, source.to_bytes(after))
