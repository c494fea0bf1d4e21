from __future__ import annotations

import ast

from .. import django_api as api
from ..diagnostics import Applicability
from ..fixers.missing_method_twin import SuperTwin
from .asl3_shared import async_twin_fix, is_stub
from .base import MODULE, Invalid, Rule, Valid
from ._class_chain import class_chain, defines

_CACHE = "from django.core.cache.backends.locmem import LocMemCache\n\n\n"
_MANAGER = "from django.db import models\nfrom django.utils.text import slugify\n\n\n"
_PROPERTIES = frozenset({"property", "cached_property", "setter", "deleter"})
# Classes the other ASL3 rules check for their own pairs.
_AUTH_BACKENDS = frozenset({api.BASE_BACKEND, *api.MODEL_BACKENDS})


_DJANGO_OVERRIDABLE = frozenset().union(*(names for _, names in api.NATIVE_INHERITED_TWINS.values()), api.QUERYSET_METHODS)


def twin_name(sync: str) -> str:
    """`get_many` → `aget_many`; a private `_get_session` → `_aget_session`, as Django names them."""
    return "_a" + sync[1:] if sync.startswith("_") and not sync.startswith("__") else "a" + sync


class InheritedTwinSkipsOverride(Rule):
    """An override of a sync method whose async twin, inherited from the base, does not call it.

    ## What it does
    Flags a method `x()` that a class defines while it inherits `ax()` from a base class, when
    that `ax()` never reaches `self.x()`:
    - a project base whose `ax()` body does not call `self.x()` (directly, through
      `sync_to_async(self.x)`, or through other methods of the class), across modules;
    - a Django base whose twin is native in the versions the project supports: a cache
      backend's `aget_many()`, `aincr()`, `aset_many()`, `aclose()`, … (built on `aget()` /
      `aset()`, or empty), a session store's async methods (Django 5.1+), and every async
      QuerySet method of a `Manager` (`Book.objects.acreate()` runs the QuerySet's `create()`,
      not the manager's).
    Models, auth backends and user managers are left to ASL301–ASL306.

    ## Why is this bad?
    Async callers go through the inherited twin and skip the override: the slug it sets, the
    connection it closes, the batched query it makes.  Django fixed this shape in its own code
    (related managers' `acreate()`, ticket #34139; cache backends' `aincr()` / `aget_many()` /
    `aclose()`, ticket #36590).

    ## Fix
    Writes the async twin beside the override: its body translated (`super().x()` becomes
    `await super().ax()`), or, when it does not translate completely,
    `return await sync_to_async(self.x)(...)`.

    ## Fix safety
    Unsafe: async callers start running the override, which is the point, but is a change of
    behaviour to review.
    """

    code = "ASL307"
    name = "inherited-twin-skips-override"
    node_types = (ast.ClassDef,)
    looks_at = MODULE
    requires_text = ("class ",)
    counts_in_helpers = False

    INVALID = [
        Invalid(
            _MANAGER + "class BookManager(models.Manager):\n    def create(self, **kwargs):\n"
            "        kwargs.setdefault('slug', slugify(kwargs['title']))\n        return super().create(**kwargs)\n",
            unsafe_fixed=_MANAGER + "class BookManager(models.Manager):\n    def create(self, **kwargs):\n"
            "        kwargs.setdefault('slug', slugify(kwargs['title']))\n        return super().create(**kwargs)\n\n"
            "    async def acreate(self, **kwargs):\n        kwargs.setdefault('slug', slugify(kwargs['title']))\n        return await super().acreate(**kwargs)\n",
        ),
        Invalid(
            _CACHE + "class CountingCache(LocMemCache):\n    def incr(self, key, delta=1, version=None):\n"
            "        self.increments = getattr(self, 'increments', 0) + 1\n        return super().incr(key, delta, version)\n",
            unsafe_fixed=_CACHE.replace("LocMemCache\n", "LocMemCache\nfrom asgiref.sync import sync_to_async\n")
            + "class CountingCache(LocMemCache):\n    def incr(self, key, delta=1, version=None):\n"
            "        self.increments = getattr(self, 'increments', 0) + 1\n        return super().incr(key, delta, version)\n\n"
            "    async def aincr(self, key, delta=1, version=None):\n        return await sync_to_async(self.incr)(key, delta, version)\n",
        ),
        Invalid(
            "class Store:\n    def load(self, key):\n        return key\n\n    async def aload(self, key):\n        return key.upper()\n\n\n"
            "class AuditedStore(Store):\n    def load(self, key):\n        print('load', key)\n        return super().load(key)\n",
            unsafe_fixed="from asgiref.sync import sync_to_async\n\n\nclass Store:\n    def load(self, key):\n        return key\n\n    async def aload(self, key):\n        return key.upper()\n\n\n"
            "class AuditedStore(Store):\n    def load(self, key):\n        print('load', key)\n        return super().load(key)\n\n"
            "    async def aload(self, key):\n        return await sync_to_async(self.load)(key)\n",
        ),
    ]
    VALID = [
        # The base's twin runs the sync method: the override is reached.
        Valid(
            "from asgiref.sync import sync_to_async\n\n\nclass Store:\n    def load(self, key):\n        return key\n\n"
            "    async def aload(self, key):\n        return await sync_to_async(self.load)(key)\n\n\n"
            "class AuditedStore(Store):\n    def load(self, key):\n        print('load', key)\n        return super().load(key)\n"
        ),
        # Both halves overridden.
        Valid(
            _CACHE + "class CountingCache(LocMemCache):\n    def incr(self, key, delta=1, version=None):\n        return super().incr(key, delta, version)\n\n"
            "    async def aincr(self, key, delta=1, version=None):\n        return await super().aincr(key, delta, version)\n"
        ),
        # BaseCache.aget() runs `self.get()` in a thread.
        Valid(_CACHE + "class PrefixedCache(LocMemCache):\n    def get(self, key, default=None, version=None):\n        return super().get('p:' + key, default, version)\n"),
        # A QuerySet's twins run its own methods.
        Valid(_MANAGER + "class BookQuerySet(models.QuerySet):\n    def create(self, **kwargs):\n        kwargs.setdefault('slug', slugify(kwargs['title']))\n        return super().create(**kwargs)\n"),
    ]

    def check(self, node, ctx):
        if is_stub(ctx) or not node.bases:
            return
        qualname = f"{ctx.file.module}.{node.name}"
        if ctx.file.index.kind(qualname) == "model" or ctx.file.index.is_user_manager(qualname):
            return
        own = {s.name: s for s in node.body if isinstance(s, (ast.FunctionDef, ast.AsyncFunctionDef))}
        # A twin can only be inherited from a project class (an `async def` of that name exists in
        # the project) or from Django's (the names of the table and of QuerySet methods).
        async_names = ctx.file.index.async_names
        overrides = [
            f for name, f in own.items()
            if isinstance(f, ast.FunctionDef) and not name.startswith("__") and twin_name(name) not in own
            and (twin_name(name) in async_names or name in _DJANGO_OVERRIDABLE) and not _is_property(f)
        ]
        if not overrides:
            return
        chain, external = class_chain(qualname, ctx)
        if not chain or chain[0][0] is not node or _auth_backend(chain, external):
            return
        for function in overrides:
            name, twin = function.name, twin_name(function.name)
            base = _skipping_base(chain, external, name, twin, ctx)
            if base is None:
                continue
            fix = async_twin_fix(
                ctx, node, function, twin, {name: SuperTwin(twin, delegates=False)},
                exact=Applicability.UNSAFE, delegated=Applicability.UNSAFE,
            )
            yield ctx.report_definition(
                self.code,
                function,
                f"`{node.name}` overrides `{name}()` but inherits `{twin}()` from `{base}`, which does not call "
                f"`self.{name}()`: `await ….{twin}()` skips this override; define `{twin}()` beside it",
                fix,
            )


