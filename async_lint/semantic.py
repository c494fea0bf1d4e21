"""The shared semantic model of one file: what each expression in an `async def` is.

Rules ask `model.infer(expr, scope)` and get a small abstract value (a QuerySet of Book, a
related manager, a model instance, the request, the cache, ...) or None when the tool cannot
know.  None is the common answer and means "say nothing": precision comes from only typing what
is certain: imports of Django's own names, the project's model index, lazy QuerySet chains,
annotations, and local variables bound once to such values.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import TYPE_CHECKING, Iterator

from . import django_api as api
from .imports import import_bindings, names_bound, qualify
from .project import ManagerSpec, Model, ProjectIndex, Relation, external_model

if TYPE_CHECKING:
    from .functions import ProjectFunctions

# -- abstract values ----------------------------------------------------------------------------


@dataclass(frozen=True)
class ModelClass:
    model: Model


@dataclass(frozen=True)
class Manager:
    model: Model | None
    spec: ManagerSpec = field(default_factory=ManagerSpec)
    relation: Relation | None = None  # set for related managers (`author.book_set`)
    prefetched: bool = False  # the relation was prefetch_related() by the query


@dataclass(frozen=True)
class Loading:
    """What evaluating a QuerySet fetches besides the model's own columns (ASL2 reads it)."""

    select: frozenset[str] = frozenset()  # select_related() paths: "author", "author__user"
    prefetch: frozenset[str] = frozenset()  # prefetch_related() lookups
    everything: bool = False  # select_related() without arguments, or lookups we cannot read
    only: frozenset[str] | None = None  # only(): the fields loaded; None: all of them
    deferred: frozenset[str] = frozenset()  # defer()
    # only() or defer() anywhere in the chain, this instance reached through relations or not.
    columns_limited: bool = False
    # The select_related(...) call of the chain, to extend rather than add a second one.
    select_call: ast.Call | None = field(default=None, compare=False)
    prefetch_call: ast.Call | None = field(default=None, compare=False)
    only_call: ast.Call | None = field(default=None, compare=False)

    def after(self, method: str, call: ast.Call) -> "Loading":
        """The loading after `qs.<method>(...)`."""
        if method not in ("select_related", "prefetch_related", "only", "defer"):
            return self
        names = _string_arguments(call, accept_prefetch=method == "prefetch_related")
        if names is None or (method == "select_related" and not call.args):
            return replace(self, everything=True)
        if method == "select_related":
            return replace(self, select=self.select | names, select_call=call)
        if method == "prefetch_related":
            return replace(self, prefetch=self.prefetch | names, prefetch_call=call)
        if method == "only":
            return replace(self, only=names, only_call=call, columns_limited=True)
        return replace(self, deferred=self.deferred | names, columns_limited=True)

    def below(self, relation: str) -> "Loading":
        """The loading of the instance reached through a loaded `relation`."""
        prefix = relation + "__"
        return Loading(
            select=frozenset(p[len(prefix):] for p in self.select if p.startswith(prefix)),
            prefetch=frozenset(p[len(prefix):] for p in self.prefetch if p.startswith(prefix)),
            everything=self.everything,
            columns_limited=self.columns_limited,
            # Paths are added to the root query's calls, in full.
            select_call=self.select_call,
            prefetch_call=self.prefetch_call,
        )

    def loads_relation(self, name: str) -> bool:
        """`select_related("author__user")` loads `author` too."""
        prefix = name + "__"
        return self.everything or any(
            path == name or path.startswith(prefix) for path in (*self.select, *self.prefetch)
        )

    def defers(self, name: str) -> bool:
        return name in self.deferred or (self.only is not None and name not in self.only)

    def detached(self) -> "Loading":
        """The same loading without the query's calls: what another function may know of it
        (a fix there cannot edit this query)."""
        return replace(self, select_call=None, prefetch_call=None, only_call=None)


def _string_arguments(call: ast.Call, *, accept_prefetch: bool) -> frozenset[str] | None:
    """String arguments (and `Prefetch("lookup")` without `to_attr`); None when any is unknown."""
    names = set()
    for argument in call.args:
        if isinstance(argument, ast.Constant) and isinstance(argument.value, str):
            names.add(argument.value)
        elif (
            accept_prefetch
            and isinstance(argument, ast.Call)
            and argument.args
            and isinstance(argument.args[0], ast.Constant)
            and isinstance(argument.args[0].value, str)
        ):
            if not any(k.arg == "to_attr" for k in argument.keywords):
                names.add(argument.args[0].value)
        else:
            return None
    if call.keywords and not accept_prefetch:
        return None
    return frozenset(names)


@dataclass(frozen=True)
class QuerySet:
    model: Model | None
    custom_lazy: frozenset[str] = frozenset()
    yields_instances: bool = True  # False after values()/values_list()
    raw: bool = False
    loading: Loading = Loading()
    # `.all()` on a prefetched relation: served from the prefetch cache, no query.
    from_prefetch_cache: bool = False


# Where a model instance came from, which decides what reading its relations means.
FETCHED = "fetched"  # by a query in this function: its Loading is known
RELATED = "related"  # through a relation the query loaded (select_related)
LAZY = "lazy"  # through a relation read lazily (already reported)
BUILT = "built"  # Model(...) / acreate(...): relations are what was passed
PARAMETER = "parameter"  # a parameter annotated with a model: unknown loading
UNKNOWN = "unknown"


@dataclass(frozen=True)
class Instance:
    model: Model | None
    origin: str = UNKNOWN
    loading: Loading = Loading()
    # The QuerySet expression evaluated to fetch the instance (FETCHED/RELATED), and the
    # relation path from that query's model to this instance ("" for the fetched one).
    source: ast.expr | None = None
    path: str = ""
    # Fetched by a project function the code called: "load_case (app/services.py:12)".
    fetched_in: str = field(default="", compare=False)


