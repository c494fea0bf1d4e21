"""What the ASL4 rules share: reading a middleware class (its `__init__(get_response)`, its
`__call__`, the `sync_capable`/`async_capable` flags Django reads from it, whether it marks
itself a coroutine function) and a class-based view (which HTTP handlers it has, sync or async).

Not a rule module (it defines no `Rule`); named `asl4_*` to sit with the rules that use it.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field

from .. import django_api as api
from ..context import Context
from .asl3_shared import lineage, methods_of

Function = ast.FunctionDef | ast.AsyncFunctionDef


def _is_self(node: ast.AST) -> bool:
    return isinstance(node, ast.Name) and node.id == "self"


def is_marking_call(ctx: Context, node: ast.AST) -> bool:
    """`markcoroutinefunction(self)` (asgiref's or inspect's)."""
    return (
        isinstance(node, ast.Call)
        and len(node.args) == 1
        and _is_self(node.args[0])
        and (ctx.file.qualname_of(node.func) or "").endswith(".markcoroutinefunction")
    )


def legacy_marker(ctx: Context, node: ast.AST) -> ast.expr | None:
    """The marked object of `obj._is_coroutine = asyncio.coroutines._is_coroutine`."""
    if (
        isinstance(node, ast.Assign)
        and len(node.targets) == 1
        and isinstance(node.targets[0], ast.Attribute)
        and node.targets[0].attr == "_is_coroutine"
        and ctx.file.qualname_of(node.value) == api.LEGACY_COROUTINE_MARKER
    ):
        return node.targets[0].value
    return None


@dataclass
class MiddlewareClass:
    node: ast.ClassDef
    init: ast.FunctionDef | None
    get_response: str | None  # the __init__ parameter
    call: Function | None  # __call__, own or from a local base
    acall: ast.AsyncFunctionDef | None  # an async method __call__ hands the request to
    sync_capable: bool | None  # None: unknown (a base we cannot read)
    async_capable: bool | None
    flag_assignments: dict[str, ast.Assign] = field(default_factory=dict)  # in the class body
    marks: list[ast.AST] = field(default_factory=list)  # markcoroutinefunction(self) calls
    legacy_marks: list[ast.Assign] = field(default_factory=list)
    mixin: bool = False  # built on MiddlewareMixin
    complete: bool = True  # every base was read: none can mark the instance or define __call__
    flags_outside_body: bool = False  # set by a decorator or after the class: not editable in the body

    @property
    def async_call(self) -> bool:
        return isinstance(self.call, ast.AsyncFunctionDef)

    @property
    def marked(self) -> bool:
        return bool(self.marks or self.legacy_marks)


def _flag_value(value: ast.expr) -> bool | None:
    return value.value if isinstance(value, ast.Constant) and isinstance(value.value, bool) else None


def middleware_class(ctx: Context, node: ast.ClassDef) -> MiddlewareClass | None:
    """The class as Django middleware, or None when it is not one (no `__init__` taking
    `get_response`, not a MiddlewareMixin) or is an ASGI application (`__call__(self, scope,
    receive, send)`)."""
    found = lineage(ctx, node)
    mixin = found.has({api.MIDDLEWARE_MIXIN, "django.utils.deprecation.MiddlewareMixin"})
    classes = [node, *found.local.values()]  # own first, then local bases (nearest first enough here)
    methods: dict[str, Function] = {}
    for cls in reversed(classes):
        methods.update(methods_of(cls))
    init = methods.get("__init__")
    get_response = None
    if isinstance(init, ast.FunctionDef):
        params = [a.arg for a in (*init.args.posonlyargs, *init.args.args)]
        if len(params) >= 2 and (params[1] == "get_response" or _stores_get_response(init, params[1])):
            get_response = params[1]
    if get_response is None and not mixin:
        return None
    call = methods.get("__call__")
    if call is not None and len(call.args.args) >= 4:
        return None  # an ASGI application: __call__(self, scope, receive, send)
    acall = None
    if isinstance(call, ast.FunctionDef):
        for stmt in ast.walk(call):
            if isinstance(stmt, ast.Return) and isinstance(stmt.value, ast.Call):
                target = stmt.value.func
                if isinstance(target, ast.Attribute) and _is_self(target.value):
                    candidate = methods.get(target.attr)
                    if isinstance(candidate, ast.AsyncFunctionDef):
                        acall = candidate
    sync_capable, async_capable = (True, True) if mixin else (True, False)
    known = found.complete or mixin
    assignments: dict[str, ast.Assign] = {}
    outside = False
    for cls in reversed(classes):
        for stmt in cls.body:
            if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name):
                name = stmt.targets[0].id
                if name in ("sync_capable", "async_capable"):
                    value = _flag_value(stmt.value)
                    if cls is node:
                        assignments[name] = stmt
                    if name == "sync_capable":
                        sync_capable = value
                    else:
                        async_capable = value
        for decorator in cls.decorator_list:
            flags = api.MIDDLEWARE_FLAG_DECORATORS.get(ctx.file.qualname_of(decorator) or "")
            if flags is not None:
                sync_capable, async_capable = flags
                known = True
                outside = outside or cls is node
    for stmt in ctx.file.tree.body:  # Middleware.async_capable = True after the class
        if (
            isinstance(stmt, ast.Assign)
            and len(stmt.targets) == 1
            and isinstance(stmt.targets[0], ast.Attribute)
            and isinstance(stmt.targets[0].value, ast.Name)
            and stmt.targets[0].value.id == node.name
            and stmt.targets[0].attr in ("sync_capable", "async_capable")
        ):
            outside = True
            if stmt.targets[0].attr == "sync_capable":
                sync_capable = _flag_value(stmt.value)
            else:
                async_capable = _flag_value(stmt.value)
    if not known:
        sync_capable = sync_capable if "sync_capable" in assignments else None
        async_capable = async_capable if "async_capable" in assignments else None
    result = MiddlewareClass(
        node, init if isinstance(init, ast.FunctionDef) else None, get_response, call, acall,
        sync_capable, async_capable, assignments, mixin=mixin,
    )
    for cls in classes:
        for inner in ast.walk(cls):
            if is_marking_call(ctx, inner):
                result.marks.append(inner)
            elif legacy_marker(ctx, inner) is not None and _is_self(legacy_marker(ctx, inner)):
                result.legacy_marks.append(inner)
    result.complete = found.complete
    result.flags_outside_body = outside
    return result


def before_handoff(middleware: MiddlewareClass) -> list[ast.stmt]:
    """The statements of a sync `__call__` that run before it hands the request to its async
    method (`if iscoroutinefunction(self): return self.__acall__(request)`): for an async
    request they run on the event loop."""
    call, acall = middleware.call, middleware.acall
    if not isinstance(call, ast.FunctionDef) or acall is None:
        return []
    for position, stmt in enumerate(call.body):
        for node in ast.walk(stmt):
            if (
                isinstance(node, ast.Return)
                and isinstance(node.value, ast.Call)
                and isinstance(node.value.func, ast.Attribute)
                and _is_self(node.value.func.value)
                and node.value.func.attr == acall.name
            ):
                return call.body[:position]
    return []


def loop_hazards(ctx: Context, middleware: MiddlewareClass) -> list:
    """What the statements before the hand-off do that is unsafe on the event loop (the ASL1
    rules, as for a helper called from async code)."""
    prefix = before_handoff(middleware)
    if not prefix or ctx.functions is None:
        return []
    call = middleware.call
    stand_in = ast.FunctionDef(name=call.name, args=call.args, body=prefix, decorator_list=[], returns=None)
    ast.copy_location(stand_in, call)
    return ctx.functions.hazards_of(stand_in, middleware.node, ctx.file, ctx.source)


def _stores_get_response(init: ast.FunctionDef, param: str) -> bool:
    return any(
        isinstance(stmt, ast.Assign)
        and any(isinstance(t, ast.Attribute) and _is_self(t.value) and t.attr == "get_response" for t in stmt.targets)
        and isinstance(stmt.value, ast.Name)
        and stmt.value.id == param
        for stmt in init.body
    )


def calls_super_init(init: ast.FunctionDef | None) -> bool:
    return init is not None and any(
        isinstance(n, ast.Call)
        and isinstance(n.func, ast.Attribute)
        and n.func.attr == "__init__"
        and isinstance(n.func.value, ast.Call)
        and isinstance(n.func.value.func, ast.Name)
        and n.func.value.func.id == "super"
        for n in ast.walk(init)
    )


# -- class-based views --------------------------------------------------------------------------

HTTP_METHODS = ("get", "post", "put", "patch", "delete", "head", "options", "trace")
# The sync handlers Django's generic views define (Django 5.2.19, `views/generic/*.py` and
# `contrib/auth/views.py`, read by introspection: every handler of these classes is a plain def).
GENERIC_VIEW_HANDLERS: dict[str, frozenset[str]] = {
    **dict.fromkeys(("View",), frozenset()),
    **dict.fromkeys(
        (
            "TemplateView", "DetailView", "BaseDetailView", "ListView", "BaseListView",
            "ArchiveIndexView", "BaseArchiveIndexView", "DateDetailView", "BaseDateDetailView",
            "BaseDateListView", "DayArchiveView", "BaseDayArchiveView", "MonthArchiveView",
            "BaseMonthArchiveView", "TodayArchiveView", "BaseTodayArchiveView", "WeekArchiveView",
            "BaseWeekArchiveView", "YearArchiveView", "BaseYearArchiveView",
            "PasswordChangeDoneView", "PasswordResetCompleteView", "PasswordResetDoneView",
        ),
        frozenset({"get"}),
    ),
    **dict.fromkeys(
        (
            "FormView", "BaseFormView", "ProcessFormView", "CreateView", "BaseCreateView",
            "UpdateView", "BaseUpdateView", "LoginView", "PasswordChangeView",
            "PasswordResetConfirmView", "PasswordResetView",
        ),
        frozenset({"get", "post", "put"}),
    ),
    "LogoutView": frozenset({"get", "post"}),
    "RedirectView": frozenset({"get", "head", "post", "delete", "put", "patch"}),
    **dict.fromkeys(("DeleteView", "BaseDeleteView"), frozenset({"get", "post", "delete"})),
    "DeletionMixin": frozenset({"post", "delete"}),
}
_VIEW_MODULES = ("django.views.", "django.contrib.auth.views.")
# Mixins without handlers, often listed next to the view.
_HANDLERLESS_PREFIXES = ("django.contrib.auth.mixins.", "django.views.generic.base.ContextMixin")


@dataclass
class Handler:
    name: str
    is_async: bool
    node: Function | None  # None: inherited from Django
    owner: ast.ClassDef | None  # the class in this file that defines it
    decorated: bool = False  # by method_decorator


@dataclass
class ViewClass:
    node: ast.ClassDef
    handlers: dict[str, Handler]  # "options" left out, as View.view_is_async does
    dispatch: Function | None
    complete: bool  # every handler's definition is known


def view_class(ctx: Context, node: ast.ClassDef) -> ViewClass | None:
    found = lineage(ctx, node)
    django_views = [q for q in found.qualnames if q.startswith(_VIEW_MODULES)]
    if not django_views:
        return None
    complete = True
    inherited: set[str] = set()
    for qualname in found.qualnames:
        if qualname.startswith(_VIEW_MODULES):
            handlers = GENERIC_VIEW_HANDLERS.get(qualname.rpartition(".")[2])
            if handlers is None:
                complete = False
            else:
                inherited |= handlers
        elif qualname in found.local or qualname.startswith(_HANDLERLESS_PREFIXES) or qualname == "object":
            continue
        else:
            complete = False
    if not found.complete:
        complete = False
    names = _http_method_names(node) or HTTP_METHODS
    handlers: dict[str, Handler] = {}
    for name in inherited:
        if name in names and name != "options":
            handlers[name] = Handler(name, False, None, None)
    for cls in [*reversed(list(found.local.values())), node]:
        own = methods_of(cls)
        for stmt in cls.body:
            if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)) and stmt.name in names and stmt.name != "options":
                decorated = any(_is_method_decorator(ctx, d) for d in stmt.decorator_list)
                other = [d for d in stmt.decorator_list if not _is_method_decorator(ctx, d)]
                if other:
                    complete = False
                handlers[stmt.name] = Handler(stmt.name, isinstance(stmt, ast.AsyncFunctionDef), stmt, cls, decorated)
            elif isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name):
                alias = stmt.targets[0].id
                if alias in names and alias != "options":
                    source = own.get(stmt.value.id) if isinstance(stmt.value, ast.Name) else None
                    if source is None and isinstance(stmt.value, ast.Name) and stmt.value.id in handlers:
                        handlers[alias] = handlers[stmt.value.id]
                    elif source is not None:
                        handlers[alias] = Handler(alias, isinstance(source, ast.AsyncFunctionDef), source, cls)
                    else:
                        complete = False
    dispatch = None
    for cls in [*reversed(list(found.local.values())), node]:
        dispatch = methods_of(cls).get("dispatch", dispatch)
    return ViewClass(node, handlers, dispatch, complete)


def _is_method_decorator(ctx: Context, decorator: ast.expr) -> bool:
    target = decorator.func if isinstance(decorator, ast.Call) else decorator
    return ctx.file.qualname_of(target) == api.METHOD_DECORATOR


def _http_method_names(node: ast.ClassDef) -> tuple[str, ...] | None:
    for stmt in node.body:
        if (
            isinstance(stmt, ast.Assign)
            and any(isinstance(t, ast.Name) and t.id == "http_method_names" for t in stmt.targets)
            and isinstance(stmt.value, (ast.List, ast.Tuple))
            and all(isinstance(e, ast.Constant) and isinstance(e.value, str) for e in stmt.value.elts)
        ):
            return tuple(e.value for e in stmt.value.elts)
    return None
