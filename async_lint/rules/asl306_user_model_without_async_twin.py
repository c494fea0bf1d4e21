from __future__ import annotations

import ast

from .. import django_api as api
from ..fixers.missing_method_twin import SuperTwin
from .asl3_shared import auth_twin_findings, is_stub, lineage
from .base import MODULE, Invalid, Rule, Valid

_SUPER_TWINS = {
    **{name: SuperTwin("a" + name, delegates=False) for name in api.USER_PERMISSION_METHODS},
    "check_password": SuperTwin("acheck_password", delegates=False),
}
_USER = "from django.contrib.auth.base_user import AbstractBaseUser\nfrom django.db import models\n\n\nclass Member(AbstractBaseUser):\n    email = models.EmailField(unique=True)\n    is_admin = models.BooleanField(default=False)\n    USERNAME_FIELD = 'email'\n\n"


class UserModelWithoutAsyncTwin(Rule):
    """A custom user model overrides `has_perm()` (and the other permission methods) or
    `check_password()` without the async twin Django calls on the async path.

    ## What it does
    Flags, in a user model (a subclass of `AbstractBaseUser`, `AbstractUser` or
    `PermissionsMixin`), an override of `has_perm`, `has_perms`, `has_module_perms`,
    `get_all_permissions`, `get_user_permissions` or `get_group_permissions` without its
    `a`-twin (target Django 5.2+), and of `check_password` without `acheck_password` (5.0+).

    ## Why is this bad?
    `PermissionsMixin.ahas_perm()` and the other 5.2 twins ask the backends' `a`-methods; they
    never call the model's sync override, so `await user.ahas_perm("x")` and the async
    `permission_required` answer differently from `user.has_perm("x")`.  A user model without
    `PermissionsMixin` has no `ahas_perm()` at all: 5.2's async `permission_required` fails
    with AttributeError.  `acheck_password()` (5.0) hashes natively and skips an overridden
    `check_password()` (a legacy-hash fallback, say).

    ## Fix
    Adds the twin after the method: translated when every statement translates (`return
    self.is_admin` stays as it is; `super().has_perm(...)` → `await super().ahas_perm(...)`),
    else `return await sync_to_async(self.has_perm)(perm, obj)`.

    ## Fix safety
    Unsafe: the async path starts running the override, where it ran Django's own code.
    """

    code = "ASL306"
    name = "user-model-without-async-twin"
    node_types = (ast.ClassDef,)
    looks_at = MODULE
    requires_text = (*(f"def {m}" for m in sorted(api.USER_PERMISSION_METHODS)), "def check_password")
    counts_in_helpers = False

    INVALID = [
        Invalid(
            _USER + "    def has_perm(self, perm, obj=None):\n        return self.is_admin\n\n    def has_module_perms(self, app_label):\n        return True\n",
            unsafe_fixed=_USER
            + "    def has_perm(self, perm, obj=None):\n        return self.is_admin\n\n    async def ahas_perm(self, perm, obj=None):\n        return self.is_admin\n\n    def has_module_perms(self, app_label):\n        return True\n\n    async def ahas_module_perms(self, app_label):\n        return True\n",
            count=2,
        ),
        Invalid(
            "from django.contrib.auth.models import AbstractUser\n\n\nclass Member(AbstractUser):\n    def check_password(self, raw_password):\n        return legacy_check(self, raw_password) or super().check_password(raw_password)\n",
            unsafe_fixed="from django.contrib.auth.models import AbstractUser\nfrom asgiref.sync import sync_to_async\n\n\nclass Member(AbstractUser):\n    def check_password(self, raw_password):\n        return legacy_check(self, raw_password) or super().check_password(raw_password)\n\n    async def acheck_password(self, raw_password):\n        return await sync_to_async(self.check_password)(raw_password)\n",
            target_version="5.0",
        ),
    ]
    VALID = [
        Valid(_USER + "    def has_perm(self, perm, obj=None):\n        return self.is_admin\n", target_version="5.1"),
        Valid(
            _USER + "    def has_perm(self, perm, obj=None):\n        return self.is_admin\n\n    async def ahas_perm(self, perm, obj=None):\n        return self.is_admin\n"
        ),
        Valid("from django.db import models\n\n\nclass Team(models.Model):\n    def has_perm(self, user, perm):\n        return False\n"),
    ]

    def check(self, node, ctx):
        if is_stub(ctx):
            return
        if not ctx.reaches(api.CHECK_PASSWORD_SINCE) or not isinstance(ctx.parent, ast.Module):
            return
        if ctx.file.module.split(".")[0] == "django":
            return  # Django's own classes: their async halves are Django's reference code
        model = ctx.file.index.model(f"{ctx.file.module}.{node.name}")
        if model is None:
            return
        found = lineage(ctx, node)
        permissions = found.has(api.PERMISSIONS_MIXINS)
        methods = {}
        if ctx.reaches(api.AUTH_BACKEND_TWIN_SINCE) and (model.is_user or permissions):
            methods.update({m: "a" + m for m in api.USER_PERMISSION_METHODS})
        if model.is_user:
            methods["check_password"] = "acheck_password"

        def why(sync: str, twin: str) -> str:
            if sync == "check_password":
                return "`acheck_password()` (Django 5.0+) checks the hash itself and skips this override"
            if not permissions:
                return f"the model has no `{twin}()` at all, so Django 5.2's async `permission_required` fails with AttributeError"
            return f"`PermissionsMixin.{twin}()` (Django 5.2+) asks the backends and skips this override"

        yield from auth_twin_findings(ctx, self.code, node, found, methods, _SUPER_TWINS, why)
