from __future__ import annotations

import ast

from .asl4_shared import middleware_class
from .asl6_request_data import request_derived, request_parameters
from .base import MODULE, Invalid, Rule, Valid

# The methods Django calls once per request on the one middleware instance.
_PER_REQUEST_METHODS = frozenset(
    {
        "__call__", "__acall__", "process_request", "process_view", "process_response",
        "process_exception", "process_template_response",
    }
)
_FUNCTIONS = (ast.FunctionDef, ast.AsyncFunctionDef)


class MiddlewareInstanceRequestState(Rule):
    """Per-request data stored on the middleware instance: `self.user = request.user` in
    `__call__`.

    ## What it does
    Flags, in a middleware class, an assignment to an attribute of `self` in a method Django
    calls for every request (`__call__`, an async method `__call__` hands the request to, the
    `process_*` hooks) when the value comes from the request and the attribute is read again
    somewhere in the class (`self.user` in `process_response`, after an `await`).

    ## Why is this bad?
    Django builds each middleware once, when the handler loads, and every request goes through
    that one instance.  Under ASGI the requests of a worker run interleaved on one event loop, so
    between the write and the read another request can replace the value: one user's data is
    then used for another's response.  Threaded WSGI servers have the same race.

    ## Fix
    No automatic fix: keep the value in a local variable, or on the request
    (`request.started = ...`), which is per request.
    """

    code = "ASL605"
    name = "middleware-instance-request-state"
    node_types = (ast.ClassDef,)
    looks_at = MODULE
    requires_text = ("get_response", "MiddlewareMixin")

    INVALID = [
        Invalid(
            "class AuditMiddleware:\n    def __init__(self, get_response):\n        self.get_response = get_response\n\n"
            "    async def __call__(self, request):\n        self.user = request.user\n        response = await self.get_response(request)\n"
            "        response['X-User'] = str(self.user)\n        return response\n"
        ),
        Invalid(
            "from django.utils.deprecation import MiddlewareMixin\n\n\nclass TimingMiddleware(MiddlewareMixin):\n"
            "    def process_request(self, request):\n        self.path = request.path\n\n"
            "    def process_response(self, request, response):\n        response['X-Path'] = self.path\n        return response\n"
        ),
    ]
    VALID = [
        # Per request, on the request itself.
        Valid(
            "class AuditMiddleware:\n    def __init__(self, get_response):\n        self.get_response = get_response\n\n"
            "    async def __call__(self, request):\n        request.audit_user = request.user\n        return await self.get_response(request)\n"
        ),
        # Set once from the settings, not from a request.
        Valid(
            "from django.conf import settings\n\n\nclass HostMiddleware:\n    def __init__(self, get_response):\n"
            "        self.get_response = get_response\n        self.hosts = settings.ALLOWED_HOSTS\n\n"
            "    def __call__(self, request):\n        return self.get_response(request)\n"
        ),
        # Written from the request but never read back: nothing crosses requests.
        Valid(
            "class LastPathMiddleware:\n    def __init__(self, get_response):\n        self.get_response = get_response\n\n"
            "    def __call__(self, request):\n        self.last_path = request.path\n        return self.get_response(request)\n"
        ),
    ]

    def check(self, node, ctx):
        middleware = middleware_class(ctx, node)
        if middleware is None:
            return
        methods = [s for s in node.body if isinstance(s, _FUNCTIONS)]
        per_request = {m.name for m in methods if m.name in _PER_REQUEST_METHODS}
        if middleware.acall is not None:
            per_request.add(middleware.acall.name)
        for method in methods:
            if method.name not in per_request:
                continue
            derived = request_derived(method, request_parameters(method, ctx.file))
            if not derived:
                continue
            for stmt in ast.walk(method):
                if not isinstance(stmt, (ast.Assign, ast.AnnAssign)) or stmt.value is None:
                    continue
                targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
                for target in targets:
                    if (
                        isinstance(target, ast.Attribute)
                        and isinstance(target.value, ast.Name)
                        and target.value.id == "self"
                        and _mentions(stmt.value, derived)
                        and _read_in(node, target.attr)
                    ):
                        yield ctx.report(
                            self.code,
                            target,
                            f"`self.{target.attr}` holds data of one request on the middleware instance, which every "
                            "request shares (interleaved on the event loop under ASGI): another request can overwrite it "
                            "before it is read; keep it in a local variable or on the request",
                        )


def _mentions(expr: ast.AST, names: frozenset[str]) -> bool:
    return any(isinstance(n, ast.Name) and n.id in names and isinstance(n.ctx, ast.Load) for n in ast.walk(expr))


def _read_in(cls: ast.ClassDef, attribute: str) -> bool:
    """Whether a method of the class reads `self.<attribute>`."""
    return any(
        isinstance(n, ast.Attribute)
        and n.attr == attribute
        and isinstance(n.ctx, ast.Load)
        and isinstance(n.value, ast.Name)
        and n.value.id == "self"
        for n in ast.walk(cls)
    )
