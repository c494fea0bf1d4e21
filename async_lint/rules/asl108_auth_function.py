from __future__ import annotations

import ast

from .. import django_api as api
from .base import Invalid, Rule, Valid
from ._fix_choice import function_fix

AUTH_MODULE = "django.contrib.auth"


class SyncAuthFunction(Rule):
    """`authenticate()`, `login()`, `logout()`, `get_user()` or `update_session_auth_hash()` on
    the event loop.

    ## What it does
    Flags calls of these `django.contrib.auth` functions inside an `async def`.

    ## Why is this bad?
    They read and write the session and the user through the sync database API and raise
    `SynchronousOnlyOperation`.

    ## Fix
    `await aauthenticate(...)`, `await alogin(...)`, `await alogout(...)`, `await aget_user(...)`,
    `await aupdate_session_auth_hash(...)` (Django 5.0+); `await sync_to_async(login)(...)` before.

    ## Fix safety
    Safe up to Django 5.1, where the twins run the sync function in a thread
    (`aupdate_session_auth_hash` only on 5.0: from 5.1 it uses the native session API, and in
    5.1–5.2 it reads `request.user` synchronously and raises, ticket #36561, so the fix keeps
    `sync_to_async(update_session_auth_hash)` there).  From
    5.2 the twins are native re-implementations that call the backends' `a*` methods: a custom
    authentication backend that overrides only the sync `authenticate()`/`get_user()` is skipped,
    so the rewrite is unsafe there.
    """

    code = "ASL108"
    name = "sync-auth-function"
    node_types = (ast.Call,)

    INVALID = [
        Invalid(
            "from django.contrib.auth import authenticate, login\n\nasync def sign_in(request, username, password):\n    user = authenticate(request, username=username, password=password)\n    login(request, user)\n",
            fixed="from django.contrib.auth import authenticate, login, aauthenticate, alogin\n\nasync def sign_in(request, username, password):\n    user = await aauthenticate(request, username=username, password=password)\n    await alogin(request, user)\n",
            target_version="5.0",
            count=2,
        ),
        Invalid(
            "from django.contrib.auth import update_session_auth_hash\n\nasync def change(request, user):\n    update_session_auth_hash(request, user)\n",
            fixed="from django.contrib.auth import update_session_auth_hash\nfrom asgiref.sync import sync_to_async\n\nasync def change(request, user):\n    await sync_to_async(update_session_auth_hash)(request, user)\n",
            target_version="5.2",
        ),
        Invalid(
            "from django.contrib import auth\n\nasync def sign_out(request):\n    auth.logout(request)\n",
            unsafe_fixed="from django.contrib import auth\n\nasync def sign_out(request):\n    await auth.alogout(request)\n",
            target_version="5.2",
        ),
    ]
    VALID = [
        Valid("from django.contrib.auth import alogin\n\nasync def sign_in(request, user):\n    await alogin(request, user)\n", target_version="5.0"),
        Valid("async def sign_in(request, client):\n    client.login(request)\n"),
    ]

    def check(self, node, ctx):
        qualname = ctx.qualname(node.func) or ""
        module, _, name = qualname.rpartition(".")
        twin = api.AUTH_FUNCTIONS.get(name) if module == AUTH_MODULE else None
        if twin is None:
            return
        advice, fix = function_fix(ctx, node, AUTH_MODULE, twin)
        yield ctx.report(self.code, node, f"`{name}()` uses the session and the database on the event loop; {advice}", fix)
