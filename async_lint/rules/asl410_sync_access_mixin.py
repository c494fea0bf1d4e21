from __future__ import annotations

import ast

from .. import django_api as api
from .asl3_shared import is_stub, lineage
from .asl4_shared import view_class
from .base import MODULE, Invalid, Rule, Valid

# django/contrib/auth/mixins.py (checked in Django 5.2): each defines a sync `dispatch()` that
# tests the user before handing over to the view's dispatch.
ACCESS_MIXINS = {
    "django.contrib.auth.mixins.LoginRequiredMixin": "reads `request.user.is_authenticated`",
    "django.contrib.auth.mixins.PermissionRequiredMixin": "calls `request.user.has_perms()`",
    "django.contrib.auth.mixins.UserPassesTestMixin": "runs `test_func()`, which usually reads `request.user`",
}


class SyncAccessMixinOnAsyncView(Rule):
    """An async class-based view behind Django's sync access mixins (`LoginRequiredMixin`, …).

    ## What it does
    Flags a class-based view whose HTTP handlers are all `async def` and which inherits
    `LoginRequiredMixin`, `PermissionRequiredMixin` or `UserPassesTestMixin` from
    `django.contrib.auth.mixins`.

    ## Why is this bad?
    Those mixins check the user in a sync `dispatch()`.  On an async view, Django calls
    `dispatch()` on the event loop, so the check loads the lazy `request.user` (a session and a
    user query) there: `SynchronousOnlyOperation` for every logged-in visitor, while tests with
    an anonymous client pass.

    ## Fix
    No automatic fix: check the user in the async handler (`user = await request.auser()`,
    then `await user.ahas_perms(...)`), or decorate the handlers with `login_required` /
    `permission_required`, which accept async views since Django 5.0 (through
    `method_decorator`, which keeps an `async def` async since 5.2).
    """

    code = "ASL410"
    name = "sync-access-mixin-on-async-view"
    node_types = (ast.ClassDef,)
    looks_at = MODULE
    requires_text = ("RequiredMixin", "UserPassesTestMixin")
    counts_in_helpers = False

    INVALID = [
        Invalid(
            "from django.contrib.auth.mixins import LoginRequiredMixin\nfrom django.http import HttpResponse\nfrom django.views import View\n\n\n"
            "class Dashboard(LoginRequiredMixin, View):\n    async def get(self, request):\n        return HttpResponse('ok')\n"
        ),
    ]
    VALID = [
        Valid(
            "from django.contrib.auth.mixins import LoginRequiredMixin\nfrom django.http import HttpResponse\nfrom django.views import View\n\n\n"
            "class Dashboard(LoginRequiredMixin, View):\n    def get(self, request):\n        return HttpResponse('ok')\n"
        ),
        Valid(
            "from django.http import HttpResponse\nfrom django.views import View\n\n\n"
            "class Dashboard(View):\n    async def get(self, request):\n        user = await request.auser()\n        return HttpResponse(user.get_username())\n"
        ),
    ]

    def check(self, node, ctx):
        if is_stub(ctx) or not ctx.reaches(api.ASYNC_VIEW_HANDLERS_SINCE):
            return
        mixins = [q for q in lineage(ctx, node).qualnames if q in ACCESS_MIXINS]
        if not mixins:
            return
        view = view_class(ctx, node)
        if view is None or not view.handlers or not all(h.is_async for h in view.handlers.values()):
            return
        if view.dispatch is not None:
            return  # the class's own dispatch decides what runs first
        mixin = sorted(mixins)[0]
        name = mixin.rpartition(".")[2]
        yield ctx.report(
            self.code,
            next((b for b in node.bases if (ctx.file.qualname_of(b) or "").endswith(name)), node),
            f"`{name}.dispatch()` is sync and runs on the event loop of this async view: it {ACCESS_MIXINS[mixin]}, "
            "which loads the user there (SynchronousOnlyOperation for a logged-in user); check access in the async "
            "handler instead",
        )
