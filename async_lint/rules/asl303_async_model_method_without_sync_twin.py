from __future__ import annotations

import ast

from .. import django_api as api
from ..diagnostics import Applicability, Edit, Fix
from ..fixers.expressions import needs_parentheses
from ..fixers.missing_method_twin import insertion, super_method, sync_translation
from ..fixers.sync_to_async import import_edits, wrapper_name
from .asl3_shared import MODEL_TWINS, calls_self_method, defined_names, is_stub, lineage, methods_of
from .base import MODULE, Invalid, Rule, Valid

ASYNC_TO_SYNC = {twin: sync for sync, twin in MODEL_TWINS.items()}
_HEAD = "from django.db import models\nfrom django.utils.text import slugify\n\n\nclass Article(models.Model):\n    title = models.CharField(max_length=100)\n    slug = models.SlugField()\n\n"


class AsyncModelMethodWithoutSyncTwin(Rule):
    """A model overrides `asave()`, `adelete()` or `arefresh_from_db()` but not the sync method.

    ## What it does
    Flags an `async def asave()` (`adelete()`, `arefresh_from_db()`) in a model class that does
    not define `save()` (`delete()`, `refresh_from_db()`), unless it only runs the sync method
    (`sync_to_async(self.save)`).

    ## Why is this bad?
    Django's delegation goes one way only: `asave()` calls `save()`, never the reverse.
    `QuerySet.create()`, `get_or_create()`, model forms, the admin, fixtures and every sync caller
    use `save()` and skip the override, so whatever it does (a slug, a timestamp, a check)
    happens on the async path only.

    ## Fix
    Adds the sync twin, translated from the async body (`await super().asave()` →
    `super().save()`, `await qs.aget()` → `qs.get()`, `await sync_to_async(f)(x)` → `f(x)`,
    `async for` over a QuerySet → `for`), and changes the override's own
    `await super().asave(...)` into `await sync_to_async(super().save)(...)`: Django's
    `asave()` calls `self.save()`, which is now the override's twin, and would run the logic
    twice.  No fix when an `await` has no known sync form, or a project ancestor defines the
    async method.

    ## Fix safety
    Unsafe: sync callers start running the override's logic, which is the point, but is a change
    of behaviour.
    """

    code = "ASL303"
    name = "async-model-method-without-sync-twin"
    node_types = (ast.ClassDef,)
    looks_at = MODULE
    requires_text = ("def asave", "def adelete", "def arefresh_from_db")
    counts_in_helpers = False

    INVALID = [
        Invalid(
            _HEAD + "    async def asave(self, *args, **kwargs):\n        self.slug = slugify(self.title)\n        await super().asave(*args, **kwargs)\n",
            unsafe_fixed="from django.db import models\nfrom django.utils.text import slugify\nfrom asgiref.sync import sync_to_async\n\n\nclass Article(models.Model):\n    title = models.CharField(max_length=100)\n    slug = models.SlugField()\n\n    async def asave(self, *args, **kwargs):\n        self.slug = slugify(self.title)\n        await sync_to_async(super().save)(*args, **kwargs)\n\n    def save(self, *args, **kwargs):\n        self.slug = slugify(self.title)\n        super().save(*args, **kwargs)\n",
        ),
        Invalid(
            "from django.db import models\nfrom library.models import Book\n\n\nclass Shelf(models.Model):\n    name = models.CharField(max_length=100)\n\n    async def adelete(self, using=None, keep_parents=False):\n        async for book in Book.objects.filter(title=self.name):\n            await book.adelete()\n        return await super().adelete(using=using, keep_parents=keep_parents)\n",
            unsafe_fixed="from django.db import models\nfrom asgiref.sync import sync_to_async\nfrom library.models import Book\n\n\nclass Shelf(models.Model):\n    name = models.CharField(max_length=100)\n\n    async def adelete(self, using=None, keep_parents=False):\n        async for book in Book.objects.filter(title=self.name):\n            await book.adelete()\n        return await sync_to_async(super().delete)(using=using, keep_parents=keep_parents)\n\n    def delete(self, using=None, keep_parents=False):\n        for book in Book.objects.filter(title=self.name):\n            book.delete()\n        return super().delete(using=using, keep_parents=keep_parents)\n",
        ),
        Invalid(_HEAD + "    async def asave(self, *args, **kwargs):\n        await notify(self)\n        await super().asave(*args, **kwargs)\n"),
        Invalid(  # the operand's brackets stay whole when `await` goes (found by the fuzz tests)
            _HEAD + "    async def asave(self, *args, **kwargs):\n        await (super().asave(*args, **kwargs))\n",
            unsafe_fixed="from django.db import models\nfrom django.utils.text import slugify\nfrom asgiref.sync import sync_to_async\n\n\nclass Article(models.Model):\n    title = models.CharField(max_length=100)\n    slug = models.SlugField()\n\n    async def asave(self, *args, **kwargs):\n        await (sync_to_async(super().save)(*args, **kwargs))\n\n    def save(self, *args, **kwargs):\n        (super().save(*args, **kwargs))\n",
        ),
    ]
    VALID = [
        Valid(
            _HEAD + "    def save(self, *args, **kwargs):\n        super().save(*args, **kwargs)\n\n    async def asave(self, *args, **kwargs):\n        await super().asave(*args, **kwargs)\n"
        ),
        Valid(
            "from asgiref.sync import sync_to_async\n" + _HEAD
            + "    async def asave(self, *args, **kwargs):\n        await sync_to_async(self.save)(*args, **kwargs)\n"
        ),
        Valid("class Uploader:\n    async def asave(self, data):\n        return data\n"),
    ]

    def check(self, node, ctx):
        if is_stub(ctx):
            return
        if not ctx.reaches(api.MODEL_TWIN_SINCE) or not isinstance(ctx.parent, ast.Module):
            return
        if ctx.file.index.kind(f"{ctx.file.module}.{node.name}") != "model":
            return
        names = defined_names(node)
        for name, function in methods_of(node).items():
            sync = ASYNC_TO_SYNC.get(name)
            if sync is None or not isinstance(function, ast.AsyncFunctionDef) or sync in names:
                continue
            if calls_self_method(function, sync):
                continue  # it runs the sync method: nothing is skipped
            yield ctx.report_definition(
                self.code,
                function,
                f"`{node.name}` overrides `{name}()` but not `{sync}()`: `QuerySet.create()`, forms, the admin and "
                f"every sync caller use `{sync}()` and skip this override; define `{sync}()` beside it",
                self._fix(ctx, node, function, sync),
            )

    @staticmethod
    def _fix(ctx, node, function, sync) -> Fix | None:
        if lineage(ctx, node).defines(function.name):
            return None
        generated = sync_translation(ctx, function, node, sync, ASYNC_TO_SYNC)
        if generated is None:
            return None
        edits = list(insertion(ctx, function, generated) or ())
        if not edits:
            return None
        # The override's own `await super().asave(...)` would call `self.save()`, the new twin.
        wrapper = wrapper_name(ctx)
        parents = {id(c): p for p in ast.walk(function) for c in ast.iter_child_nodes(p)}
        rewrites = []
        for call in ast.walk(function):
            if super_method(call) == function.name and isinstance(parents.get(id(call)), ast.Await):
                start, func_end = ctx.source.start(call), ctx.source.end(call.func)
                attr_start = func_end - len(function.name)
                rewrites += [
                    Edit(start, start, f"{wrapper}("),
                    Edit(attr_start, func_end, f"{sync})"),
                ]
                if needs_parentheses(call, parents.get(id(call))):
                    return None
        if rewrites:
            imports = import_edits(ctx)
            if imports is None:
                return None
            edits += [*rewrites, *imports]
        return Fix(f"Add `def {sync}()`, translated from `{function.name}()`", tuple(sorted(set(edits))), Applicability.UNSAFE)
