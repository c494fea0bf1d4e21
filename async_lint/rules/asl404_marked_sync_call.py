from __future__ import annotations

import ast

from .asl3_shared import is_stub
from .asl4_shared import is_marking_call, middleware_class
from .base import MODULE, Invalid, Rule, Valid

_HEAD = "from asgiref.sync import markcoroutinefunction\n\n\nclass HeaderMiddleware:\n    sync_capable = False\n    async_capable = True\n\n    def __init__(self, get_response):\n        self.get_response = get_response\n        markcoroutinefunction(self)\n\n"


class MarkedSyncCall(Rule):
    """A middleware marked as a coroutine function whose `__call__` is sync and uses the
    response.

    ## What it does
    Flags the sync `__call__` of a middleware class that marks itself with
    `markcoroutinefunction(self)` (unconditionally, or while declaring `async_capable = True`)
    and works on the result of `self.get_response(request)` instead of returning it as it is.

    ## Why is this bad?
    Marked, the instance is async to Django: it hands the middleware an async `get_response`
    and awaits what `__call__` returns.  `self.get_response(request)` is then a coroutine, not a
    response: setting a header on it raises `TypeError`, and whatever `__call__` does before
    returning runs on the event loop, where blocking work stalls every request.  (Returning
    `self.get_response(request)` untouched, or a coroutine of an async method, is fine.)

    ## Fix
    No automatic fix: make `__call__` `async def` and await `get_response`, or branch on
    `iscoroutinefunction(self)` to an async method as `MiddlewareMixin` does.
    """

    code = "ASL404"
    name = "marked-sync-call"
    node_types = (ast.ClassDef,)
    looks_at = MODULE
    requires_text = ("markcoroutinefunction",)
    counts_in_helpers = False

    INVALID = [
        Invalid(_HEAD + "    def __call__(self, request):\n        response = self.get_response(request)\n        response['X-Frame-Options'] = 'DENY'\n        return response\n"),
    ]
    VALID = [
        Valid(_HEAD + "    def __call__(self, request):\n        request.tagged = True\n        return self.get_response(request)\n"),
        Valid(_HEAD + "    async def __call__(self, request):\n        response = await self.get_response(request)\n        response['X-Frame-Options'] = 'DENY'\n        return response\n"),
        Valid(
            _HEAD + "    def __call__(self, request):\n        if self.async_mode:\n            return self.__acall__(request)\n        return self.get_response(request)\n\n    async def __acall__(self, request):\n        return await self.get_response(request)\n"
        ),
    ]

    def check(self, node, ctx):
        if is_stub(ctx):
            return
        middleware = middleware_class(ctx, node)
        if middleware is None or middleware.mixin or not middleware.marks or middleware.init is None:
            return
        call = middleware.call
        if not isinstance(call, ast.FunctionDef) or middleware.acall is not None or not any(s is call for s in node.body):
            return
        unconditional = any(isinstance(s, ast.Expr) and is_marking_call(ctx, s.value) for s in middleware.init.body)
        if not unconditional and middleware.async_capable is not True:
            return
        returned = {id(n.value) for n in ast.walk(call) if isinstance(n, ast.Return) and n.value is not None}
        used = [
            n
            for n in ast.walk(call)
            if isinstance(n, ast.Call)
            and isinstance(n.func, ast.Attribute)
            and n.func.attr == "get_response"
            and isinstance(n.func.value, ast.Name)
            and n.func.value.id == "self"
            and id(n) not in returned
        ]
        if not used:
            return
        yield ctx.report_definition(
            self.code,
            call,
            f"`{node.name}` is marked as a coroutine function but `__call__` is sync: Django awaits it and passes an "
            "async `get_response`, so `self.get_response(request)` here is a coroutine, not a response; make "
            "`__call__` `async def` and await it",
            None,
        )
