from __future__ import annotations

import ast

from ..diagnostics import Applicability, Fix
from ..fixers.middleware import mark_in_init
from .asl3_shared import class_diagnostic, is_stub
from .asl4_shared import middleware_class
from .base import MODULE, Invalid, Rule, Valid

_INIT = "    def __init__(self, get_response):\n        self.get_response = get_response\n"
_CALL = "\n    async def __call__(self, request):\n        return await self.get_response(request)\n"


class MiddlewareNotMarkedCoroutine(Rule):
    """A class-based middleware with `async def __call__` that never calls
    `markcoroutinefunction(self)`.

    ## What it does
    Flags a middleware class (its `__init__` takes `get_response`) whose `__call__` is
    `async def`, or whose sync `__call__` returns the coroutine of an async method for an async
    `async_capable` middleware, when nothing in the class (or a base class in the file) marks the
    instance with `markcoroutinefunction(self)`.  MiddlewareMixin subclasses, which the mixin
    marks, and ASGI applications (`__call__(self, scope, receive, send)`) are left alone.

    ## Why is this bad?
    `iscoroutinefunction(instance)` is False for an instance, whatever its `__call__` is, unless
    it was marked.  Django's `convert_exception_to_response` then wraps the middleware in a sync
    function that hands back its coroutine without running it, so an exception raised inside
    the middleware (`Http404`, `PermissionDenied`) is never turned into a response and escapes
    the handler (a probe on 4.2 and 6.1: `AsyncClient` re-raised `Http404`; with the mark, a 404
    response).  Ticket #34328 added the mark to the documented example.

    ## Fix
    Adds `markcoroutinefunction(self)` at the end of `__init__` (no fix when `__init__` can
    return before it), under `if iscoroutinefunction(get_response):` when the class is also
    sync-capable, and the `asgiref.sync` import.  Before Django 4.2 (asgiref without the
    marker) it adds the marker those versions used:
    `self._is_coroutine = asyncio.coroutines._is_coroutine`.

    ## Fix safety
    Safe when the middleware's own code runs as before and only Django's view of it changes
    (an `async def __call__`, or a `__call__` that picks its path from `get_response`).  Unsafe
    when `__call__` picks its path with `iscoroutinefunction(self)`: the async path starts to run.
    """

    code = "ASL401"
    name = "middleware-not-marked-coroutine"
    node_types = (ast.ClassDef,)
    looks_at = MODULE
    requires_text = ("get_response",)
    counts_in_helpers = False

    INVALID = [
        Invalid(
            "import time\n\n\nclass TimingMiddleware:\n    sync_capable = False\n    async_capable = True\n\n" + _INIT + _CALL,
            fixed="import time\nfrom asgiref.sync import markcoroutinefunction\n\n\nclass TimingMiddleware:\n    sync_capable = False\n    async_capable = True\n\n"
            + _INIT + "        markcoroutinefunction(self)\n" + _CALL,
        ),
        Invalid(
            "from asgiref.sync import sync_to_async\n\n\nclass TimingMiddleware:\n    async_capable = True\n\n" + _INIT + _CALL,
            fixed="from asgiref.sync import sync_to_async, iscoroutinefunction, markcoroutinefunction\n\n\nclass TimingMiddleware:\n    async_capable = True\n\n"
            + _INIT + "        if iscoroutinefunction(get_response):\n            markcoroutinefunction(self)\n" + _CALL,
        ),
        Invalid(
            "import asyncio\n\n\nclass TimingMiddleware:\n    sync_capable = False\n    async_capable = True\n\n" + _INIT + _CALL,
            fixed="import asyncio\n\n\nclass TimingMiddleware:\n    sync_capable = False\n    async_capable = True\n\n"
            + _INIT + "        self._is_coroutine = asyncio.coroutines._is_coroutine\n" + _CALL,
            target_version="4.1",
        ),
        Invalid(
            "from asgiref.sync import iscoroutinefunction\n\n\nclass ReplicaMiddleware:\n    sync_capable = True\n    async_capable = True\n\n    def __init__(self, get_response):\n        self.get_response = get_response\n        self.async_mode = iscoroutinefunction(get_response)\n\n    def __call__(self, request):\n        if self.async_mode:\n            return self.__acall__(request)\n        return self.get_response(request)\n\n    async def __acall__(self, request):\n        return await self.get_response(request)\n",
            fixed="from asgiref.sync import iscoroutinefunction, markcoroutinefunction\n\n\nclass ReplicaMiddleware:\n    sync_capable = True\n    async_capable = True\n\n    def __init__(self, get_response):\n        self.get_response = get_response\n        self.async_mode = iscoroutinefunction(get_response)\n        if iscoroutinefunction(get_response):\n            markcoroutinefunction(self)\n\n    def __call__(self, request):\n        if self.async_mode:\n            return self.__acall__(request)\n        return self.get_response(request)\n\n    async def __acall__(self, request):\n        return await self.get_response(request)\n",
        ),
    ]
    VALID = [
        Valid(
            "from asgiref.sync import markcoroutinefunction\n\n\nclass TimingMiddleware:\n    sync_capable = False\n    async_capable = True\n\n"
            + _INIT + "        markcoroutinefunction(self)\n" + _CALL
        ),
        Valid(
            "class Router:\n    def __init__(self, routes):\n        self.routes = routes\n\n    async def __call__(self, scope, receive, send):\n        await self.routes[scope['path']](scope, receive, send)\n"
        ),
        Valid(
            "from django.utils.deprecation import MiddlewareMixin\n\n\nclass HeaderMiddleware(MiddlewareMixin):\n    def __init__(self, get_response):\n        super().__init__(get_response)\n        self.name = 'x'\n\n    def process_response(self, request, response):\n        response['X-Name'] = self.name\n        return response\n"
        ),
        Valid("class TimingMiddleware:\n" + _INIT + "\n    def __call__(self, request):\n        return self.get_response(request)\n"),
        # An import made inside `__init__` resolves like a module-level one.
        Valid("class TimingMiddleware:\n    async_capable = True\n    sync_capable = False\n\n    def __init__(self, get_response):\n        from asgiref.sync import markcoroutinefunction\n\n        self.get_response = get_response\n        markcoroutinefunction(self)\n\n    async def __call__(self, request):\n        return await self.get_response(request)\n"),
    ]

    def check(self, node, ctx):
        if is_stub(ctx):
            return
        middleware = middleware_class(ctx, node)
        if (
            middleware is None
            or middleware.mixin
            or not middleware.complete
            or middleware.marked
            or middleware.init is None
        ):
            return
        if middleware.async_call:
            guarded = middleware.sync_capable is not False
            applicability = Applicability.SAFE
            message = (
                f"`{node.name}.__call__` is `async def` but the instance is never marked with "
                "`markcoroutinefunction(self)`: Django wraps it as a sync callable, so an exception it raises "
                "(`Http404`, `PermissionDenied`) is not turned into a response and escapes the handler"
            )
        elif middleware.acall is not None and middleware.async_capable is True:
            guarded = True
            # Marking changes which path runs only when `__call__` asks the instance itself.
            asks_self = any(
                isinstance(n, ast.Call)
                and (ctx.file.qualname_of(n.func) or "").endswith(".iscoroutinefunction")
                and n.args
                and isinstance(n.args[0], ast.Name)
                and n.args[0].id == "self"
                for n in ast.walk(middleware.call)
            )
            applicability = Applicability.UNSAFE if asks_self else Applicability.SAFE
            consequence = (
                "`iscoroutinefunction(self)` is always False, so the async path never runs"
                if asks_self
                else "Django wraps it as a sync callable, so an exception raised on the async path (`Http404`, "
                "`PermissionDenied`) is not turned into a response and escapes the handler"
            )
            message = (
                f"`{node.name}.__call__` hands async requests to `{middleware.acall.name}()`, but the instance is never "
                f"marked with `markcoroutinefunction(self)`: {consequence}"
            )
        else:
            return
        edits = mark_in_init(ctx, middleware.init, middleware.get_response, guarded)
        fix = Fix("Call `markcoroutinefunction(self)` in `__init__`", edits, applicability) if edits else None
        yield class_diagnostic(ctx, self.code, node, message, fix)