@dataclass(frozen=True)
class Rows:
    """A list of fetched instances: `[b async for b in qs]`, `await sync_to_async(list)(qs)`."""

    instance: Instance


@dataclass(frozen=True)
class Request:
    pass


@dataclass(frozen=True)
class LazyUser:
    """`request.user`: a SimpleLazyObject that loads the user (a session and a database read)
    the first time it is used, not when it is read from the request."""

    model: Model | None


@dataclass(frozen=True)
class Session:
    pass


@dataclass(frozen=True)
class Cache:
    pass


@dataclass(frozen=True)
class Signal:
    pass


@dataclass(frozen=True)
class EmailMessage:
    pass


@dataclass(frozen=True)
class DjangoCallable:
    """A Django function or class referenced by name: `get_object_or_404`, `transaction.atomic`."""

    qualname: str


@dataclass(frozen=True)
class LocalFunction:
    """A sync function or method defined in this file, callable from async code."""

    node: ast.FunctionDef
    owner: ast.ClassDef | None = None


@dataclass(frozen=True)
class SyncToAsync:
    """`sync_to_async(f)`: calling it gives a coroutine."""


@dataclass(frozen=True)
class Coroutine:
    """The unawaited result of a Django async method; awaiting gives `result`."""

    result: object | None


@dataclass(frozen=True)
class Pair:
    items: tuple[object | None, ...]


@dataclass(frozen=True)
class ViewSelf:
    """`self` in a class-based view: `self.get_queryset()` and `self.queryset` are querysets."""

    model: Model | None


@dataclass(frozen=True)
class Storage:
    """A Django file storage: `default_storage`, `storages[alias]`, a Storage instance."""


@dataclass(frozen=True)
class FieldFile:
    """The value of a model instance's FileField/ImageField: its methods go to the storage."""


@dataclass(frozen=True)
class ConsumerSelf:
    """`self` in a Django Channels consumer: `self.scope` is the connection's ASGI scope."""


@dataclass(frozen=True)
class AsgiScope:
    """A Channels connection scope: `scope["session"]` is the session (a SessionStore that
    channels' SessionMiddleware has not loaded), `scope["user"]` the user that AuthMiddleware
    fetched before the consumer runs (its relations are not loaded)."""


_OPTIONAL = frozenset({"typing.Optional", "typing_extensions.Optional"})
_PROTOCOLS = frozenset({"typing.Protocol", "typing_extensions.Protocol"})
_UNION = frozenset({"typing.Union", "typing_extensions.Union"})

Value = object  # one of the dataclasses above
_CONFLICT = object()  # a name bound to different kinds of value: unknown


# -- scopes ---------------------------------------------------------------------------------


@dataclass(eq=False)
class Scope:
    """A function body.  `bindings` maps local names to values, computed once on first use."""

    node: ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda
    parent: "Scope | None"
    owner: ast.ClassDef | None  # the class whose method this is
    file: "FileModel"
    # Parameters whose value the call site knows better than the signature: the instance (with
    # what its query loaded) a model method was called on, instances passed as arguments.
    known: tuple[tuple[str, object], ...] = ()

    @property
    def is_async(self) -> bool:
        return isinstance(self.node, ast.AsyncFunctionDef)

    _bindings: dict[str, object] | None = None

    @property
    def bindings(self) -> dict[str, object]:
        """Filled in source order on first use; lookups made while filling see the bindings
        gathered so far, so `qs = qs.filter(...)` knows the first `qs`."""
        if self._bindings is None:
            self._bindings = {}
            self.file._bind_function(self, self._bindings)
        return self._bindings

    @cached_property
    def local_functions(self) -> dict[str, ast.FunctionDef]:
        return {
            s.name: s
            for s in iter_scope_nodes(self.node.body)
            if isinstance(s, ast.FunctionDef)
        }

    @cached_property
    def local_names(self) -> frozenset[str]:
        """The names this function binds, found syntactically (no inference)."""
        return frozenset(_bound_names(self.node))

    @cached_property
    def imports(self) -> dict[str, str]:
        """Names this function's own frame binds by an import and nothing else."""
        if not self.file.has_function_imports:
            return {}
        imported = dict(_imports_in(self.node, self.file.module, self.file.is_package))
        if not imported:
            return {}
        other = {n.id for n in iter_scope_nodes(self.node.body if isinstance(self.node.body, list) else [self.node.body])
                 if isinstance(n, ast.Name) and isinstance(n.ctx, (ast.Store, ast.Del))}
        return {name: qualname for name, qualname in imported.items() if name not in other}

    def binds(self, name: str) -> bool:
        """Whether `name` is a local of this function or an enclosing one."""
        scope: Scope | None = self
        while scope is not None:
            if name in scope.local_names:
                return True
            scope = scope.parent
        return False

    def filled_before(self, node: ast.expr) -> bool:
        """Whether `node` is a variable whose QuerySet result cache was filled earlier in this
        function (`async for x in qs`, `[x async for x in qs]`, `await sync_to_async(list)(qs)`)
        and not rebound since: evaluating it again reads the cache, with no query."""
        if not isinstance(node, ast.Name):
            return False
        fills, rebinds = [], []
        for child in iter_scope_nodes(self.node.body):
            if isinstance(child, (ast.AsyncFor, ast.comprehension)) and _names(child.iter, node.id):
                if isinstance(child, ast.AsyncFor) or child.is_async:
                    fills.append(child.iter.lineno)
            elif (
                isinstance(child, ast.Call)
                and isinstance(child.func, ast.Call)
                and len(child.args) == 1
                and _names(child.args[0], node.id)
                and self.file.qualname_of(child.func.func) in api.SYNC_TO_ASYNC
                and any(_names(a, "list") or _names(a, "len") for a in child.func.args[:1])
            ):
                fills.append(child.lineno)
            elif isinstance(child, ast.Name) and child.id == node.id and isinstance(child.ctx, ast.Store):
                rebinds.append(child.lineno)
        return any(
            fill < node.lineno and not any(fill <= line < node.lineno for line in rebinds if line != fill)
            for fill in fills
        )

    def session_loaded_before(self, node: ast.AST) -> bool:
        """Whether an awaited `request.auser()` or session coroutine ran earlier in this function:
        the session is then in memory, and reading it is not I/O."""
        return self._session_load_line is not None and self._session_load_line < node.lineno

    @cached_property
    def _session_load_line(self) -> int | None:
        lines = []
        for child in iter_scope_nodes(self.node.body):
            if (
                isinstance(child, ast.Await)
                and isinstance(child.value, ast.Call)
                and isinstance(child.value.func, ast.Attribute)
                and (child.value.func.attr == "auser" or child.value.func.attr in api.SESSION_COROUTINES)
            ):
                receiver = self.file.infer(child.value.func.value, self)
                if isinstance(receiver, Request) and child.value.func.attr == "auser":
                    lines.append(child.lineno)
                elif isinstance(receiver, Session):
                    lines.append(child.lineno)
        return min(lines, default=None)

    def lookup(self, name: str) -> object | None:
        scope: Scope | None = self
        while scope is not None:
            if name in scope.bindings:
                value = scope.bindings[name]
                return None if value is _CONFLICT else value
            scope = scope.parent
        return self.file.module_value(name)


