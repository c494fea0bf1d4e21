from __future__ import annotations

import ast

from ..diagnostics import Applicability, Fix
from ..fixers.middleware import mark_in_init, set_flags
from .asl3_shared import class_diagnostic, is_stub
from .asl4_shared import loop_hazards, middleware_class
from .base import MODULE, Invalid, Rule, Valid

_BODY = "    def __init__(self, get_response):\n        self.get_response = get_response\n        markcoroutinefunction(self)\n\n    async def __call__(self, request):\n        return await self.get_response(request)\n"
_HEAD = "from asgiref.sync import markcoroutinefunction\n\n\nclass TimingMiddleware:\n"


class AsyncMiddlewareFlags(Rule):
    """A middleware whose async entry point Django will not use, or will call the wrong way,
    because of its `sync_capable`/`async_capable` flags.

    ## What it does
    Flags a middleware class with `async def __call__` that does not declare
    `async_capable = True` and `sync_capable = False` (by class attributes or
    `@async_only_middleware`), and a class with a sync `__call__` that hands requests to an async
    method (the `__acall__` pattern) without `async_capable = True`.  MiddlewareMixin subclasses
    inherit correct flags and are left alone.

    ## Why is this bad?
    Django reads the flags from the class, with defaults `sync_capable = True`,
    `async_capable = False`: a sync-only middleware.  It then calls the async `__call__` as sync
    and gets a coroutine back: every request fails (`'coroutine' object has no attribute
    '_resource_closers'` and a never-awaited warning, in a probe on 4.2 and 6.1).  With
    `async_capable = True` but `sync_capable = True`, the same happens on a sync handler chain
    (WSGI, or below a sync-only middleware).  Both `False` stops Django at start-up.  For the
    `__acall__` pattern the async path is dead code: Django only ever runs the sync one.

    ## Fix
    Sets `sync_capable = False` and `async_capable = True` (changing an existing assignment or
    adding the attributes at the top of the class body).  For the `__acall__` pattern it sets
    `async_capable = True`, and adds the guarded `markcoroutinefunction(self)` if `__init__`
    lacks it, without which the async path cannot work.  A sync `__call__` with no async path
    that declares `async_capable = True` (unmarked) gets `async_capable = False`: Django then
    adapts it as the sync middleware it is.

    ## Fix safety
    Safe for an `async def __call__`: with the flags, Django adapts the middleware on every
    chain instead of failing.  Unsafe for the `__acall__` pattern: Django starts using the async
    path, and what the sync `__call__` does before handing over then runs on the event loop.
    When that work is unsafe there (a query, a `request.user` read: what ASL411 reports once the
    middleware is async), no fix is offered, so a working sync-only middleware is never broken.
    """

    code = "ASL403"
    name = "async-middleware-flags"
    node_types = (ast.ClassDef,)
    looks_at = MODULE
    requires_text = ("get_response",)
    counts_in_helpers = False

    INVALID = [
        Invalid(
            _HEAD + _BODY,
            fixed=_HEAD + "    sync_capable = False\n    async_capable = True\n\n" + _BODY,
        ),
        Invalid(
            _HEAD + '    """Times each request."""\n\n    async_capable = True\n\n' + _BODY,
            fixed=_HEAD + '    """Times each request."""\n\n    sync_capable = False\n    async_capable = True\n\n' + _BODY,
        ),
        Invalid(
            "from asgiref.sync import iscoroutinefunction\n\n\nclass AuditMiddleware:\n    def __init__(self, get_response):\n        self.get_response = get_response\n\n    def __call__(self, request):\n        if iscoroutinefunction(self):\n            return self.__acall__(request)\n        return self.get_response(request)\n\n    async def __acall__(self, request):\n        return await self.get_response(request)\n",
            unsafe_fixed="from asgiref.sync import iscoroutinefunction, markcoroutinefunction\n\n\nclass AuditMiddleware:\n    async_capable = True\n\n    def __init__(self, get_response):\n        self.get_response = get_response\n        if iscoroutinefunction(get_response):\n            markcoroutinefunction(self)\n\n    def __call__(self, request):\n        if iscoroutinefunction(self):\n            return self.__acall__(request)\n        return self.get_response(request)\n\n    async def __acall__(self, request):\n        return await self.get_response(request)\n",
        ),
        # No fix when the sync `__call__` does loop-unsafe work before handing over: declaring the
        # middleware async would run it on the event loop and break a middleware that works.
        Invalid(
            "from asgiref.sync import iscoroutinefunction\n\n\nclass AuditMiddleware:\n    def __init__(self, get_response):\n"
            "        self.get_response = get_response\n\n    def __call__(self, request):\n"
            "        request.staff = bool(request.user and request.user.is_staff)\n"
            "        if iscoroutinefunction(self):\n            return self.__acall__(request)\n        return self.get_response(request)\n\n"
            "    async def __acall__(self, request):\n        return await self.get_response(request)\n"
        ),
        # Async-capable, but nothing async about it: Django would hand it a coroutine.
        Invalid(
            "class HeaderMiddleware:\n    async_capable = True\n\n    def __init__(self, get_response):\n        self.get_response = get_response\n\n"
            "    def __call__(self, request):\n        response = self.get_response(request)\n        response['X-Frame'] = 'deny'\n        return response\n",
            fixed="class HeaderMiddleware:\n    async_capable = False\n\n    def __init__(self, get_response):\n        self.get_response = get_response\n\n"
            "    def __call__(self, request):\n        response = self.get_response(request)\n        response['X-Frame'] = 'deny'\n        return response\n",
        ),
    ]
    VALID = [
        Valid(_HEAD + "    sync_capable = False\n    async_capable = True\n\n" + _BODY),
        Valid("from django.utils.decorators import async_only_middleware\n" + _HEAD.replace("class", "@async_only_middleware\nclass") + _BODY),
        Valid(
            "from django.utils.deprecation import MiddlewareMixin\n\n\nclass HeaderMiddleware(MiddlewareMixin):\n    def process_response(self, request, response):\n        response['X-A'] = '1'\n        return response\n"
        ),
        Valid("from project.base import BaseMiddleware\n\n\nclass TimingMiddleware(BaseMiddleware):\n" + _BODY),
    ]

    def check(self, node, ctx):
        if is_stub(ctx):
            return
        middleware = middleware_class(ctx, node)
        if middleware is None or middleware.mixin:
            return
        sync, asynchronous = middleware.sync_capable, middleware.async_capable
        if sync is None or asynchronous is None:
            return  # a base class we cannot read sets them
        if middleware.async_call:
            if asynchronous and not sync:
                return
            if not asynchronous and not sync:
                why = "both flags are False, so Django refuses to start (RuntimeError)"
            elif not asynchronous:
                why = (
                    "without `async_capable = True` Django treats it as sync-only (the defaults) and every request fails "
                    "with a coroutine where a response was expected"
                )
            else:
                why = (
                    "with `sync_capable = True` Django calls it synchronously on a sync handler chain (WSGI, or below a "
                    "sync-only middleware) and gets a coroutine back"
                )
            message = (
                f"`{node.name}.__call__` is `async def`, but its flags do not let Django run it async: {why}; declare "
                "`sync_capable = False` and `async_capable = True`"
            )
            wanted, applicability, mark = {"sync_capable": False, "async_capable": True}, Applicability.SAFE, False
        elif middleware.acall is not None and not asynchronous and middleware.init is not None:
            message = (
                f"`{node.name}` has an async path (`{middleware.acall.name}()`) but no `async_capable = True`: Django "
                "treats it as sync-only and never uses it"
            )
            wanted, applicability, mark = {"async_capable": True}, Applicability.UNSAFE, not middleware.marked
            if loop_hazards(ctx, middleware):
                # Declaring it async would run the work before the hand-off on the event loop,
                # breaking a middleware that works today as sync-only: no fix.
                message += " (what `__call__` does before handing over is unsafe on the event loop: move it into both paths first)"
                wanted = None
        elif (
            isinstance(middleware.call, ast.FunctionDef)
            and middleware.acall is None
            and asynchronous
            and sync
            and not middleware.marked
            and middleware.complete
        ):
            message = (
                f"`{node.name}` declares `async_capable = True` but its `__call__` is sync, has no async path and is not "
                "marked: on an async chain Django hands it an async `get_response`, so `__call__` gets a coroutine where it "
                "expects a response (and exceptions escape unconverted); declare `async_capable = False`"
            )
            wanted, applicability, mark = {"async_capable": False}, Applicability.SAFE, False
        else:
            return
        edits = None if middleware.flags_outside_body or wanted is None else set_flags(ctx, node, middleware.flag_assignments, wanted)
        if edits is not None and mark:
            marking = mark_in_init(ctx, middleware.init, middleware.get_response, guarded=True)
            edits = tuple(sorted(set(edits + marking))) if marking else None
        fix = Fix("Declare the flags", edits, applicability) if edits else None
        yield class_diagnostic(ctx, self.code, node, message, fix)
