from __future__ import annotations

import ast

from .. import django_api as api
from ..diagnostics import Applicability, Fix
from ..fixers.middleware import add_decorator
from ..semantic import iter_scope_nodes
from .asl3_shared import is_stub
from .base import MODULE, Invalid, Rule, Valid

_FACTORY = "def timing_middleware(get_response):\n    async def middleware(request):\n        return await get_response(request)\n\n    return middleware\n"


class FunctionMiddlewareFlags(Rule):
    """A function middleware that returns only an `async def` but is not decorated with
    `@async_only_middleware`.

    ## What it does
    Flags a middleware factory, a function whose first parameter is `get_response`, whose
    every `return` gives an `async def` it defines, when neither a flag decorator from
    `django.utils.decorators` nor an `async_capable` assignment tells Django about it.  A
    factory that returns a sync or an async function depending on `get_response` is left alone:
    without flags Django runs it sync-only, which works.

    ## Why is this bad?
    Django reads `sync_capable`/`async_capable` from the factory; without them it is a
    sync-only middleware.  Django then adapts the coroutine function the factory returned as if
    it were sync: every request fails (`TypeError: sync_to_async can only be applied to sync
    functions` on Django 5.2, in the runtime test).

    ## Fix
    Adds `@async_only_middleware`, imported from `django.utils.decorators`.

    ## Fix safety
    Safe: the middleware could not run before.
    """

    code = "ASL405"
    name = "function-middleware-flags"
    node_types = (ast.FunctionDef,)
    looks_at = MODULE
    requires_text = ("get_response",)
    counts_in_helpers = False

    INVALID = [
        Invalid(
            "import time\n\n\n" + _FACTORY,
            fixed="import time\nfrom django.utils.decorators import async_only_middleware\n\n\n@async_only_middleware\n" + _FACTORY,
        ),
        Invalid(
            _FACTORY,
            fixed="from django.utils.decorators import async_only_middleware\n\n\n@async_only_middleware\n" + _FACTORY,
        ),
    ]
    VALID = [
        Valid("from django.utils.decorators import async_only_middleware\n\n\n@async_only_middleware\n" + _FACTORY),
        Valid(_FACTORY + "\n\ntiming_middleware.async_capable = True\ntiming_middleware.sync_capable = False\n"),
        Valid("def timing_middleware(get_response):\n    def middleware(request):\n        return get_response(request)\n\n    return middleware\n"),
        Valid(
            "from asgiref.sync import iscoroutinefunction\n\n\ndef timing_middleware(get_response):\n    if iscoroutinefunction(get_response):\n        async def middleware(request):\n            return await get_response(request)\n    else:\n        def middleware(request):\n            return get_response(request)\n    return middleware\n"
        ),
        Valid("def handler(scope):\n    async def app(receive, send):\n        pass\n\n    return app\n"),
    ]

    def check(self, node, ctx):
        if is_stub(ctx):
            return
        params = [a.arg for a in (*node.args.posonlyargs, *node.args.args)]
        if not params or params[0] != "get_response":
            return
        for decorator in node.decorator_list:
            target = decorator.func if isinstance(decorator, ast.Call) else decorator
            if ctx.file.qualname_of(target) in api.MIDDLEWARE_FLAG_DECORATORS:
                return
        if any(
            isinstance(stmt, ast.Assign)
            and any(
                isinstance(t, ast.Attribute) and isinstance(t.value, ast.Name) and t.value.id == node.name
                and t.attr in ("async_capable", "sync_capable")
                for t in stmt.targets
            )
            for stmt in ctx.file.tree.body
        ):
            return
        inner = {}
        returned = set()
        for child in iter_scope_nodes(node.body):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                inner.setdefault(child.name, set()).add(isinstance(child, ast.AsyncFunctionDef))
            elif isinstance(child, ast.Return) and isinstance(child.value, ast.Name):
                returned.add(child.value.id)
        kinds = set().union(*(inner.get(name, set()) for name in returned)) if returned else set()
        if kinds != {True}:
            return  # nothing async, or a sync function too: Django runs that one
        decorator = "async_only_middleware"
        edits = add_decorator(ctx, node, decorator)
        fix = Fix(f"Decorate with `@{decorator}`", edits, Applicability.SAFE) if edits else None
        yield ctx.report_definition(
            self.code,
            node,
            f"`{node.name}` returns an `async def` middleware but has no `@{decorator}`: Django treats a middleware "
            "factory without flags as sync-only and calls it with a sync `get_response`",
            fix,
        )
