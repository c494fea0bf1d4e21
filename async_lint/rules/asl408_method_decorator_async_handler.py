from __future__ import annotations

import ast

from .. import django_api as api
from .asl4_shared import HTTP_METHODS, view_class
from .asl3_shared import is_stub
from .base import MODULE, Invalid, Rule, Valid

_HEAD = "from django.contrib.auth.decorators import login_required\nfrom django.http import HttpResponse\nfrom django.utils.decorators import method_decorator\nfrom django.views import View\n\n\n"


class MethodDecoratorOnAsyncHandler(Rule):
    """`method_decorator` on an async handler of a class-based view, before Django 5.2.

    ## What it does
    When the project runs on a Django from 4.1 to 5.1 (its oldest supported version below 5.2,
    its range reaching 4.1), flags `@method_decorator(...)` on an `async def`
    HTTP handler of a `View` subclass, and `@method_decorator(..., name="get")` on the class
    when its `get` is `async def`.

    ## Why is this bad?
    Before 5.2, `method_decorator` wraps the method in a sync function.  The handler is then
    sync to Django: with another async handler `as_view()` raises `ImproperlyConfigured` (mixed
    handlers), alone it makes the view sync and every request returns an unawaited coroutine
    (probes on 4.2 and 5.0; 5.2 keeps the method async).

    ## Fix
    No automatic fix: do the check inside the handler (`if not (await request.auser())
    .is_authenticated: ...`), or target Django 5.2.
    """

    code = "ASL408"
    name = "method-decorator-on-async-handler"
    node_types = (ast.ClassDef,)
    looks_at = MODULE
    requires_text = ("method_decorator",)
    counts_in_helpers = False

    INVALID = [
        Invalid(
            _HEAD + "class BookView(View):\n    @method_decorator(login_required)\n    async def get(self, request):\n        return HttpResponse('ok')\n",
            target_version="5.0",
        ),
        Invalid(
            _HEAD + "@method_decorator(login_required, name='get')\nclass BookView(View):\n    async def get(self, request):\n        return HttpResponse('ok')\n",
            target_version="4.2",
        ),
    ]
    VALID = [
        Valid(_HEAD + "class BookView(View):\n    @method_decorator(login_required)\n    async def get(self, request):\n        return HttpResponse('ok')\n", target_version="5.2"),
        Valid(_HEAD + "class BookView(View):\n    @method_decorator(login_required)\n    def get(self, request):\n        return HttpResponse('ok')\n", target_version="5.0"),
        Valid(_HEAD + "@method_decorator(login_required, name='dispatch')\nclass BookView(View):\n    async def get(self, request):\n        return HttpResponse('ok')\n", target_version="5.0"),
    ]

    def check(self, node, ctx):
        if is_stub(ctx):
            return
        if not (ctx.reaches(api.ASYNC_VIEW_HANDLERS_SINCE) and ctx.target < api.ASYNC_METHOD_DECORATOR_SINCE):
            return
        if view_class(ctx, node) is None:
            return
        handlers = {s.name: s for s in node.body if isinstance(s, ast.AsyncFunctionDef) and s.name in HTTP_METHODS}
        found = []
        for handler in handlers.values():
            found += [(d, handler.name) for d in handler.decorator_list if self._is_method_decorator(ctx, d)]
        for decorator in node.decorator_list:
            if self._is_method_decorator(ctx, decorator) and isinstance(decorator, ast.Call):
                name = next((k.value for k in decorator.keywords if k.arg == "name"), None)
                if isinstance(name, ast.Constant) and name.value in handlers:
                    found.append((decorator, name.value))
        for decorator, name in found:
            yield ctx.report(
                self.code,
                decorator,
                f"before Django 5.2 `method_decorator` turns the async `{name}()` into a sync function: the view is no "
                "longer async (ImproperlyConfigured beside another async handler, an unawaited coroutine otherwise); "
                "do the check inside the handler",
            )

    @staticmethod
    def _is_method_decorator(ctx, decorator) -> bool:
        target = decorator.func if isinstance(decorator, ast.Call) else decorator
        return ctx.file.qualname_of(target) == api.METHOD_DECORATOR