_ASYNC_TWINS_BY_VALUE = {Cache: api.CACHE_METHODS, Signal: api.SIGNAL_METHODS}


def _is_async_twin(base: object, method: str) -> bool:
    """`cache.aget`, `request.session.aset`, `signal.asend`, `user.ahas_perm`: coroutine methods."""
    if isinstance(base, Session):
        return method in api.SESSION_COROUTINES
    twins = _ASYNC_TWINS_BY_VALUE.get(type(base))
    if twins is None and isinstance(base, (Instance, LazyUser)) and base.model is not None and base.model.is_user:
        twins = api.USER_METHODS
    return twins is not None and method.startswith("a") and method[1:] in twins


def _imports_in(function, module: str, is_package: bool) -> Iterator[tuple[str, str]]:
    """(name, qualified name) for the imports in a function's own frame."""
    if isinstance(function, ast.Lambda):
        return
    for node in iter_scope_nodes(function.body):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            yield from names_bound(node, module, is_package)


def _asgi_signature(function: ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda) -> bool:
    """`(scope, receive, send)`, after `self` for a method: an ASGI application."""
    names = [a.arg for a in (*function.args.posonlyargs, *function.args.args)]
    return names[-3:] == ["scope", "receive", "send"]


def _local_root(node: ast.expr, scope: Scope) -> bool:
    """Whether an expression reads a local variable (or an attribute of one)."""
    while isinstance(node, (ast.Attribute, ast.Subscript)):
        node = node.value
    return isinstance(node, ast.Name) and scope.binds(node.id)


def _names(node: ast.AST, name: str) -> bool:
    return isinstance(node, ast.Name) and node.id == name


def _bound_names(function: ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda) -> Iterator[str]:
    arguments = function.args
    for arg in (*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs, arguments.vararg, arguments.kwarg):
        if arg is not None:
            yield arg.arg
    for node in iter_scope_nodes(function.body if isinstance(function.body, list) else [function.body]):
        if isinstance(node, ast.Name) and isinstance(node.ctx, (ast.Store, ast.Del)):
            yield node.id
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            yield node.name
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            for alias in node.names:
                yield (alias.asname or alias.name).split(".")[0]
        elif isinstance(node, ast.ExceptHandler) and node.name:
            yield node.name
        elif isinstance(node, (ast.Global, ast.Nonlocal)):
            yield from node.names


def assigned_once(name: str, body: list[ast.stmt]) -> ast.expr | None:
    """The value of the one `name = value` in a body (nested functions aside); None when there
    is none, or more than one."""
    values = [
        node.value
        for node in iter_scope_nodes(body)
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == name for t in node.targets)
    ]
    return values[0] if len(values) == 1 else None


def parents_of(tree: ast.AST) -> dict[int, ast.AST]:
    """Each node's parent under `tree`, by the child's id."""
    return {id(child): parent for parent in ast.walk(tree) for child in ast.iter_child_nodes(parent)}


_INDENTED_IMPORT = re.compile(r"^[ \t]+(?:from[ \t]+[\w.]+[ \t]+)?import[ \t]", re.MULTILINE)


# Fields that never hold a node a rule looks at (names, flags, expression contexts, an import's
# aliases).
_LEAF_FIELDS = frozenset({"ctx", "id", "attr", "arg", "asname", "module", "level", "kind", "name", "names", "is_async", "conversion", "type_comment"})
_child_fields: dict[type, tuple[str, ...]] = {}


def child_nodes(node: ast.AST) -> list[ast.AST]:
    """The child nodes, in source order (faster than `ast.iter_child_nodes`)."""
    fields = _child_fields.get(type(node))
    if fields is None:
        fields = _child_fields[type(node)] = tuple(f for f in node._fields if f not in _LEAF_FIELDS)
    children: list[ast.AST] = []
    for name in fields:
        value = getattr(node, name, None)
        if isinstance(value, ast.AST):
            children.append(value)
        elif isinstance(value, list):
            children.extend(v for v in value if isinstance(v, ast.AST))
    return children


_NEW_FRAME = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)


def iter_scope_nodes(body: list[ast.stmt]) -> Iterator[ast.AST]:
    """Every node of a function body that runs in that function's frame: nested functions,
    lambdas and classes are yielded but not entered."""
    stack: list[ast.AST] = list(reversed(body))
    while stack:
        node = stack.pop()
        yield node
        if not isinstance(node, _NEW_FRAME):
            stack.extend(reversed(child_nodes(node)))


# -- the file model -------------------------------------------------------------------------


