"""The project's functions, followed across modules: what a sync function does that is unsafe
on the event loop (itself, or through the project functions it calls, at any depth), and what a
function returns.

Async code calls helpers: `await load_case(pk)` in another module, `self.collect_tags()` that
calls `self.current_user()` that reads `request.user`, `job.mark_cancelled()` defined on the
model.  A rule that stops at the edge of the function it checks misses all of these, so rules
ask this model instead.  It reads a module only when async code reaches into it (with the same
semantic model the checked file has) and memoises each answer; a call cycle ends the search.
The most recently used files stay parsed (`KEPT_FILES`): memory stays bounded on a project of
any size, and a module evicted is parsed again when reached.  Every file an answer was drawn
from is recorded (`consulted`), so a cached finding is thrown away when one of them changes.

What a function returns is taken from its body when the body fetched the value (a model
instance, with what the query loaded, or a QuerySet), else from its return annotation (an
instance typed only by an annotation has an unknown origin: nothing is assumed loaded or not).
"""

from __future__ import annotations

import ast
from collections import OrderedDict, defaultdict
from dataclasses import dataclass, replace
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from . import django_api as api
from .diagnostics import Diagnostic
from .imports import module_name_for
from .project import own_returns
from .semantic import (
    FETCHED,
    PARAMETER,
    RELATED,
    UNKNOWN,
    Coroutine,
    FileModel,
    Instance,
    LocalFunction,
    Manager,
    ModelClass,
    Pair,
    QuerySet,
    Scope,
    iter_scope_nodes,
)
from .source import SourceFile

if TYPE_CHECKING:
    from .project import ProjectIndex
    from .templates import Templates, TemplateSettings

# Decorators that leave a function a plain callable; any other may change what a call does.
TRANSPARENT_DECORATORS = frozenset({"staticmethod", "classmethod"})
_FUNCTIONS = (ast.FunctionDef, ast.AsyncFunctionDef)
_TUPLE = frozenset({"tuple", "typing.Tuple", "builtins.tuple"})
# Methods of Django's model, manager and QuerySet API, which the ASL1 rules judge themselves
# (a project override of `save()` is still `save()`).
DJANGO_METHODS = frozenset(
    name
    for table in (
        api.MODEL_METHODS, api.QUERYSET_METHODS, api.RELATED_MANAGER_METHODS, api.USER_METHODS,
        api.USER_MANAGER_METHODS,
    )
    for sync, twin in table.items()
    for name in (sync, twin.twin)
) | api.LAZY_QUERYSET_METHODS | api.MODEL_METHODS_WITHOUT_TWIN | {"get_queryset"}
# How far up a class hierarchy a `self.method()` is looked for.
_MAX_BASES = 8
# Files kept parsed from one checked file to the next, with their semantic models and the
# answers drawn from them: the helper modules async code keeps reaching stay parsed, and memory
# is bounded (keeping all 850 files of courtlistener took 300 MB, and in a flake8 process each
# of Python's full collections walked them all, adding a quarter to the whole run).
KEPT_FILES = 32


@dataclass(frozen=True, eq=False)
class FunctionRef:
    """A function or method of the project, with the file and scope it is defined in."""

    path: str
    node: ast.FunctionDef | ast.AsyncFunctionDef
    owner: ast.ClassDef | None
    parent: Scope | None  # the enclosing function of a nested one
    file: FileModel
    source: SourceFile
    # Parameters bound, at the call, to instances whose query is known: `self` of a model
    # method called on one (`post.to_ap()` after `prefetch_related("tags")`), an argument.
    known: tuple[tuple[str, Instance], ...] = ()

    def scope(self) -> Scope:
        return self.file.scope_for(self.node, self.parent, self.owner, self.known)

    @property
    def name(self) -> str:
        return f"{self.owner.name}.{self.node.name}" if self.owner is not None else self.node.name

    @property
    def is_async(self) -> bool:
        return isinstance(self.node, ast.AsyncFunctionDef)

    @property
    def line(self) -> int:
        return self.node.lineno

    @property
    def display_path(self) -> str:
        """The file as its module's path from the import root (`app/services.py`): the same
        wherever async-lint runs from, so a cached message stays right."""
        module, is_package = module_name_for(self.path)
        return module.replace(".", "/") + ("/__init__.py" if is_package else ".py")


