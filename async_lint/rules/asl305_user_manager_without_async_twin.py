from __future__ import annotations

import ast

from .. import django_api as api
from ..fixers.missing_method_twin import SuperTwin
from .asl3_shared import auth_twin_findings, auth_twins_apply, lineage
from .base import MODULE, Invalid, Rule, Valid

_TWINS = {**api.USER_MANAGER_OVERRIDES, "get_by_natural_key": "aget_by_natural_key"}
# UserManager.acreate_user/acreate_superuser/_acreate_user and aget_by_natural_key are native.
_SUPER_TWINS = {sync: SuperTwin(twin, delegates=False) for sync, twin in _TWINS.items()}


class UserManagerWithoutAsyncTwin(Rule):
    """A user or group manager overrides `create_user()`, `create_superuser()`, `_create_user()`
    or `get_by_natural_key()` without the async twin Django 5.2 calls instead.

    ## What it does
    When the project runs on Django 5.2 or later (its target, or a supported range reaching
    it), flags in a `UserManager` subclass an override of
    `create_user`, `create_superuser` or `_create_user` without `acreate_user`,
    `acreate_superuser` or `_acreate_user`; and in a `BaseUserManager`, `UserManager` or
    `GroupManager` subclass an override of `get_by_natural_key` without `aget_by_natural_key`.
    (A `BaseUserManager` subclass's own `create_user` is not flagged: Django gives it no async
    twin to skip it.)

    ## Why is this bad?
    5.2's `UserManager.acreate_user()` builds and `asave()`s the user itself (`_acreate_user`),
    and `BaseUserManager.aget_by_natural_key()` is `self.aget(...)`: neither calls the sync
    override.  `ModelBackend.aauthenticate()` looks the user up with `aget_by_natural_key()`, so a
    case-insensitive `get_by_natural_key()` stops applying to async logins, and
    `await User.objects.acreate_user(...)` skips whatever `create_user()` adds.

    ## Fix
    Adds the twin after the method: translated when every statement translates
    (`super().create_user(...)` → `await super().acreate_user(...)`), else
    `return await sync_to_async(self.create_user)(...)`.

    ## Fix safety
    Unsafe: the async path starts running the override, where it ran Django's own code.
    """

    code = "ASL305"
    name = "user-manager-without-async-twin"
    node_types = (ast.ClassDef,)
    looks_at = MODULE
    requires_text = tuple(f"def {m}" for m in sorted(_TWINS))
    counts_in_helpers = False

    INVALID = [
        Invalid(
            "from django.contrib.auth.models import UserManager\n\n\nclass EmailUserManager(UserManager):\n    def get_by_natural_key(self, username):\n        return self.get(username__iexact=username)\n",
            unsafe_fixed="from django.contrib.auth.models import UserManager\n\n\nclass EmailUserManager(UserManager):\n    def get_by_natural_key(self, username):\n        return self.get(username__iexact=username)\n\n    async def aget_by_natural_key(self, username):\n        return await self.aget(username__iexact=username)\n",
        ),
        Invalid(
            "from django.contrib.auth.models import UserManager\n\n\nclass StaffManager(UserManager):\n    def create_user(self, username, email=None, password=None, **extra_fields):\n        extra_fields.setdefault('is_staff', True)\n        return super().create_user(username, email, password, **extra_fields)\n",
            unsafe_fixed="from django.contrib.auth.models import UserManager\n\n\nclass StaffManager(UserManager):\n    def create_user(self, username, email=None, password=None, **extra_fields):\n        extra_fields.setdefault('is_staff', True)\n        return super().create_user(username, email, password, **extra_fields)\n\n    async def acreate_user(self, username, email=None, password=None, **extra_fields):\n        extra_fields.setdefault('is_staff', True)\n        return await super().acreate_user(username, email, password, **extra_fields)\n",
        ),
    ]
    VALID = [
        Valid(
            "from django.contrib.auth.base_user import BaseUserManager\n\n\nclass AccountManager(BaseUserManager):\n    def create_user(self, email, password=None):\n        user = self.model(email=email)\n        user.set_password(password)\n        user.save(using=self._db)\n        return user\n"
        ),
        Valid(
            "from django.contrib.auth.models import UserManager\n\n\nclass EmailUserManager(UserManager):\n    def get_by_natural_key(self, username):\n        return self.get(username__iexact=username)\n\n    async def aget_by_natural_key(self, username):\n        return await self.aget(username__iexact=username)\n"
        ),
        Valid("from django.db import models\n\n\nclass TagManager(models.Manager):\n    def get_by_natural_key(self, name):\n        return self.get(name=name)\n"),
        Valid(
            "from django.contrib.auth.models import UserManager\n\n\nclass EmailUserManager(UserManager):\n    def get_by_natural_key(self, username):\n        return self.get(username__iexact=username)\n",
            target_version="5.1",
        ),
    ]

    def check(self, node, ctx):
        if not auth_twins_apply(ctx):
            return
        found = lineage(ctx, node)
        methods = {}
        if found.has(api.USER_MANAGER_CLASSES):
            methods.update(api.USER_MANAGER_OVERRIDES)
        if found.has(api.NATURAL_KEY_MANAGER_CLASSES):
            methods["get_by_natural_key"] = "aget_by_natural_key"
        if not methods:
            return

        def why(sync: str, twin: str) -> str:
            if sync == "get_by_natural_key":
                return (
                    "since Django 5.2 `aget_by_natural_key()` is `self.aget(...)`, and `ModelBackend.aauthenticate()` "
                    "uses it, so async logins skip this override"
                )
            return f"since Django 5.2 `UserManager.{twin}()` creates and saves the user itself, skipping this override"

        yield from auth_twin_findings(ctx, self.code, node, found, methods, _SUPER_TWINS, why)
