from __future__ import annotations

import ast

from .. import django_api as api
from ..fixers.missing_method_twin import SuperTwin
from ..diagnostics import Applicability
from .asl3_shared import (
    async_twin_fix,
    auth_twin_findings,
    auth_twins_apply,
    backend_kind,
    defined_names,
    lineage,
    methods_of,
)
from .base import MODULE, Invalid, Rule, Valid

_MODEL_BACKEND_TWINS = {name: SuperTwin("a" + name, delegates=False) for name in api.BACKEND_METHODS}
# BaseBackend: aauthenticate, aget_user, aget_user_permissions, aget_group_permissions delegate.
_BASE_BACKEND_TWINS = {
    name: SuperTwin("a" + name, delegates=name not in api.BASE_BACKEND_NATIVE)
    for name in api.BACKEND_METHODS - api.BASE_BACKEND_WITHOUT_TWIN
}
_IMPORT = "from django.contrib.auth.backends import {}\nfrom django.contrib.auth.models import User\n\n\n"


class AuthBackendWithoutAsyncTwin(Rule):
    """An authentication backend overrides `authenticate()`, `get_user()` or a permission method
    without the `a`-prefixed twin that Django 5.2's async auth calls instead.

    ## What it does
    When the project runs on Django 5.2 or later (its target, or a supported range reaching
    it), flags in an authentication backend class:

    - a `ModelBackend` (or `RemoteUserBackend`, `AllowAllUsers…`) subclass overriding
      `authenticate`, `get_user`, `get_user_permissions`, `get_group_permissions`,
      `get_all_permissions`, `has_perm` or `has_module_perms` without the `a`-twin;
    - a `BaseBackend` subclass overriding `has_perm`, `get_all_permissions` (whose `a`-twins are
      built on the async getters, not on the override) or `has_module_perms` (no twin at all);
    - a class with no base (or only `ABC`) that implements the backend protocol
      (`authenticate(self, request, …)` and `get_user(self, user_id)`) and lacks the
      `a`-methods;
    - such a method that a mixin of the same file, listed before the Django backend among the
      bases, brings into a backend (`class B(ObjectPermissionMixin, ModelBackend)`).

    Django's own modules are not checked.

    ## Why is this bad?
    Since 5.2, `aauthenticate()`, `alogin()`, `request.auser()` and `user.ahas_perm()` call the
    backends' `a`-methods, and `ModelBackend`'s are native re-implementations: an override of
    the sync method is silently skipped on the async path (a probe on 5.2 and 6.1: a custom
    `has_perm` returned True, `ahas_perm` returned False).  A backend without the methods at all
    makes `aauthenticate()` and `request.auser()` fail with AttributeError, and is left out of
    async permission checks.  `BaseBackend`'s `aauthenticate`/`aget_user`/
    `aget_user_permissions`/`aget_group_permissions` run the sync method, so those overrides are
    not flagged.

    ## Fix
    Adds the twin after the method: the body made async when every statement translates
    (`super().authenticate(...)` → `await super().aauthenticate(...)`, ORM calls to their
    twins), else `return await sync_to_async(self.authenticate)(request, ...)`.

    ## Fix safety
    Unsafe: the async path starts running the override, where it ran Django's own code.
    """

    code = "ASL304"
    name = "auth-backend-without-async-twin"
    node_types = (ast.ClassDef,)
    looks_at = MODULE
    requires_text = tuple(f"def {m}" for m in sorted(api.BACKEND_METHODS))
    counts_in_helpers = False

    INVALID = [
        Invalid(
            _IMPORT.format("ModelBackend")
            + "class EmailBackend(ModelBackend):\n    def authenticate(self, request, username=None, password=None, **kwargs):\n        user = User.objects.filter(email__iexact=username).first()\n        if user is not None and user.check_password(password):\n            return user\n        return None\n",
            unsafe_fixed=_IMPORT.format("ModelBackend").replace("User\n", "User\nfrom asgiref.sync import sync_to_async\n", 1)
            + "class EmailBackend(ModelBackend):\n    def authenticate(self, request, username=None, password=None, **kwargs):\n        user = User.objects.filter(email__iexact=username).first()\n        if user is not None and user.check_password(password):\n            return user\n        return None\n\n    async def aauthenticate(self, request, username=None, password=None, **kwargs):\n        return await sync_to_async(self.authenticate)(request, username, password, **kwargs)\n",
        ),
        Invalid(
            _IMPORT.format("BaseBackend")
            + "class StaffBackend(BaseBackend):\n    def has_perm(self, user_obj, perm, obj=None):\n        return user_obj.is_staff\n",
            unsafe_fixed=_IMPORT.format("BaseBackend")
            + "class StaffBackend(BaseBackend):\n    def has_perm(self, user_obj, perm, obj=None):\n        return user_obj.is_staff\n\n    async def ahas_perm(self, user_obj, perm, obj=None):\n        return user_obj.is_staff\n",
        ),
        Invalid(
            "from library.models import Author\n\n\nclass TokenBackend:\n    def authenticate(self, request, token=None):\n        return None\n\n    def get_user(self, user_id):\n        return Author.objects.get(pk=user_id)\n",
            unsafe_fixed="from library.models import Author\n\n\nclass TokenBackend:\n    def authenticate(self, request, token=None):\n        return None\n\n    async def aauthenticate(self, request, token=None):\n        return None\n\n    def get_user(self, user_id):\n        return Author.objects.get(pk=user_id)\n\n    async def aget_user(self, user_id):\n        return await Author.objects.aget(pk=user_id)\n",
            count=2,
        ),
        # A backend on an abstract base (no backend methods of its own) is one by its shape.
        Invalid(
            "from abc import ABC\n\nfrom library.models import Author\n\n\nclass TokenBackend(ABC):\n    def authenticate(self, request, token=None):\n        return None\n\n    def get_user(self, user_id):\n        return Author.objects.get(pk=user_id)\n",
            unsafe_fixed="from abc import ABC\n\nfrom library.models import Author\n\n\nclass TokenBackend(ABC):\n    def authenticate(self, request, token=None):\n        return None\n\n    async def aauthenticate(self, request, token=None):\n        return None\n\n    def get_user(self, user_id):\n        return Author.objects.get(pk=user_id)\n\n    async def aget_user(self, user_id):\n        return await Author.objects.aget(pk=user_id)\n",
            count=2,
        ),
        Invalid(
            _IMPORT.format("ModelBackend") + "class Backend(ModelBackend):\n    def get_user(self, user_id):\n        return super().get_user(user_id)\n",
            unsafe_fixed=_IMPORT.format("ModelBackend")
            + "class Backend(ModelBackend):\n    def get_user(self, user_id):\n        return super().get_user(user_id)\n\n    async def aget_user(self, user_id):\n        return await super().aget_user(user_id)\n",
        ),
        Invalid(
            _IMPORT.format("ModelBackend")
            + "class ObjectPermissionMixin:\n    def get_all_permissions(self, user_obj, obj=None):\n        return set()\n\n    def has_perm(self, user_obj, perm, obj=None):\n        return user_obj.is_superuser\n\n\nclass ObjectPermissionBackend(ObjectPermissionMixin, ModelBackend):\n    pass\n",
            unsafe_fixed=_IMPORT.format("ModelBackend")
            + "class ObjectPermissionMixin:\n    def get_all_permissions(self, user_obj, obj=None):\n        return set()\n\n    async def aget_all_permissions(self, user_obj, obj=None):\n        return set()\n\n    def has_perm(self, user_obj, perm, obj=None):\n        return user_obj.is_superuser\n\n    async def ahas_perm(self, user_obj, perm, obj=None):\n        return user_obj.is_superuser\n\n\nclass ObjectPermissionBackend(ObjectPermissionMixin, ModelBackend):\n    pass\n",
            count=2,
        ),
    ]
    VALID = [
        Valid(
            _IMPORT.format("BaseBackend")
            + "class TokenBackend(BaseBackend):\n    def authenticate(self, request, token=None):\n        return None\n\n    def get_user(self, user_id):\n        return User.objects.filter(pk=user_id).first()\n"
        ),
        Valid(
            _IMPORT.format("ModelBackend")
            + "class Backend(ModelBackend):\n    def has_perm(self, user_obj, perm, obj=None):\n        return True\n\n    async def ahas_perm(self, user_obj, perm, obj=None):\n        return True\n"
        ),
        Valid(
            _IMPORT.format("ModelBackend") + "class Backend(ModelBackend):\n    def has_perm(self, user_obj, perm, obj=None):\n        return True\n",
            target_version="5.1",
        ),
        Valid("class Checker:\n    def has_perm(self, user, perm):\n        return False\n"),
    ]

    def check(self, node, ctx):
        if not auth_twins_apply(ctx):
            return
        found = lineage(ctx, node)
        kind = backend_kind(ctx, node, found)
        if kind is None:
            return
        if kind == "model":
            methods, super_twins = api.BACKEND_METHODS, _MODEL_BACKEND_TWINS
        elif kind == "base":
            methods, super_twins = api.BASE_BACKEND_NATIVE | api.BASE_BACKEND_WITHOUT_TWIN, _BASE_BACKEND_TWINS
        else:
            methods, super_twins = api.BACKEND_METHODS, {}

        def why(sync: str, twin: str) -> str:
            if kind == "model":
                return (
                    f"since Django 5.2 `ModelBackend.{twin}()` is a native re-implementation that does not call "
                    f"`{sync}()`, so the async path skips this override"
                )
            if kind == "plain" and sync in ("authenticate", "get_user"):
                caller = "aauthenticate()` / `alogin" if sync == "authenticate" else "request.auser()` / `aget_user"
                return f"Django 5.2's `{caller}()` call `backend.{twin}()` and fail with AttributeError"
            if sync in api.BASE_BACKEND_WITHOUT_TWIN or kind == "plain":
                return f"`await user.a{sync.removeprefix('get_')}()` skips backends without `{twin}()`, so it ignores this one"
            return f"`BaseBackend.{twin}()` is built on the async permission getters, not on `{sync}()`, so the async path skips this override"

        twins = {m: "a" + m for m in methods}
        yield from auth_twin_findings(ctx, self.code, node, found, twins, super_twins, why)
        yield from self._from_mixins(ctx, node, found, kind, twins, super_twins, why)

    def _from_mixins(self, ctx, node, found, kind, twins, super_twins, why):
        """Methods a base class of this file that is not a backend itself (a mixin listed before
        the Django backend) brings into this backend."""
        if kind == "plain":
            return
        own = defined_names(node)
        local = ctx.file.module_classes
        backend_at = next((i for i, base in enumerate(node.bases) if _leads_to_backend(ctx, base)), None)
        if backend_at is None:
            return
        for base in node.bases[:backend_at]:
            mixin = local.get(base.id) if isinstance(base, ast.Name) else None
            if mixin is None or mixin is node:
                continue
            for name, function in methods_of(mixin).items():
                twin = twins.get(name)
                if twin is None or not isinstance(function, ast.FunctionDef) or name in own:
                    continue
                if twin in own or found.defines(twin):
                    continue
                fix = async_twin_fix(
                    ctx, mixin, function, twin, super_twins, exact=Applicability.UNSAFE, delegated=Applicability.UNSAFE
                )
                # On the mixin's method: one finding however many backends use the mixin.
                yield ctx.report_definition(
                    self.code,
                    function,
                    f"`{mixin.name}.{name}()` has no `{twin}()`, and the backend `{node.name}` gets it from this mixin: "
                    f"{why(name, twin)}; define `{twin}()` beside it",
                    fix,
                )


def _leads_to_backend(ctx, base: ast.expr) -> bool:
    """Whether a base expression is, or derives from, one of Django's backends."""
    qualname = ctx.file.qualname_of(base)
    if qualname in api.MODEL_BACKENDS or qualname == api.BASE_BACKEND:
        return True
    if isinstance(base, ast.Name) and base.id in ctx.file.module_classes:
        found = lineage(ctx, ctx.file.module_classes[base.id])
        return found.has(api.MODEL_BACKENDS | {api.BASE_BACKEND})
    return False
