from __future__ import annotations

import ast

from .. import django_api as api
from ..diagnostics import Applicability, Fix
from ..fixers.views import make_handlers_async
from .asl3_shared import is_stub
from .asl4_shared import view_class
from .base import MODULE, Invalid, Rule, Valid

_HEAD = "from django.http import HttpResponse\nfrom django.views import View\n\n\nclass BookView(View):\n"
_DISPATCH = "    async def dispatch(self, request, *args, **kwargs):\n        return await super().dispatch(request, *args, **kwargs)\n\n"


class AsyncDispatchSyncHandlers(Rule):
    """A class-based view with `async def dispatch` whose HTTP handlers are sync.

    ## What it does
    Flags `async def dispatch` in a subclass of Django's `View` when every handler it has
    (its own, those of base classes in the file and of Django's generic views) is sync, or it
    has none.  Target Django 4.1+.

    ## Why is this bad?
    Django decides whether a view is async from its handlers only (`View.view_is_async`);
    `dispatch` is not looked at.  The view runs as sync, gets the coroutine of `dispatch` back
    and fails every request: `ValueError: The view … didn't return an HttpResponse object. It
    returned an unawaited coroutine instead.` (a probe on 4.2 and 6.1).

    ## Fix
    Makes the handlers async, as ASL406 does; no fix when there is no handler.

    ## Fix safety
    Unsafe: the handlers' bodies now run on the event loop.
    """

    code = "ASL407"
    name = "async-dispatch-sync-handlers"
    node_types = (ast.ClassDef,)
    looks_at = MODULE
    requires_text = ("async def dispatch",)
    counts_in_helpers = False

    INVALID = [
        Invalid(
            _HEAD + _DISPATCH + "    def get(self, request):\n        return HttpResponse('ok')\n",
            unsafe_fixed=_HEAD + _DISPATCH + "    async def get(self, request):\n        return HttpResponse('ok')\n",
        ),
        Invalid(_HEAD + _DISPATCH.rstrip("\n") + "\n"),
    ]
    VALID = [
        Valid(_HEAD + _DISPATCH + "    async def get(self, request):\n        return HttpResponse('ok')\n"),
        Valid(_HEAD + "    def dispatch(self, request, *args, **kwargs):\n        return super().dispatch(request, *args, **kwargs)\n\n    async def get(self, request):\n        return HttpResponse('ok')\n"),
    ]

    def check(self, node, ctx):
        if is_stub(ctx):
            return
        if not ctx.reaches(api.ASYNC_VIEW_HANDLERS_SINCE):
            return
        dispatch = next((s for s in node.body if isinstance(s, ast.AsyncFunctionDef) and s.name == "dispatch"), None)
        if dispatch is None:
            return
        view = view_class(ctx, node)
        if view is None or not view.complete:
            return
        handlers = list(view.handlers.values())
        if any(h.is_async and not (h.decorated and ctx.target < api.ASYNC_METHOD_DECORATOR_SINCE) for h in handlers):
            return
        names = ", ".join(f"`{h.name}`" for h in sorted(handlers, key=lambda h: h.name))
        edits = make_handlers_async(ctx, node, handlers) if handlers else None
        yield ctx.report_definition(
            self.code,
            dispatch,
            f"`{node.name}.dispatch` is `async def` but "
            + (f"the handlers ({names}) are sync" if handlers else "the view has no handler")
            + ": Django decides from the handlers alone, runs the view as sync and gets an unawaited coroutine back "
            "(ValueError on every request); make the handlers async",
            Fix("Make every handler async", edits, Applicability.UNSAFE) if edits else None,
        )
