from __future__ import annotations

import ast

from .asl3_shared import is_stub
from .asl4_shared import loop_hazards, middleware_class
from .base import MODULE, Invalid, Rule, Valid


class LoopWorkBeforeHandoff(Rule):
    """Loop-unsafe work in a middleware's sync `__call__`, before it hands async requests over.

    ## What it does
    Flags, in a middleware whose sync `__call__` hands async requests to an async method
    (`if iscoroutinefunction(self): return self.__acall__(request)`) and that Django runs as
    async (`async_capable = True`, or marked with `markcoroutinefunction(self)`), what the
    statements before the hand-off do that the ASL1 rules flag in async code: a query, a
    `request.user` read (also as `getattr(request, "user", None)`), a blocking cache call.

    ## Why is this bad?
    For an async request Django calls `__call__` on the event loop: everything before the
    hand-off runs there, so a query raises `SynchronousOnlyOperation` (a logged-in user's
    `request.user` loads the user) and blocking I/O stalls the loop.

    ## Fix
    No automatic fix: move the work into both branches (awaited in the async one), or after the
    hand-off in the sync branch and into the async method.
    """

    code = "ASL411"
    name = "loop-work-before-handoff"
    node_types = (ast.ClassDef,)
    looks_at = MODULE
    requires_text = ("async_capable", "markcoroutinefunction")
    counts_in_helpers = False

    INVALID = [
        Invalid(
            "from asgiref.sync import iscoroutinefunction, markcoroutinefunction\n\n\nclass AuditMiddleware:\n"
            "    async_capable = True\n    sync_capable = True\n\n    def __init__(self, get_response):\n"
            "        self.get_response = get_response\n        if iscoroutinefunction(get_response):\n            markcoroutinefunction(self)\n\n"
            "    def __call__(self, request):\n        user = getattr(request, 'user', None)\n        request.staff = bool(user and user.is_staff)\n"
            "        if iscoroutinefunction(self):\n            return self.__acall__(request)\n        return self.get_response(request)\n\n"
            "    async def __acall__(self, request):\n        return await self.get_response(request)\n",
            count=2,
        ),
    ]
    VALID = [
        Valid(
            "from asgiref.sync import iscoroutinefunction, markcoroutinefunction\n\n\nclass AuditMiddleware:\n"
            "    async_capable = True\n    sync_capable = True\n\n    def __init__(self, get_response):\n"
            "        self.get_response = get_response\n        if iscoroutinefunction(get_response):\n            markcoroutinefunction(self)\n\n"
            "    def __call__(self, request):\n        if iscoroutinefunction(self):\n            return self.__acall__(request)\n"
            "        user = getattr(request, 'user', None)\n        request.staff = bool(user and user.is_staff)\n        return self.get_response(request)\n\n"
            "    async def __acall__(self, request):\n        user = await request.auser()\n        request.staff = user.is_staff\n        return await self.get_response(request)\n"
        ),
    ]

    def check(self, node, ctx):
        if is_stub(ctx):
            return
        middleware = middleware_class(ctx, node)
        if middleware is None or middleware.acall is None:
            return
        if not (middleware.marked or middleware.async_capable):
            return  # Django never runs it as async
        seen = set()
        for hazard in loop_hazards(ctx, middleware):
            if hazard.start in seen:
                continue
            seen.add(hazard.start)
            yield hazard.__class__(
                self.code,
                f"Runs on the event loop for async requests, before `{node.name}.__call__` hands them to "
                f"`{middleware.acall.name}()`: {hazard.message.split(';')[0]}",
                hazard.path,
                hazard.start,
                hazard.end,
            )