def _skipping_base(chain, external: set[str], sync: str, twin: str, ctx) -> str | None:
    """The base the class inherits `twin` from, when that twin does not reach `self.<sync>`."""
    for cls, file in chain[1:]:
        methods = {s.name: s for s in cls.body if isinstance(s, (ast.FunctionDef, ast.AsyncFunctionDef))}
        if twin in methods:
            if isinstance(methods[twin], ast.AsyncFunctionDef) and not _reaches(methods[twin], sync, chain, set()):
                return cls.name
            return None
    for base in sorted(external):
        skipped = api.NATIVE_INHERITED_TWINS.get(base)
        if skipped is not None and sync in skipped[1] and ctx.reaches(skipped[0]):
            return base.rpartition(".")[2]
        if base in api.MANAGER_BASES and sync in api.QUERYSET_METHODS and api.QUERYSET_METHODS[sync].twin == twin:
            if ctx.reaches(api.QUERYSET_METHODS[sync].since):
                return base.rpartition(".")[2]
    return None


def _reaches(function, sync: str, chain, seen: set[str]) -> bool:
    """Whether `function` reads `self.<sync>`, itself or through the class's other methods."""
    for node in ast.walk(function):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "self":
            if node.attr == sync:
                return True
            if node.attr not in seen:
                seen.add(node.attr)
                method = defines(chain, node.attr)
                if method is not None and _reaches(method, sync, chain, seen):
                    return True
    return False


def _auth_backend(chain, external: set[str]) -> bool:
    """An authentication backend (ASL304's): on Django's backends, or with their protocol."""
    defined = {s.name for cls, _ in chain for s in cls.body if isinstance(s, (ast.FunctionDef, ast.AsyncFunctionDef))}
    return bool(external & _AUTH_BACKENDS) or {"authenticate", "get_user"} <= defined


def _is_property(function: ast.FunctionDef) -> bool:
    """`@property`, `@cached_property`, `@x.setter`: an attribute, not a method with a twin."""
    for decorator in function.decorator_list:
        name = decorator.attr if isinstance(decorator, ast.Attribute) else getattr(decorator, "id", "")
        if name in _PROPERTIES:
            return True
    return False
