from __future__ import annotations

import ast

from .. import django_api as api
from ..semantic import Instance, LazyUser, Manager
from .base import Invalid, Rule, Valid
from ._fix_choice import called_method, method_fix, thread_fix

USER_MANAGER = "django.contrib.auth.models.UserManager"


class SyncUserMethod(Rule):
    """A user or user-manager method that queries, called on the event loop: `check_password()`,
    `has_perm()`, `has_perms()`, `get_all_permissions()`, `User.objects.create_user()`, …

    ## What it does
    Flags, on the project's user model (`AUTH_USER_MODEL`, `get_user_model()`,
    `django.contrib.auth.models.User`), calls of `check_password`, `has_perm`, `has_perms`,
    `has_module_perms`, `get_all_permissions`, `get_user_permissions`, `get_group_permissions`,
    and on its manager `create_user`, `create_superuser`, `get_by_natural_key`.

    ## Why is this bad?
    Permission checks read groups and permissions, `check_password` may re-hash and save, and
    the manager methods write or read the user: all through the sync database API.

    ## Fix
    The `a`-prefixed twin where the target Django has it (`acheck_password` 5.0; the permission
    methods, `acreate_user`, `acreate_superuser`, `aget_by_natural_key` 5.2), otherwise
    `await sync_to_async(user.has_perm)(...)`.

    ## Fix safety
    The twins are native re-implementations: `ahas_perm()` asks only backends' `a*` methods, and
    `acreate_user()` does not call an overridden `create_user()`.  The twin rewrite is unsafe;
    the `sync_to_async` wrapper is safe.
    """

    code = "ASL109"
    name = "sync-user-method"
    node_types = (ast.Call,)

    INVALID = [
        Invalid(
            "from django.contrib.auth import get_user_model\n\nasync def allowed(pk):\n    user = await get_user_model().objects.aget(pk=pk)\n    return user.has_perm('library.change_book')\n",
            unsafe_fixed="from django.contrib.auth import get_user_model\n\nasync def allowed(pk):\n    user = await get_user_model().objects.aget(pk=pk)\n    return await user.ahas_perm('library.change_book')\n",
            target_version="5.2",
        ),
        Invalid(
            "from django.contrib.auth.models import User\n\nasync def register(name):\n    return User.objects.create_user(name)\n",
            fixed="from django.contrib.auth.models import User\nfrom asgiref.sync import sync_to_async\n\nasync def register(name):\n    return await sync_to_async(User.objects.create_user)(name)\n",
            target_version="5.0",
        ),
    ]
    VALID = [
        Valid("async def allowed(request):\n    user = await request.auser()\n    return await user.ahas_perm('x')\n", target_version="5.2"),
        Valid("async def allowed(checker):\n    return checker.has_perm('x')\n"),
    ]

    def check(self, node, ctx):
        receiver, method = called_method(node) or (None, "")
        if method not in api.USER_METHODS and method not in api.USER_MANAGER_METHODS:
            return
        value = ctx.infer(receiver)
        if not isinstance(value, (Instance, LazyUser, Manager)) or value.model is None or not value.model.is_user:
            return
        if isinstance(value, Manager):
            if value.relation is not None or method not in api.USER_MANAGER_METHODS:
                return
            ancestors = list(ctx.file.index.ancestors(value.spec.manager_class or ""))
            if method == "get_by_natural_key" or any(a.qualname == USER_MANAGER for a in ancestors):
                advice, fix = method_fix(ctx, node, api.USER_MANAGER_METHODS[method])
            elif any(method in a.methods for a in ancestors):
                # A BaseUserManager subclass with its own create_user(): no twin, still a write.
                advice, fix = thread_fix(ctx, node)
            else:
                return
        elif method in api.USER_METHODS:
            advice, fix = method_fix(ctx, node, api.USER_METHODS[method])
        else:
            return
        yield ctx.report(self.code, node, f"`.{method}()` queries the database on the event loop; {advice}", fix)