@dataclass(frozen=True)
class UnsafeChain:
    """A call that reaches something unsafe: the functions it goes through (the called one
    first) and the unsafe operation, found in the last of them."""

    steps: tuple[FunctionRef, ...]
    hazard: Diagnostic

    @property
    def operation(self) -> str:
        """The unsafe expression's first line, as written."""
        return self.steps[-1].source.text[self.hazard.start : self.hazard.end].split("\n")[0]

    @property
    def line(self) -> int:
        """The operation's line, in the last function's file."""
        return self.steps[-1].source.row_col(self.hazard.start)[0]


# What a function's own body does that is unsafe on the loop, in source order (the engine's
# event-loop rules, run over the body).
HazardFinder = Callable[[FunctionRef], list[Diagnostic]]


class ProjectFunctions:
    """On-demand summaries of the project's functions, for one run (or one worker)."""

    def __init__(
        self,
        index: "ProjectIndex",
        module_paths: dict[str, str],
        read: Callable[[str], SourceFile | None],
        parse: Callable[[SourceFile], ast.Module | None],
        hazards: HazardFinder,
    ):
        self.index = index
        self.module_paths = module_paths  # dotted module name → file
        self._read, self._parse, self._find_hazards = read, parse, hazards
        # Least recently used first; None: unreadable or unparsable.
        self._files: OrderedDict[str, tuple[SourceFile, FileModel] | None] = OrderedDict()
        self._paths: dict[int, str] = {}  # id of a kept file's model → its path
        # Keys hold the function's node itself: an id could be reused by a later tree.
        # Answer, files consulted for it, and those with the function's own file.
        self._memo: dict[tuple, tuple[object, frozenset[str], frozenset[str]]] = {}
        self._memo_keys: defaultdict[str, set[tuple]] = defaultdict(set)  # by file drawn from
        # The files answers have been drawn from since the last reset (see `consulted_since`).
        self.consulted: set[str] = set()

    @cached_property
    def packages(self) -> frozenset[str]:
        """The project's top-level packages and modules (what isort calls first party)."""
        return frozenset(module.split(".")[0] for module in self.module_paths)

    # -- templates ------------------------------------------------------------------------

    @cached_property
    def templates(self) -> "Templates":
        """The project's templates, read when a rule first looks one up."""
        from .templates import Templates

        return Templates.of_modules(self.module_paths.values(), self._read_template)

    @cached_property
    def template_settings(self) -> "TemplateSettings":
        from .templates import template_settings

        found = template_settings(self.module_paths, self._read_text)
        return found

    def _read_template(self, path) -> str | None:
        self.consulted.add(str(path))
        try:
            return Path(path).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            return None

    def _read_text(self, path: str) -> str | None:
        source = self._read(path)
        return source.text if source is not None else None

    def settings_consulted(self) -> None:
        """A finding drawn from the settings: their files join what it depends on."""
        self.consulted |= self.template_settings.files

    # -- files --------------------------------------------------------------------------

    def add_file(self, source: SourceFile, file: FileModel) -> None:
        """The file being checked: its functions are found in its own tree.  Files are evicted
        here, between two checked files, never while an answer is being drawn from them."""
        self._forget(source.path)
        while len(self._files) >= KEPT_FILES:
            self._forget(next(iter(self._files)))
        self._keep(source.path, (source, file))

    def _file(self, path: str) -> tuple[SourceFile, FileModel] | None:
        self.consulted.add(path)
        if path in self._files:
            self._files.move_to_end(path)
            return self._files[path]
        entry = None  # unreadable, unparsable: nothing known
        source = self._read(path)
        tree = self._parse(source) if source is not None else None
        if tree is not None:
            module, is_package = module_name_for(path)
            entry = (source, FileModel(tree, module, is_package, self.index, self, source.text))
        self._keep(path, entry)
        return entry

    def _keep(self, path: str, entry: tuple[SourceFile, FileModel] | None) -> None:
        self._files[path] = entry
        if entry is not None:
            self._paths[id(entry[1])] = path

    def _forget(self, path: str) -> None:
        """Drop a file's tree and model, and every answer drawn from it."""
        entry = self._files.pop(path, None)
        if entry is not None:
            del self._paths[id(entry[1])]
        for key in self._memo_keys.pop(path, ()):
            for other in self._memo.pop(key)[2] - {path}:
                self._memo_keys[other].discard(key)

    def _module(self, module: str) -> tuple[SourceFile, FileModel] | None:
        path = self.module_paths.get(module)
        return self._file(path) if path is not None else None

    # -- resolving what a call calls ---------------------------------------------------------

    def resolve(self, func: ast.expr, file: FileModel, scope: Scope | None) -> FunctionRef | None:
        """The project function `func` (the callee of a call, or a function passed by name)
        refers to, when it is certain: a function of this module or an imported one, a method
        of the enclosing class (`self.x`, `cls.x`) or its project bases, a method of a project
        model, manager or queryset class called on a value of that type."""
        path = self._paths.get(id(file))
        if path is None:
            return None
        if isinstance(func, ast.Name):
            value = file.infer(func, scope)
            if isinstance(value, LocalFunction):
                if value.node in (scope.local_functions.values() if scope is not None else ()):
                    return self._ref(path, value.node, None, scope)
                return self._ref(path, value.node, None, None)
            if scope is not None and scope.binds(func.id):
                return None
            if func.id in file.module_functions:
                return self._ref(path, file.module_functions[func.id], None, None)
            qualname = file.imports.get(func.id)
            return self._function(qualname) if qualname else None
        if not isinstance(func, ast.Attribute):
            return None
        receiver = func.value
        if (
            isinstance(receiver, ast.Name)
            and receiver.id in ("self", "cls")
            and scope is not None
            and scope.owner is not None
            and _first_parameter(scope) == receiver.id
        ):
            method = self._method(path, file, scope.owner, func.attr)
            # `self.helper()` in a method called on a known instance: the same instance.
            return _called_on(method, dict(scope.known).get(receiver.id))
        instance_of = self._module_object_class(receiver, file, scope)
        if instance_of is not None:
            return self._method(*instance_of, func.attr)
        value = file.infer(receiver, scope)
        if isinstance(value, (Instance, ModelClass, Manager, QuerySet)) and func.attr in DJANGO_METHODS:
            return None  # Django's own API: the ASL1 rules know it
        if isinstance(value, (Instance, ModelClass)) and value.model is not None:
            method = self._class_method(value.model.qualname, func.attr)
            return _called_on(method, value) if isinstance(value, Instance) else method
        if isinstance(value, (Manager, QuerySet)):
            spec = value.spec if isinstance(value, Manager) else None
            for class_name in (spec.manager_class, spec.queryset_class) if spec else ():
                found = self._class_method(class_name, func.attr) if class_name else None
                if found is not None:
                    return found
            return None
        if value is None and not (scope is not None and _root_bound(receiver, scope)):
            qualname = file.qualname_of(func)
            return self._function(qualname) if qualname else None
        return None

    def called_with(self, ref: FunctionRef, call: ast.Call, file: FileModel, scope: Scope | None) -> FunctionRef:
        """The function as this call calls it: its parameters given instances whose query is
        known are bound to them, so the relations the body reads are judged as the caller's."""
        parameters = [*ref.node.args.posonlyargs, *ref.node.args.args]
        if ref.owner is not None and not _is_static(ref.node):
            bound_call = isinstance(call.func, ast.Attribute) and (
                (isinstance(call.func.value, ast.Name) and call.func.value.id in ("self", "cls"))
                or isinstance(file.infer(call.func.value, scope), Instance)
            )
            if not bound_call:
                return ref  # `Class.method(obj, ...)`: which argument is `self` is not certain
            parameters = parameters[1:]
        known = dict(ref.known)
        for parameter, argument in zip(parameters, call.args):
            if isinstance(argument, ast.Starred):
                break
            if (value := _known(file.infer(argument, scope))) is not None:
                known[parameter.arg] = value
        names = {p.arg for p in (*parameters, *ref.node.args.kwonlyargs)}
        for keyword in call.keywords:
            if keyword.arg in names and (value := _known(file.infer(keyword.value, scope))) is not None:
                known[keyword.arg] = value
        return replace(ref, known=tuple(known.items())) if len(known) > len(ref.known) else ref

    def _module_object_class(self, receiver: ast.expr, file: FileModel, scope: Scope | None):
        """The project class (path, file, class) of an object the module binds once by calling
        it (`_service = AuthService()`), for `_service.register()`; a model's instance is left
        to the model rules."""
        if not isinstance(receiver, ast.Name) or (scope is not None and _root_bound(receiver, scope)):
            return None
        made = file.module_calls.get(receiver.id)
        if made is None:
            return None
        qualname = file.qualname_of(made.func)
        if qualname is None or self.index.kind(qualname) is not None:
            return None
        return self._class(qualname)

    def _ref(self, path: str, node, owner, parent) -> FunctionRef | None:
        entry = self._files.get(path)
        if entry is None:
            return None
        return FunctionRef(path, node, owner, parent, entry[1], entry[0])

    def _definition(self, qualname: str, classes: bool, hops: int = 3):
        """(path, file, node) of a module-level function (or class) by qualified name,
        following re-exports (`from .services import load` in a package's `__init__`) a few
        hops, so that modules re-exporting each other end the search."""
        module, _, name = qualname.rpartition(".")
        entry = self._module(module) if module else None
        if entry is None:
            return None
        _, file = entry
        node = (file.module_classes if classes else file.module_functions).get(name)
        if node is not None:
            return self.module_paths[module], file, node
        forwarded = file.imports.get(name)
        if forwarded and hops and forwarded != qualname:
            return self._definition(forwarded, classes, hops - 1)
        return None

    def _function(self, qualname: str) -> FunctionRef | None:
        found = self._definition(qualname, classes=False)
        return self._ref(found[0], found[2], None, None) if found is not None else None

    def _class(self, qualname: str) -> tuple[str, FileModel, ast.ClassDef] | None:
        return self._definition(qualname, classes=True)

    def class_def(self, qualname: str) -> tuple[ast.ClassDef, FileModel] | None:
        """A project class's definition and the file it is in."""
        found = self._class(qualname)
        return (found[2], found[1]) if found is not None else None

    def _class_method(self, qualname: str, name: str) -> FunctionRef | None:
        found = self._class(qualname)
        return self._method(*found, name) if found is not None else None

    def _method(self, path: str, file: FileModel, owner: ast.ClassDef, name: str, depth: int = 0) -> FunctionRef | None:
        """`name` looked up on a class, then on its project bases, left to right."""
        for stmt in owner.body:
            if isinstance(stmt, _FUNCTIONS) and stmt.name == name:
                return self._ref(path, stmt, owner, None)
            if isinstance(stmt, ast.Assign) and any(isinstance(t, ast.Name) and t.id == name for t in stmt.targets):
                return None  # an attribute, not a method defined here
        if depth >= _MAX_BASES:
            return None
        for base in owner.bases:
            qualname = file.qualname_of(base)
            found = self._class(qualname) if qualname else None
            if found is not None:
                method = self._method(*found, name, depth + 1)
                if method is not None:
                    return method
        return None

    # -- what a sync function does on the loop -----------------------------------------------

    def hazards_of(self, function: ast.FunctionDef, owner: ast.ClassDef | None, file: FileModel, source: SourceFile) -> list[Diagnostic]:
        """What a function's own body does that is unsafe on the loop (a stand-in function
        holding some statements of a real one, too)."""
        return self._find_hazards(FunctionRef(source.path, function, owner, None, file, source))

    def unsafe_chain(self, ref: FunctionRef, ignore: frozenset[str] = frozenset()) -> UnsafeChain | None:
        """The first unsafe operation calling this sync function runs, in its body or in a
        project function it calls directly (sync, plain), at any depth; None when there is none
        that is certain.  `ignore`: codes of operations the caller made safe beforehand."""
        if ref.is_async or not _plain(ref.node) or _is_generator(ref.node):
            return None
        key = ("chain", ref.node, ignore, _known_key(ref))
        return self._memoised(key, ref.path, lambda: self._chain(ref, ignore))

    def _chain(self, ref: FunctionRef, ignore: frozenset[str]) -> UnsafeChain | None:
        once = _run_once_blocks(ref.node)
        direct = [
            h for h in self._find_hazards(ref)
            if h.code not in ignore and not any(start <= h.start < end for start, end in _offsets(ref.source, once))
        ]
        first_direct = direct[0] if direct else None
        for call_line, callee in self._calls(ref):
            if any(first <= call_line <= last for first, last in once):
                continue
            if first_direct is not None and ref.source.row_col(first_direct.start)[0] <= call_line:
                break
            deeper = self.unsafe_chain(callee, ignore)
            if deeper is not None:
                return UnsafeChain((ref, *deeper.steps), deeper.hazard)
        return UnsafeChain((ref,), first_direct) if first_direct is not None else None

    def _calls(self, ref: FunctionRef) -> list[tuple[int, FunctionRef]]:
        """The project functions a function's body calls directly, in source order."""
        scope = ref.scope()
        calls = []
        for node in iter_scope_nodes(ref.node.body):
            if isinstance(node, ast.Call):
                callee = self.resolve(node.func, ref.file, scope)
                if callee is not None and callee.node is not ref.node:
                    calls.append((node.lineno, self.called_with(callee, node, ref.file, scope)))
        return sorted(calls, key=lambda c: c[0])

    # -- what a function returns ---------------------------------------------------------

    def call_value(self, ref: FunctionRef) -> object | None:
        """The value of calling the function: what it returns, or for a coroutine function, a
        coroutine that gives it."""
        value = self.returns(ref)
        return Coroutine(value) if ref.is_async else value

    def returns(self, ref: FunctionRef) -> object | None:
        if _is_generator(ref.node):
            return None
        return self._memoised(("returns", ref.node, _known_key(ref)), ref.path, lambda: self._returns(ref))

    def _returns(self, ref: FunctionRef) -> object | None:
        scope = ref.scope()
        values = []
        for stmt in own_returns(ref.node.body):
            if stmt.value is None or (isinstance(stmt.value, ast.Constant) and stmt.value.value is None):
                continue
            if scope.filled_before(stmt.value):
                return None  # a QuerySet whose rows the body fetched: iterating it is free
            values.append(self._portable(self._returned(stmt.value, scope, ref), ref))
        from_body = values[0] if values and all(v == values[0] for v in values) else None
        if from_body is not None:
            return from_body
        if ref.node.returns is not None:
            return _unknown_origin(_annotated(ref.node.returns, ref.file))
        return None

    def _returned(self, value: ast.expr, scope: Scope, ref: FunctionRef) -> object | None:
        inferred = ref.file.infer(value, scope)
        if isinstance(value, ast.Tuple) and not isinstance(inferred, Pair):
            return Pair(tuple(self._returned(e, scope, ref) for e in value.elts))
        if isinstance(inferred, Instance) and inferred.origin in (FETCHED, RELATED):
            # What the query loaded holds only while the body did not read the instance's
            # relations itself (that loads and caches them) or hand it to other code.
            # `return Book.objects.get(...)` itself: nothing read it before it is returned.
            fresh = isinstance(value, (ast.Call, ast.Await))
            if not fresh and not (isinstance(value, ast.Name) and _only_fields_read(value.id, scope, inferred)):
                return replace(inferred, origin=UNKNOWN, loading=type(inferred.loading)(), source=None, path="")
        return inferred

    def _portable(self, value: object | None, ref: FunctionRef) -> object | None:
        """The value without references into the callee's tree (a fix cannot edit another
        function's query), and saying where an instance was fetched."""
        if isinstance(value, Pair):
            return Pair(tuple(self._portable(v, ref) for v in value.items))
        if isinstance(value, Instance):
            fetched_in = f"{ref.name} ({ref.display_path}:{ref.line})"
            return replace(value, loading=value.loading.detached(), source=None, fetched_in=fetched_in)
        if isinstance(value, QuerySet):
            return replace(value, loading=value.loading.detached())
        if isinstance(value, Coroutine):
            return None  # an unawaited coroutine returned: the caller's business
        return value if isinstance(value, (Manager, ModelClass)) else None

    # -- memo --------------------------------------------------------------------------------

    def _memoised(self, key: tuple, path: str, compute: Callable[[], object]) -> object | None:
        """One answer per key (about a function of the file at `path`) while the files it was
        drawn from are kept; those files are added to `consulted` on every use.  A key asked
        for while it is computed (a call cycle) is None."""
        if key in self._memo:
            value, files, _ = self._memo[key]
            self.consulted |= files
            return value
        self._memo[key] = (None, frozenset(), frozenset())
        outer, self.consulted = self.consulted, set()
        try:
            value = compute()
        finally:
            files = frozenset(self.consulted)
            self.consulted = outer | files
        drawn_from = files | {path}
        self._memo[key] = (value, files, drawn_from)
        for file in drawn_from:
            self._memo_keys[file].add(key)
        return value


