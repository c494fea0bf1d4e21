from __future__ import annotations

import ast

from ..diagnostics import Applicability
from .asl3_shared import MODEL_SUPER_TWINS, async_twin_fix, is_stub, model_sync_overrides
from .base import MODULE, Invalid, Rule, Valid

_HEAD = "from django.db import models\nfrom django.utils import timezone\n\n\nclass Page(models.Model):\n    updated = models.DateTimeField(null=True)\n\n"


class ModelMethodExtraParameters(Rule):
    """A model's `save()`/`delete()`/`refresh_from_db()` parameters do not match what its
    async twin passes.

    ## What it does
    Flags a `save()`, `delete()` or `refresh_from_db()` override of a model, when neither the
    class nor a project ancestor defines the async twin, that either declares parameters
    Django's own signature does not have (`save(self, *args, index=True, **kwargs)`) or does not
    accept, without `**kwargs`, a keyword the twin passes (`def delete(self):`).

    ## Why is this bad?
    Django's `asave()` calls `save()` with exactly `force_insert`, `force_update`, `using` and
    `update_fields` as keywords (`adelete()`: `using`, `keep_parents`; `arefresh_from_db()`:
    `using`, `fields`, and `from_queryset` from 5.1).  So `await page.asave(index=False)` raises
    `TypeError` and async code always gets the default; a parameter without a default, or a
    signature that lacks one of those keywords, makes every `asave()` fail.  The fixes of ASL104
    (`page.save(index=False)` → `await page.asave(index=False)`) then break too.

    ## Fix
    Adds the async twin with the same signature (so it accepts what the sync method accepts): the body translated
    when every statement translates (see ASL301), else
    `return await sync_to_async(self.save)(*args, index=index, **kwargs)`.

    ## Fix safety
    As for ASL301: safe when the translation is exact, unsafe when the twin delegates (it passes
    on what its caller gave, where Django's `asave()` passes every `save()` keyword).
    """

    code = "ASL302"
    name = "model-method-extra-parameters"
    node_types = (ast.ClassDef,)
    looks_at = MODULE
    requires_text = ("def save", "def delete", "def refresh_from_db")
    counts_in_helpers = False

    INVALID = [
        Invalid(
            _HEAD + "    def save(self, *args, touch=True, **kwargs):\n        if touch:\n            self.updated = timezone.now()\n        super().save(*args, **kwargs)\n",
            fixed="from django.db import models\nfrom django.utils import timezone\nfrom asgiref.sync import sync_to_async\n\n\nclass Page(models.Model):\n    updated = models.DateTimeField(null=True)\n\n    def save(self, *args, touch=True, **kwargs):\n        if touch:\n            self.updated = timezone.now()\n        super().save(*args, **kwargs)\n\n    async def asave(self, *args, touch=True, **kwargs):\n        if touch:\n            self.updated = timezone.now()\n        await sync_to_async(super().save)(*args, **kwargs)\n",
        ),
        Invalid(
            _HEAD + "    def save(self, *args, index=True, **kwargs):\n        super().save(*args, **kwargs)\n        if index:\n            search_index.update(self)\n",
            unsafe_fixed="from django.db import models\nfrom django.utils import timezone\nfrom asgiref.sync import sync_to_async\n\n\nclass Page(models.Model):\n    updated = models.DateTimeField(null=True)\n\n    def save(self, *args, index=True, **kwargs):\n        super().save(*args, **kwargs)\n        if index:\n            search_index.update(self)\n\n    async def asave(self, *args, index=True, **kwargs):\n        return await sync_to_async(self.save)(*args, index=index, **kwargs)\n",
        ),
        Invalid(
            _HEAD + "    def delete(self, request, using=None, keep_parents=False):\n        log_deletion(request, self)\n        return super().delete(using, keep_parents)\n",
            unsafe_fixed="from django.db import models\nfrom django.utils import timezone\nfrom asgiref.sync import sync_to_async\n\n\nclass Page(models.Model):\n    updated = models.DateTimeField(null=True)\n\n    def delete(self, request, using=None, keep_parents=False):\n        log_deletion(request, self)\n        return super().delete(using, keep_parents)\n\n    async def adelete(self, request, using=None, keep_parents=False):\n        return await sync_to_async(self.delete)(request, using, keep_parents)\n",
        ),
        Invalid(
            _HEAD + "    def delete(self):\n        self.updated = None\n        super().delete()\n",
            fixed="from django.db import models\nfrom django.utils import timezone\nfrom asgiref.sync import sync_to_async\n\n\nclass Page(models.Model):\n    updated = models.DateTimeField(null=True)\n\n    def delete(self):\n        self.updated = None\n        super().delete()\n\n    async def adelete(self):\n        self.updated = None\n        await sync_to_async(super().delete)()\n",
        ),
    ]
    VALID = [
        Valid(_HEAD + "    def save(self, force_insert=False, force_update=False, using=None, update_fields=None):\n        super().save(force_insert, force_update, using, update_fields)\n"),
        Valid(
            _HEAD + "    def save(self, *args, index=True, **kwargs):\n        super().save(*args, **kwargs)\n\n    async def asave(self, *args, index=True, **kwargs):\n        await super().asave(*args, **kwargs)\n"
        ),
        Valid("from django import forms\n\n\nclass ContactForm(forms.Form):\n    def save(self, request, commit=True):\n        return request\n"),
        Valid(_HEAD + "    def save(self, *args, index=True, **kwargs):\n        super().save(*args, **kwargs)\n", target_version="4.1"),
    ]

    def check(self, node, ctx):
        if is_stub(ctx):
            return
        for override in model_sync_overrides(ctx, node):
            if (not override.extra and not override.refused) or override.inherited is not None:
                continue  # ASL301 (also when the inherited twin is a project's, not Django's)
            sync, twin = override.sync, override.twin
            required = _required(override.function) & set(override.extra)
            if override.refused:
                names = ", ".join(f"`{p}`" for p in override.refused)
                message = (
                    f"`{node.name}.{sync}()` does not accept {names}, which Django's `{twin}()` always passes: every "
                    f"`await obj.{twin}()` fails with TypeError; define `{twin}()` with the method's own parameters"
                )
            else:
                names = ", ".join(f"`{p}`" for p in override.extra)
                if required:
                    consequence = (
                        f"every `await obj.{twin}()` fails with TypeError (Django calls `{sync}()` without "
                        f"{', '.join(f'`{p}`' for p in sorted(required))})"
                    )
                else:
                    consequence = f"`await obj.{twin}({override.extra[0]}=...)` raises TypeError"
                message = (
                    f"`{node.name}.{sync}()` takes {names}, which Django's `{twin}()` cannot pass: {consequence}; "
                    f"define `{twin}()` with the same parameters"
                )
            fix = async_twin_fix(
                ctx, node, override.function, twin, MODEL_SUPER_TWINS,
                exact=Applicability.SAFE, delegated=Applicability.UNSAFE,
            )
            yield ctx.report_definition(self.code, override.function, message, fix)


def _required(function: ast.FunctionDef) -> set[str]:
    arguments = function.args
    positional = [*arguments.posonlyargs, *arguments.args]
    without_default = positional[: len(positional) - len(arguments.defaults)]
    required = {a.arg for a in without_default[1:]}
    required |= {a.arg for a, d in zip(arguments.kwonlyargs, arguments.kw_defaults) if d is None}
    return required
