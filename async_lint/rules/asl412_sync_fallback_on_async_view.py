from __future__ import annotations

import ast

from .. import django_api as api
from ..diagnostics import Applicability, Edit, Fix
from ..fixers.expressions import needs_parentheses
from ..project import own_returns
from ..semantic import parents_of
from .asl3_shared import is_stub
from .asl4_shared import view_class
from .base import MODULE, Invalid, Rule, Valid

_HEAD = "from django.http import HttpResponse, HttpResponseNotAllowed\nfrom django.views import View\n\n\nclass BookView(View):\n    async def get(self, request):\n        return HttpResponse('books')\n\n"
_FALLBACKS = ("options", "http_method_not_allowed")
_RESPONSE_FUNCTIONS = frozenset({"django.shortcuts.redirect", "django.shortcuts.render"})


class SyncFallbackOnAsyncView(Rule):
    """An async class-based view whose `options()`, `http_method_not_allowed()` or `dispatch()`
    override is sync and returns a plain response.

    ## What it does
    Flags, in a subclass of Django's `View` whose HTTP handlers are all `async def`, a sync
    `def options()` or `def http_method_not_allowed()`, and a sync `def dispatch()` that
    returns a response itself (`return HttpResponseForbidden()`, `redirect(...)`) on some path.
    `as_view()` checks the handlers only (`options` left out), so nothing stops such a view.

    ## Why is this bad?
    `as_view()` marks an async view's function as a coroutine function, and Django's handler
    awaits what it returns: a plain `HttpResponse` fails with `TypeError: object HttpResponse
    can't be used in 'await' expression` (a 500) for an OPTIONS request, a disallowed method, or
    that dispatch path.  Django's own `View.options()` and `http_method_not_allowed()` return an
    awaitable on async views (since 4.1 and 4.1.2, ticket #34062).

    ## Fix
    `def` becomes `async def`, and what the method returns from `super()` or from a handler
    (`return super().dispatch(request, *args, **kwargs)`, `return handler(request)`) is
    awaited.

    ## Fix safety
    Safe for `options()` and `http_method_not_allowed()`: the view is async, so Django only
    ever awaits them.  Unsafe for `dispatch()`: a subclass or mixin calling `super().dispatch()`
    synchronously would get a coroutine.
    """

    code = "ASL412"
    name = "sync-fallback-on-async-view"
    node_types = (ast.ClassDef,)
    looks_at = MODULE
    requires_text = ("async def",)
    counts_in_helpers = False

    INVALID = [
        Invalid(
            _HEAD + "    def options(self, request, *args, **kwargs):\n        response = super().options(request, *args, **kwargs)\n"
            "        response['Allow-Origin'] = '*'\n        return response\n",
            fixed=_HEAD + "    async def options(self, request, *args, **kwargs):\n        response = await super().options(request, *args, **kwargs)\n"
            "        response['Allow-Origin'] = '*'\n        return response\n",
        ),
        Invalid(
            _HEAD + "    def http_method_not_allowed(self, request, *args, **kwargs):\n        return HttpResponseNotAllowed(['GET'], 'read only')\n",
            fixed=_HEAD + "    async def http_method_not_allowed(self, request, *args, **kwargs):\n        return HttpResponseNotAllowed(['GET'], 'read only')\n",
        ),
        Invalid(
            _HEAD.replace("HttpResponseNotAllowed", "HttpResponseForbidden")
            + "    def dispatch(self, request, *args, **kwargs):\n        if request.headers.get('X-Blocked'):\n            return HttpResponseForbidden()\n"
            "        return super().dispatch(request, *args, **kwargs)\n",
            unsafe_fixed=_HEAD.replace("HttpResponseNotAllowed", "HttpResponseForbidden")
            + "    async def dispatch(self, request, *args, **kwargs):\n        if request.headers.get('X-Blocked'):\n            return HttpResponseForbidden()\n"
            "        return await super().dispatch(request, *args, **kwargs)\n",
        ),
    ]
    VALID = [
        Valid(_HEAD + "    async def options(self, request, *args, **kwargs):\n        return await super().options(request, *args, **kwargs)\n"),
        # A dispatch that only hands over returns the handler's coroutine.
        Valid(_HEAD + "    def dispatch(self, request, *args, **kwargs):\n        request.seen = True\n        return super().dispatch(request, *args, **kwargs)\n"),
        # A sync view.
        Valid(
            "from django.http import HttpResponse\nfrom django.views import View\n\n\nclass BookView(View):\n    def get(self, request):\n        return HttpResponse('books')\n\n"
            "    def options(self, request, *args, **kwargs):\n        return HttpResponse()\n"
        ),
    ]

    def check(self, node, ctx):
        if is_stub(ctx) or not ctx.reaches(api.ASYNC_VIEW_HANDLERS_SINCE):
            return
        view = view_class(ctx, node)
        if view is None or not view.handlers or not all(h.is_async for h in view.handlers.values()):
            return
        for stmt in node.body:
            if not isinstance(stmt, ast.FunctionDef) or stmt.decorator_list:
                continue
            if stmt.name in _FALLBACKS:
                why = "Django awaits what it returns on an async view"
                applicability = Applicability.SAFE
            elif stmt.name == "dispatch" and _returns_a_response(stmt, ctx):
                why = "it returns a response where the async view's caller awaits one"
                applicability = Applicability.UNSAFE
            else:
                continue
            edits = _made_async(ctx, stmt)
            yield ctx.report_definition(
                self.code,
                stmt,
                f"`{node.name}.{stmt.name}()` is sync on an async view: {why} (TypeError, a 500); make it `async def`",
                Fix(f"Make `{stmt.name}()` async", edits, applicability) if edits else None,
            )


def _hands_over(value: ast.expr) -> bool:
    """`super().dispatch(...)`, `handler(...)`, `self.get(...)`: the handler's coroutine."""
    if not isinstance(value, ast.Call):
        return False
    func = value.func
    if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Call) and isinstance(func.value.func, ast.Name):
        return func.value.func.id == "super"
    if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and func.value.id == "self":
        return func.attr in ("dispatch", "get", "post", "put", "patch", "delete", "head", "options", "trace")
    return isinstance(func, ast.Name) and func.id == "handler"


def _returns_a_response(function: ast.FunctionDef, ctx) -> bool:
    for node in own_returns(function.body):
        value = node.value
        if isinstance(value, ast.Call) and not _hands_over(value):
            name = ctx.file.qualname_of(value.func) or ""
            if name in _RESPONSE_FUNCTIONS or (name.startswith("django.http.") and name.endswith(("Response", "Redirect", "NotAllowed", "Forbidden", "NotFound", "Gone"))):
                return True
    return False


def _made_async(ctx, function: ast.FunctionDef) -> tuple[Edit, ...] | None:
    start = ctx.source.start(function)
    edits = [Edit(start, start, "async ")]
    parents = parents_of(function)
    for node in ast.walk(function):
        if isinstance(node, ast.Call) and _hands_over(node):
            call_start = ctx.source.start(node)
            parent = parents.get(id(node))
            if isinstance(parent, ast.Await):
                continue
            if needs_parentheses(node, parent):
                edits += [Edit(call_start, call_start, "(await "), Edit(ctx.source.end(node), ctx.source.end(node), ")")]
            else:
                edits.append(Edit(call_start, call_start, "await "))
    return tuple(sorted(edits))