def _called_on(method: FunctionRef | None, instance: object | None) -> FunctionRef | None:
    """The method as called on `instance` when what its query loaded is known: `self` in the
    body is then that instance, so the relations it reads are judged as they would be in the
    caller.  A decorated method (staticmethod, classmethod) gets no instance."""
    if method is None or method.owner is None or method.node.decorator_list:
        return method
    parameters = method.node.args.posonlyargs + method.node.args.args
    known = _known(instance)
    return replace(method, known=((parameters[0].arg, known),)) if parameters and known else method


def _known(value: object | None) -> Instance | None:
    """An instance whose query is known, detached from the caller's query (nothing in the
    callee's body can edit it); None for any other value."""
    if not isinstance(value, Instance) or value.origin not in (FETCHED, RELATED):
        return None
    return replace(value, loading=value.loading.detached(), source=None, path="")


def _known_key(ref: FunctionRef) -> tuple:
    """What of the known parameters an answer depends on: their models, origins and loading."""
    return tuple((name, value.model.qualname if value.model else None, value.origin, value.loading) for name, value in ref.known)


def _is_static(function: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    return any(isinstance(d, ast.Name) and d.id == "staticmethod" for d in function.decorator_list)


def _plain(function: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    return all(isinstance(d, ast.Name) and d.id in TRANSPARENT_DECORATORS for d in function.decorator_list)


def _is_generator(function: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    """Calling a generator function runs none of its body."""
    return any(isinstance(n, (ast.Yield, ast.YieldFrom)) for n in iter_scope_nodes(function.body))


def _run_once_blocks(function: ast.FunctionDef | ast.AsyncFunctionDef) -> list[tuple[int, int]]:
    """Lines of `if NAME is None:` / `if not NAME:` blocks that set NAME, a module global the
    function declares: a value computed once per process (typically warmed at start-up), not
    on every call."""
    names = {n for s in iter_scope_nodes(function.body) if isinstance(s, ast.Global) for n in s.names}
    blocks = []
    for node in iter_scope_nodes(function.body) if names else ():
        if not isinstance(node, ast.If):
            continue
        test = node.test
        if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
            test = test.operand
        elif isinstance(test, ast.Compare) and len(test.ops) == 1 and isinstance(test.ops[0], ast.Is):
            if not (isinstance(test.comparators[0], ast.Constant) and test.comparators[0].value is None):
                continue
            test = test.left
        else:
            continue
        if not (isinstance(test, ast.Name) and test.id in names):
            continue
        assigned = any(
            isinstance(n, ast.Name) and n.id == test.id and isinstance(n.ctx, ast.Store)
            for stmt in node.body for n in ast.walk(stmt)
        )
        if assigned:
            blocks.append((node.body[0].lineno, node.body[-1].end_lineno or node.body[-1].lineno))
    return blocks


def _offsets(source: SourceFile, blocks: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Line ranges as character offsets."""
    starts = source.line_starts
    return [(starts[first - 1], starts[last] if last < len(starts) else len(source.text)) for first, last in blocks]


def _first_parameter(scope: Scope) -> str | None:
    arguments = (*scope.node.args.posonlyargs, *scope.node.args.args)
    return arguments[0].arg if arguments else None


def _root_bound(node: ast.expr, scope: Scope) -> bool:
    while isinstance(node, ast.Attribute):
        node = node.value
    return isinstance(node, ast.Name) and scope.binds(node.id)


def _only_fields_read(name: str, scope: Scope, instance: Instance) -> bool:
    """Whether the function uses `name` only to read its non-relation attributes (and to save
    it), besides binding and returning it."""
    relations = instance.model.relations if instance.model is not None else {}
    parents: dict[int, ast.AST] = {}
    for node in iter_scope_nodes(scope.node.body):
        for child in ast.iter_child_nodes(node):
            parents[id(child)] = node
    for node in iter_scope_nodes(scope.node.body):
        if not (isinstance(node, ast.Name) and node.id == name and isinstance(node.ctx, ast.Load)):
            continue
        parent = parents.get(id(node))
        if isinstance(parent, ast.Return):
            continue
        if isinstance(parent, ast.Attribute) and parent.attr not in relations:
            if parent.attr in ("save", "asave") or not isinstance(parents.get(id(parent)), ast.Call):
                continue
        return False
    return True


def _annotated(annotation: ast.expr, file: FileModel) -> object | None:
    """The value a return annotation describes: `tuple[Case, dict]` is a pair."""
    if isinstance(annotation, ast.Constant) and isinstance(annotation.value, str):
        try:
            annotation = ast.parse(annotation.value, mode="eval").body
        except SyntaxError:
            return None
    if isinstance(annotation, ast.Subscript):
        head = annotation.value
        name = head.id if isinstance(head, ast.Name) and head.id == "tuple" else file.qualname_of(head)
        if name in _TUPLE and isinstance(annotation.slice, ast.Tuple):
            items = annotation.slice.elts
            if not any(isinstance(i, ast.Constant) and i.value is Ellipsis for i in items):
                return Pair(tuple(_annotated(i, file) for i in items))
    return file._annotation_value(annotation)


def _unknown_origin(value: object | None) -> object | None:
    """An instance typed by an annotation alone: where it came from, and what it loaded, is
    not known (unlike a parameter's, whose relations the caller chose)."""
    if isinstance(value, Pair):
        return Pair(tuple(_unknown_origin(v) for v in value.items))
    if isinstance(value, Instance) and value.origin == PARAMETER:
        return replace(value, origin=UNKNOWN)
    return value
