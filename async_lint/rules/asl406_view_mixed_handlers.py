from __future__ import annotations

import ast

from .. import django_api as api
from ..diagnostics import Applicability, Fix
from ..fixers.views import make_handlers_async
from .asl3_shared import class_diagnostic, is_stub
from .asl4_shared import view_class
from .base import MODULE, Invalid, Rule, Valid

_HEAD = "from django.http import HttpResponse\nfrom django.views import View\n\n\nclass BookView(View):\n"


class ViewMixedHandlers(Rule):
    """A class-based view whose HTTP handlers are partly sync and partly async.

    ## What it does
    Flags a subclass of Django's `View` when, among its handlers for `http_method_names`
    (`options` excepted, as Django does), some are `async def` and some are not, counting the
    sync handlers it inherits from Django's generic views (`TemplateView.get`,
    `FormView.get`/`post`/`put`, `DeleteView.post`, `RedirectView`'s, ...) and from base
    classes in the same file.  Target Django 4.1+ (async handlers).

    ## Why is this bad?
    `View.as_view()` reads `view_is_async`, which raises `ImproperlyConfigured("… HTTP handlers
    must either be all sync or all async.")`: the URLconf that calls `as_view()` fails to
    import, and with it every URL of the project.

    ## Fix
    Makes every handler async: `def get(` becomes `async def get(`, and an inherited sync
    handler gets an async override that runs it in a thread
    (`return await sync_to_async(super().get)(request, *args, **kwargs)`).

    ## Fix safety
    Unsafe: a converted handler's body now runs on the event loop; any ORM call in it must
    become async too (the ASL1 rules find them).
    """

    code = "ASL406"
    name = "view-mixed-handlers"
    node_types = (ast.ClassDef,)
    looks_at = MODULE
    requires_text = ("async def",)
    counts_in_helpers = False

    INVALID = [
        Invalid(
            _HEAD + "    def get(self, request):\n        return HttpResponse('form')\n\n    async def post(self, request):\n        return HttpResponse('saved')\n",
            unsafe_fixed=_HEAD + "    async def get(self, request):\n        return HttpResponse('form')\n\n    async def post(self, request):\n        return HttpResponse('saved')\n",
        ),
        Invalid(
            "from django.http import HttpResponse\nfrom django.views.generic import TemplateView\n\n\nclass SearchView(TemplateView):\n    template_name = 'search.html'\n\n    async def post(self, request):\n        return HttpResponse('ok')\n",
            unsafe_fixed="from django.http import HttpResponse\nfrom django.views.generic import TemplateView\nfrom asgiref.sync import sync_to_async\n\n\nclass SearchView(TemplateView):\n    template_name = 'search.html'\n\n    async def post(self, request):\n        return HttpResponse('ok')\n\n    async def get(self, request, *args, **kwargs):\n        return await sync_to_async(super().get)(request, *args, **kwargs)\n",
        ),
    ]
    VALID = [
        Valid(_HEAD + "    async def get(self, request):\n        return HttpResponse('form')\n\n    async def post(self, request):\n        return HttpResponse('saved')\n"),
        Valid(_HEAD + "    async def get(self, request):\n        return HttpResponse('form')\n\n    def options(self, request, *args, **kwargs):\n        return super().options(request, *args, **kwargs)\n"),
        Valid(_HEAD + "    http_method_names = ['get']\n\n    async def get(self, request):\n        return HttpResponse('form')\n\n    def post(self, request):\n        return HttpResponse('never routed')\n"),
        Valid("class Resource:\n    def get(self):\n        return 1\n\n    async def post(self):\n        return 2\n"),
        Valid("from project.views import BaseView\n\n\nclass BookView(BaseView):\n    async def post(self, request):\n        return None\n"),
    ]

    def check(self, node, ctx):
        if is_stub(ctx):
            return
        if not ctx.reaches(api.ASYNC_VIEW_HANDLERS_SINCE):
            return
        view = view_class(ctx, node)
        if view is None:
            return
        handlers = list(view.handlers.values())
        if ctx.target < api.ASYNC_METHOD_DECORATOR_SINCE and any(h.decorated and h.is_async for h in handlers):
            return  # ASL408 says why
        considered = handlers if view.complete else [h for h in handlers if h.owner is node]
        sync = sorted(h.name for h in considered if not h.is_async)
        asynchronous = sorted(h.name for h in considered if h.is_async)
        if not sync or not asynchronous:
            return
        edits = make_handlers_async(ctx, node, considered)
        yield class_diagnostic(
            ctx,
            self.code,
            node,
            f"`{node.name}` has sync ({', '.join(f'`{n}`' for n in sync)}) and async "
            f"({', '.join(f'`{n}`' for n in asynchronous)}) handlers: `as_view()` raises ImproperlyConfigured "
            "(\"HTTP handlers must either be all sync or all async\") when the URLconf is imported; make them all async",
            Fix("Make every handler async", edits, Applicability.UNSAFE) if edits else None,
        )