class FileModel:
    def __init__(
        self, tree: ast.Module, module: str, is_package: bool, index: ProjectIndex,
        functions: "ProjectFunctions | None" = None, text: str | None = None,
    ):
        self.tree = tree
        # The source, when known: lets a lookup that needs a walk skip it when the text says no.
        self.text = text
        self.module = module
        self.is_package = is_package
        self.index = index
        # The project's functions, for what calling one returns (None: calls stay unknown).
        self.functions = functions
        self._getattr_attributes: dict[ast.Call, ast.Attribute | None] = {}
        self._getattr_calls: dict[ast.Call, ast.Call | None] = {}
        self.imports = import_bindings(tree, module, is_package)
        self._module_assignments: dict[str, object] | None = None
        # What rules derive from one node and share (a render call's template reads), once.
        self.memo: dict[tuple, object] = {}

    # -- module level ----------------------------------------------------------------------

    @cached_property
    def postponed_annotations(self) -> bool:
        """`from __future__ import annotations`: annotations are kept as strings, never run."""
        return any(
            isinstance(s, ast.ImportFrom) and s.module == "__future__" and any(a.name == "annotations" for a in s.names)
            for s in self.tree.body
        )

    @cached_property
    def module_functions(self) -> dict[str, ast.FunctionDef | ast.AsyncFunctionDef]:
        return {
            s.name: s for s in self.tree.body if isinstance(s, (ast.FunctionDef, ast.AsyncFunctionDef))
        }

    @cached_property
    def module_calls(self) -> dict[str, ast.Call]:
        """Names the module binds once, to what a call returns (`_service = AuthService()`)."""
        bound: dict[str, list[ast.expr]] = {}
        for node in iter_scope_nodes(self.tree.body):
            if isinstance(node, ast.Assign):
                for target in node.targets:
                    if isinstance(target, ast.Name):
                        bound.setdefault(target.id, []).append(node.value)
        return {name: values[0] for name, values in bound.items() if len(values) == 1 and isinstance(values[0], ast.Call)}

    @cached_property
    def module_classes(self) -> dict[str, ast.ClassDef]:
        return {s.name: s for s in self.tree.body if isinstance(s, ast.ClassDef)}

    @property
    def module_assignments(self) -> dict[str, object]:
        """Module-level names bound by assignment; filled in source order on first use, and
        visible while filling (as function bindings are)."""
        if self._module_assignments is not None:
            return self._module_assignments
        values: dict[str, object] = {}
        self._module_assignments = values
        for stmt in self.tree.body:
            if isinstance(stmt, ast.Assign):
                value = self.infer(stmt.value, None)
                for target in stmt.targets:
                    if isinstance(target, ast.Name):
                        known = target.id not in values or values[target.id] == value
                        values[target.id] = value if known else _CONFLICT
            elif isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name):
                values[stmt.target.id] = _CONFLICT if stmt.target.id in values else (
                    self.infer(stmt.value, None) if stmt.value else None
                )
        return values

    def module_value(self, name: str) -> object | None:
        if name in self.module_assignments:
            value = self.module_assignments[name]
            return None if value is _CONFLICT else value
        if name in self.module_classes:
            model = self.index.model(f"{self.module}.{name}")
            return ModelClass(model) if model else None
        function = self.module_functions.get(name)
        if isinstance(function, ast.FunctionDef):
            return LocalFunction(function)
        qualname = self.imports.get(name)
        return self._value_of_qualname(qualname) if qualname else None

    def _value_of_qualname(self, qualname: str) -> object | None:
        model = self.index.model(qualname)
        if model is not None:
            return ModelClass(model)
        if qualname in api.CACHE_OBJECTS:
            return Cache()
        if qualname in api.STORAGE_OBJECTS:
            return Storage()
        if qualname in self.index.signals or qualname in api.BUILTIN_SIGNALS:
            return Signal()
        if qualname.startswith(("django.", "asgiref.", "channels.", "asyncio.")):
            return DjangoCallable(qualname)
        if self._outside_project_models(qualname):
            return ModelClass(external_model(qualname))
        return None

    def _outside_project_models(self, qualname: str) -> bool:
        """A class imported from a `models` module of an installed package (not of the
        project): taken for a model, as a Django developer reads `from corelib.models import
        Artifact`."""
        module, _, name = qualname.rpartition(".")
        if not (module == "models" or module.endswith(".models")) or not name[:1].isupper() or name.isupper():
            return False
        if self.functions is None:
            return False  # the project's modules are not known
        return module.split(".")[0] not in self.functions.packages

    # -- function scopes -------------------------------------------------------------------

    def scope_for(
        self, node: ast.FunctionDef | ast.AsyncFunctionDef, parent: Scope | None, owner: ast.ClassDef | None,
        known: tuple[tuple[str, object], ...] = (),
    ) -> Scope:
        return Scope(node, parent, owner, self, known)

    def _bind_function(self, scope: Scope, bindings: dict[str, object]) -> None:
        def bind(name: str, value: object | None) -> None:
            if name in bindings and bindings[name] != value:
                bindings[name] = _CONFLICT
            else:
                bindings[name] = value

        node = scope.node
        for position, arg in enumerate((*node.args.posonlyargs, *node.args.args, *node.args.kwonlyargs)):
            bindings[arg.arg] = self._parameter_value(arg, position, scope)
        for arg in (node.args.vararg, node.args.kwarg):
            if arg is not None:
                bindings[arg.arg] = None
        # Bindings are gathered in source order, so `qs = qs.filter(...)` sees the first `qs`.
        for stmt in iter_scope_nodes(node.body):
            if isinstance(stmt, ast.Assign):
                value = self.infer(stmt.value, scope)
                for target in stmt.targets:
                    self._bind_target(target, value, bind)
            elif isinstance(stmt, ast.AnnAssign):
                value = self.infer(stmt.value, scope) if stmt.value is not None else None
                annotated = self._annotation_value(stmt.annotation)
                self._bind_target(stmt.target, annotated or value, bind)
            elif isinstance(stmt, ast.NamedExpr):
                self._bind_target(stmt.target, self.infer(stmt.value, scope), bind)
            elif isinstance(stmt, (ast.For, ast.AsyncFor, ast.comprehension)):
                self._bind_target(stmt.target, self._element_of(stmt.iter, scope), bind)
            elif isinstance(stmt, (ast.AugAssign,)):
                self._bind_target(stmt.target, _CONFLICT, bind)
            elif isinstance(stmt, (ast.With, ast.AsyncWith)):
                for item in stmt.items:
                    if item.optional_vars is not None:
                        self._bind_target(item.optional_vars, None, bind)
            elif isinstance(stmt, (ast.Global, ast.Nonlocal)):
                for name in stmt.names:
                    bindings[name] = _CONFLICT
            elif isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                bind(stmt.name, LocalFunction(stmt) if isinstance(stmt, ast.FunctionDef) else None)
            elif isinstance(stmt, (ast.Import, ast.ImportFrom)):
                # A function's own import means what a module-level one would.
                for name, qualname in names_bound(stmt, self.module, self.is_package):
                    bind(name, self._value_of_qualname(qualname))
            elif isinstance(stmt, ast.ExceptHandler) and stmt.name:
                bind(stmt.name, None)
            elif isinstance(stmt, ast.Delete):
                for target in stmt.targets:
                    self._bind_target(target, _CONFLICT, bind)

    def _bind_target(self, target: ast.expr, value: object | None, bind) -> None:
        if isinstance(target, ast.Name):
            bind(target.id, value)
        elif isinstance(target, (ast.Tuple, ast.List)):
            items = value.items if isinstance(value, Pair) else ()
            for position, element in enumerate(target.elts):
                if isinstance(element, ast.Starred):
                    self._bind_target(element.value, None, bind)
                else:
                    self._bind_target(
                        element, items[position] if position < len(items) else None, bind
                    )
        elif isinstance(target, ast.Starred):
            self._bind_target(target.value, None, bind)

    def _parameter_value(self, arg: ast.arg, position: int, scope: Scope) -> object | None:
        for name, value in scope.known:
            if name == arg.arg:
                return value
        if arg.annotation is not None:
            value = self._annotation_value(arg.annotation)
            if value is not None:
                return value
        if position == 0 and scope.owner is not None and arg.arg in ("self", "cls"):
            return self._self_value(scope.owner, is_class=arg.arg == "cls")
        if arg.arg == "request" and arg.annotation is None:
            return Request()
        if arg.arg == "scope" and arg.annotation is None and _asgi_signature(scope.node):
            return AsgiScope()
        return None

    def _annotation_value(self, annotation: ast.expr) -> object | None:
        if isinstance(annotation, ast.Constant) and isinstance(annotation.value, str):
            try:
                annotation = ast.parse(annotation.value, mode="eval").body
            except SyntaxError:
                return None
        unwrapped = self._without_none(annotation)
        if unwrapped is not annotation:
            return self._annotation_value(unwrapped) if unwrapped is not None else None
        model = None
        if isinstance(annotation, ast.Subscript):  # QuerySet[Book], Manager["Book"]
            inner = annotation.slice
            if isinstance(inner, ast.Constant) and isinstance(inner.value, str):
                inner = ast.Name(inner.value)
            model_class = self.infer(inner, None) if isinstance(inner, (ast.Name, ast.Attribute)) else None
            model = model_class.model if isinstance(model_class, ModelClass) else None
            annotation = annotation.value
        qualname = self.qualname_of(annotation)
        if qualname in api.QUERYSET_BASES:
            return QuerySet(model)
        if qualname in api.MANAGER_BASES:
            return Manager(model)
        if qualname in api.HTTP_REQUEST_CLASSES:
            return Request()
        value = self.infer(annotation, None) if isinstance(annotation, (ast.Name, ast.Attribute)) else None
        if isinstance(value, ModelClass):
            return Instance(value.model, PARAMETER)
        if self._model_protocol(annotation):
            return Instance(None, PARAMETER)
        return None

    def _model_protocol(self, annotation: ast.expr) -> bool:
        """A `typing.Protocol` declaring a model's `save(update_fields=...)`: what it types is a
        model instance, whichever model."""
        node = None
        if isinstance(annotation, ast.Name) and annotation.id in self.module_classes:
            node, file = self.module_classes[annotation.id], self
        elif self.functions is not None:
            qualname = self.qualname_of(annotation)
            found = self.functions.class_def(qualname) if qualname else None
            if found is not None:
                node, file = found
        if node is None or not any(file.qualname_of(b) in _PROTOCOLS for b in node.bases):
            return False
        return any(
            isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef))
            and stmt.name == "save"
            and any(a.arg == "update_fields" for a in (*stmt.args.args, *stmt.args.kwonlyargs))
            for stmt in node.body
        )

    def _without_none(self, annotation: ast.expr) -> ast.expr | None:
        """`Optional[X]`, `Union[X, None]` and `X | None` are X where they hold a value; a union
        of several other types is none of them."""
        if isinstance(annotation, ast.Subscript) and self.qualname_of(annotation.value) in _OPTIONAL:
            return self._without_none(annotation.slice)
        if isinstance(annotation, ast.Subscript) and self.qualname_of(annotation.value) in _UNION:
            members = annotation.slice.elts if isinstance(annotation.slice, ast.Tuple) else [annotation.slice]
        elif isinstance(annotation, ast.BinOp) and isinstance(annotation.op, ast.BitOr):
            members = [annotation.left, annotation.right]
        else:
            return annotation
        kept = [m for m in members if not (isinstance(m, ast.Constant) and m.value is None)]
        return self._without_none(kept[0]) if len(kept) == 1 else None

    def alias_of(self, *qualnames: str) -> str | None:
        """The name a module-level import binds to one of `qualnames`, if any."""
        return next((alias for alias, bound in self.imports.items() if bound in qualnames), None)

    def qualname_of(self, node: ast.expr) -> str | None:
        if isinstance(node, ast.Name) and node.id in self.module_classes:
            return f"{self.module}.{node.id}"
        return qualify(node, self.imports) or qualify(node, self.function_imports)

    @cached_property
    def has_function_imports(self) -> bool:
        """Whether an import can be inside a function: some import line is indented (without
        the text, assume so)."""
        return self.text is None or _INDENTED_IMPORT.search(self.text) is not None

    @cached_property
    def function_imports(self) -> dict[str, str]:
        """Names imported inside functions (`from asgiref.sync import markcoroutinefunction` in
        `__init__`), where every such import of the name agrees and nothing at module level
        binds it: rules that resolve a name without its scope read them too."""
        if not self.has_function_imports:
            return {}  # every import starts a line: none is inside a function
        found: dict[str, str | None] = {}
        # One walk: the imports that are not the module's own nor a class body's are in functions.
        outside = [*iter_scope_nodes(self.tree.body)]
        outside += [n for c in outside if isinstance(c, ast.ClassDef) for n in iter_scope_nodes(c.body)]
        not_in_functions = {id(n) for n in outside if isinstance(n, (ast.Import, ast.ImportFrom))}
        for node in ast.walk(self.tree):
            if isinstance(node, (ast.Import, ast.ImportFrom)) and id(node) not in not_in_functions:
                for name, qualname in names_bound(node, self.module, self.is_package):
                    found[name] = qualname if found.get(name, qualname) == qualname else None
        taken = set(self.imports) | set(self.module_functions) | set(self.module_classes)
        return {n: q for n, q in found.items() if q is not None and n not in taken}

    def _imported_name(self, node: ast.expr, scope: Scope | None) -> str | None:
        """The qualified name of `a.b.c` through the imports (the function's own, then the
        module's), unless `a` is a local name bound otherwise."""
        root = node
        while isinstance(root, ast.Attribute):
            root = root.value
        if isinstance(root, ast.Name) and scope is not None:
            current: Scope | None = scope
            while current is not None:
                if root.id in current.imports:
                    return qualify(node, current.imports)
                if root.id in current.local_names:
                    return None
                current = current.parent
        return qualify(node, self.imports)

    def _self_value(self, owner: ast.ClassDef, *, is_class: bool) -> object | None:
        qualname = f"{self.module}.{owner.name}"
        kind = self.index.kind(qualname)
        if kind == "model":
            model = self.index.model(qualname)
            return ModelClass(model) if is_class else Instance(model)
        if is_class:
            return None
        if kind == "queryset":
            return QuerySet(None, self.index.lazy_methods(qualname))
        if kind == "manager":
            return Manager(None, ManagerSpec(qualname))
        if self._is_view(owner):
            return ViewSelf(self._view_model(owner))
        if any((self.qualname_of(base) or "").startswith(("channels.generic.", "channels.consumer.")) for base in owner.bases):
            return ConsumerSelf()
        return None

    def _is_view(self, owner: ast.ClassDef) -> bool:
        return any(
            (self.qualname_of(base) or "").startswith(("django.views", "rest_framework.", "django.contrib.admin"))
            for base in owner.bases
        )

    def _view_model(self, owner: ast.ClassDef) -> Model | None:
        for stmt in owner.body:
            if isinstance(stmt, ast.Assign) and any(
                isinstance(t, ast.Name) and t.id in ("model", "queryset") for t in stmt.targets
            ):
                value = self.infer(stmt.value, None)
                if isinstance(value, ModelClass):
                    return value.model
                if isinstance(value, (QuerySet, Manager)):
                    return value.model
        return None

    # -- inference -------------------------------------------------------------------------

    def infer(self, node: ast.expr | None, scope: Scope | None) -> object | None:
        if isinstance(node, ast.Name):
            return scope.lookup(node.id) if scope is not None else self.module_value(node.id)
        if isinstance(node, ast.Attribute):
            return self._infer_attribute(node, scope)
        if isinstance(node, ast.Call):
            return self._infer_call(node, scope)
        if isinstance(node, ast.Await):
            value = self.infer(node.value, scope)
            return value.result if isinstance(value, Coroutine) else None
        if isinstance(node, ast.Subscript):
            return self._infer_subscript(node, scope)
        if isinstance(node, ast.NamedExpr):
            return self.infer(node.value, scope)
        if isinstance(node, ast.ListComp):
            return self._rows(node, scope)
        return None

    def _rows(self, node: ast.ListComp, scope: Scope | None) -> Rows | None:
        """`[b async for b in qs]` (the rows themselves, unfiltered by a condition or not)."""
        if len(node.generators) != 1 or scope is None:
            return None
        generator = node.generators[0]
        if not (isinstance(node.elt, ast.Name) and isinstance(generator.target, ast.Name)):
            return None
        if node.elt.id != generator.target.id:
            return None
        element = self._element_of(generator.iter, scope)
        return Rows(element) if isinstance(element, Instance) else None

    def _infer_attribute(self, node: ast.Attribute, scope: Scope | None) -> object | None:
        base = self.infer(node.value, scope)
        attr = node.attr
        if base is None:
            qualname = self._imported_name(node, scope)
            if qualname:
                return self._value_of_qualname(qualname)
            relation = self.index.reverse_managers.get(attr)
            if relation is not None and scope is not None and _local_root(node.value, scope):
                # `x.book_set` on a value of unknown type: only a Book's foreign key makes it.
                target = self.index.models.get(relation.target or "")
                spec = target.managers.get("objects") if target else None
                return Manager(target, spec or ManagerSpec(), relation)
            return None
        if isinstance(base, ModelClass):
            spec = base.model.managers.get(attr)
            return Manager(base.model, spec) if spec is not None else None
        if isinstance(base, Instance) and base.model is not None:
            relation = base.model.relations.get(attr)
            if relation is None:
                return FieldFile() if attr in base.model.file_fields else None
            return self._related(base, relation)
        if isinstance(base, Request):
            if attr == "session":
                return Session()
            if attr == "user":
                return LazyUser(self.index.models.get(self.index.user_model or ""))
            return None
        if isinstance(base, ViewSelf) and attr == "queryset":
            return QuerySet(base.model)
        if isinstance(base, ConsumerSelf) and attr == "scope":
            return AsgiScope()
        if isinstance(base, DjangoCallable):
            return self._value_of_qualname(f"{base.qualname}.{attr}")
        return None

    def _infer_subscript(self, node: ast.Subscript, scope: Scope | None) -> object | None:
        base = self.infer(node.value, scope)
        if isinstance(base, QuerySet):
            if isinstance(node.slice, ast.Slice):
                return base if node.slice.step is None else None
            return self._fetched(base, node.value)
        if isinstance(base, DjangoCallable) and base.qualname in api.CACHE_HANDLERS:
            return Cache()
        if isinstance(base, DjangoCallable) and base.qualname in api.STORAGE_HANDLERS:
            return Storage()
        if isinstance(base, AsgiScope) and isinstance(node.slice, ast.Constant):
            if node.slice.value == "session":
                return Session()
            if node.slice.value == "user":
                return Instance(self.index.models.get(self.index.user_model or ""))
        return None

    def getattr_attribute(self, call: ast.Call, scope: Scope | None) -> ast.Attribute | None:
        """`getattr(x, "name")` or `getattr(x, "name", default)` as the attribute read `x.name`
        it is (None for any other call, or a `getattr` that is not the builtin).  The node is
        made once per call, outside the tree, spanning the whole call; `from_getattr` tells
        fixes that rename the attribute to rewrite the call."""
        if call in self._getattr_attributes:
            return self._getattr_attributes[call]
        attribute = None
        func = call.func
        if (
            isinstance(func, ast.Name)
            and func.id == "getattr"
            and 2 <= len(call.args) <= 3
            and not call.keywords
            and not any(isinstance(a, ast.Starred) for a in call.args)
            and isinstance(call.args[1], ast.Constant)
            and isinstance(call.args[1].value, str)
            and call.args[1].value.isidentifier()
            and not (scope is not None and scope.binds("getattr"))
            and "getattr" not in self.imports
            and "getattr" not in self.module_functions
            and "getattr" not in self.module_assignments
        ):
            attribute = ast.Attribute(value=call.args[0], attr=call.args[1].value, ctx=ast.Load())
            ast.copy_location(attribute, call)
            attribute.from_getattr = True
        self._getattr_attributes[call] = attribute
        return attribute

    def getattr_call(self, call: ast.Call, scope: Scope | None) -> ast.Call | None:
        """`getattr(x, "name")(...)` as the call `x.name(...)`, made once per call."""
        if call in self._getattr_calls:
            return self._getattr_calls[call]
        attribute = self.getattr_attribute(call.func, scope) if isinstance(call.func, ast.Call) else None
        direct = None
        if attribute is not None:
            direct = ast.copy_location(ast.Call(func=attribute, args=call.args, keywords=call.keywords), call)
        self._getattr_calls[call] = direct
        return direct

    def _infer_call(self, node: ast.Call, scope: Scope | None) -> object | None:
        if isinstance(node.func, ast.Name) and node.func.id == "getattr":
            attribute = self.getattr_attribute(node, scope)
            if attribute is not None:
                return self._infer_attribute(attribute, scope)
        elif isinstance(node.func, ast.Call):
            direct = self.getattr_call(node, scope)
            if direct is not None:
                return self._infer_call(direct, scope)
        value = self._infer_django_call(node, scope)
        if value is None and self.functions is not None:
            function = self.functions.resolve(node.func, self, scope)
            if function is not None:
                return self.functions.call_value(function)
        return value

    def _infer_django_call(self, node: ast.Call, scope: Scope | None) -> object | None:
        func = node.func
        if isinstance(func, ast.Attribute):
            base = self.infer(func.value, scope)
            method = func.attr
            if isinstance(base, (Manager, QuerySet)):
                return self._queryset_call(base, node)
            if isinstance(base, ViewSelf) and method == "get_queryset":
                return QuerySet(base.model)
            if isinstance(base, Request) and method == "auser":
                return Coroutine(Instance(self.index.models.get(self.index.user_model or "")))
            if isinstance(base, Instance) and method in ("asave", "adelete", "arefresh_from_db"):
                return Coroutine(None)
            if _is_async_twin(base, method):
                return Coroutine(None)
            if isinstance(base, DjangoCallable) or base is None:
                qualname = self._imported_name(func, scope) if base is None else f"{base.qualname}.{method}"
                return self._call_of_qualname(qualname, node, scope) if qualname else None
            return None
        if isinstance(func, ast.Call):
            callee = self.infer(func, scope)
            if not isinstance(callee, SyncToAsync):
                return None
            # `await sync_to_async(list)(qs)`: the rows, fetched in a thread.
            wrapped = func.args[0] if func.args else None
            if isinstance(wrapped, ast.Name) and wrapped.id == "list" and len(node.args) == 1 and scope is not None:
                element = self._element_of(node.args[0], scope)
                return Coroutine(Rows(element) if isinstance(element, Instance) else None)
            # `await sync_to_async(Book.objects.get)(pk=1)`: what the sync call returns.
            if isinstance(wrapped, ast.Attribute) and isinstance(self.infer(wrapped.value, scope), (Manager, QuerySet)):
                direct = ast.Call(func=wrapped, args=node.args, keywords=node.keywords)
                return Coroutine(self._infer_call(ast.copy_location(direct, node), scope))
            # `await sync_to_async(load_case)(pk)`: what the project function returns.
            function = self.functions.resolve(wrapped, self, scope) if wrapped is not None and self.functions else None
            if function is not None and not function.is_async:
                return Coroutine(self.functions.returns(function))
            return Coroutine(None)
        callee = self.infer(func, scope)
        if isinstance(callee, ModelClass):
            return Instance(callee.model, BUILT)
        if isinstance(callee, DjangoCallable):
            return self._call_of_qualname(callee.qualname, node, scope)
        return None

    def _call_of_qualname(self, qualname: str, node: ast.Call, scope: Scope | None) -> object | None:
        if qualname in api.SYNC_TO_ASYNC:
            return SyncToAsync()
        if qualname in api.GET_USER_MODEL:
            model = self.index.models.get(self.index.user_model or "")
            return ModelClass(model) if model else None
        if qualname in api.GET_MODEL:
            names = [a.value for a in node.args if isinstance(a, ast.Constant) and isinstance(a.value, str)]
            if len(names) != len(node.args) or node.keywords or not 1 <= len(names) <= 2:
                return None
            model = self.index.models.get(self.index.resolve_model_ref(".".join(names), None) or "")
            return ModelClass(model) if model else None
        if qualname in api.EMAIL_MESSAGE_CLASSES:
            return EmailMessage()
        if qualname in api.STORAGE_CLASSES:
            return Storage()
        if qualname in api.SIGNAL_CLASSES:
            return Signal()
        name = qualname.rpartition(".")[2]
        if qualname in api.SHORTCUT_FUNCTIONS or qualname.endswith(
            ("shortcuts.aget_object_or_404", "shortcuts.get_object_or_404")
        ):
            first = self.infer(node.args[0], scope) if node.args else None
            instance = None
            if "object" in name and isinstance(first, (Manager, QuerySet)):
                instance = self._fetched(first, node.args[0])
            elif "object" in name and isinstance(first, ModelClass):
                instance = Instance(first.model, FETCHED)  # no QuerySet in the code to extend
            return Coroutine(instance) if name.startswith("a") else instance
        if qualname.startswith(api.AUTH_MODULES) and name in ("authenticate", "aauthenticate", "get_user", "aget_user"):
            user = Instance(self.index.models.get(self.index.user_model or ""))
            return Coroutine(user) if name.startswith("a") else user
        if qualname.rpartition(".")[0] in api.AUTH_MODULES and name[1:] in api.AUTH_FUNCTIONS and name[0] == "a":
            return Coroutine(None)
        return None

    def _queryset_call(self, base: Manager | QuerySet, call: ast.Call) -> object | None:
        method = call.func.attr
        receiver = call.func.value
        model = base.model
        if isinstance(base, QuerySet):
            queryset = base
        else:
            custom = self.index.lazy_methods(base.spec.manager_class, base.spec.queryset_class)
            queryset = QuerySet(model, custom)
        if method in api.LAZY_QUERYSET_METHODS or method in queryset.custom_lazy or method == "get_queryset":
            return QuerySet(
                model,
                queryset.custom_lazy,
                yields_instances=queryset.yields_instances and method not in api.VALUES_METHODS,
                loading=queryset.loading.after(method, call),
                from_prefetch_cache=method == "all" and isinstance(base, Manager) and base.prefetched,
            )
        if method == "raw":
            return QuerySet(model, raw=True)
        if method == "iterator":
            return queryset
        instance = self._fetched(queryset, receiver)
        sync = method[1:] if method.startswith("a") else method
        if sync == "create":
            instance = Instance(model, BUILT) if instance is not None else None
        if sync in api.INSTANCE_METHODS:
            result: object | None = instance
        elif sync in api.INSTANCE_AND_FLAG_METHODS:
            result = Pair((instance, None))
        elif sync in api.QUERYSET_METHODS or sync in api.RELATED_MANAGER_METHODS:
            result = None
        else:
            return None
        return Coroutine(result) if method.startswith("a") else result

    @staticmethod
    def _fetched(queryset: QuerySet | Manager, source: ast.expr) -> Instance | None:
        """The instance a query over `source` gives, carrying what the query loaded."""
        if isinstance(queryset, Manager):
            return Instance(queryset.model, FETCHED, Loading(), source)
        if not queryset.yields_instances or queryset.raw:
            return None
        return Instance(queryset.model, FETCHED, queryset.loading, source)

    def _related(self, instance: Instance, relation: Relation) -> object | None:
        """The value of reading `relation` on `instance`: a related manager, or the instance at
        the other end, loaded or not."""
        target = self.index.models.get(relation.target or "")
        if relation.is_manager:
            spec = target.managers.get("objects") if target else None
            # A parameter's caller may have prefetched it: unknown counts as prefetched.
            prefetched = instance.origin == PARAMETER or (
                instance.origin in (FETCHED, RELATED) and instance.loading.loads_relation(relation.name)
            )
            return Manager(target, spec or ManagerSpec(), relation, prefetched)
        if relation.kind == "gfk":
            return None
        if instance.origin in (FETCHED, RELATED):
            if instance.loading.loads_relation(relation.name):
                path = f"{instance.path}__{relation.name}" if instance.path else relation.name
                return Instance(target, RELATED, instance.loading.below(relation.name), instance.source, path)
            return Instance(target, LAZY)
        return Instance(target, LAZY if instance.origin == PARAMETER else UNKNOWN)

    def _element_of(self, iterable: ast.expr, scope: Scope) -> object | None:
        """The loop variable's value when iterating `iterable`."""
        source = iterable
        if (
            isinstance(iterable, ast.Call)
            and isinstance(iterable.func, ast.Attribute)
            and iterable.func.attr in ("iterator", "aiterator")
        ):
            source = iterable.func.value
        value = self.infer(source, scope)
        if isinstance(value, Rows):
            return value.instance
        return self._fetched(value, source) if isinstance(value, QuerySet) else None
