from __future__ import annotations

import ast

from ..diagnostics import Applicability
from .asl3_shared import MODEL_SUPER_TWINS, async_twin_fix, is_stub, model_sync_overrides
from .base import MODULE, Invalid, Rule, Valid

_MODEL = "from django.db import models\n\n\nclass Article(models.Model):\n    title = models.CharField(max_length=100)\n    slug = models.SlugField()\n\n"

_BASE = (
    "from asgiref.sync import sync_to_async\nfrom django.db import models\nfrom django.utils.text import slugify\n\n\n"
    "class Base(models.Model):\n    title = models.CharField(max_length=100)\n    slug = models.SlugField()\n\n"
    "    class Meta:\n        abstract = True\n\n"
    "    def save(self, *args, **kwargs):\n        self.slug = slugify(self.title)\n        super().save(*args, **kwargs)\n"
)
_CHILD = "\n\nclass Child(Base):\n    def save(self, *args, **kwargs):\n        self.notify_followers()\n        super().save(*args, **kwargs)\n"
_LEFT = (
    "from asgiref.sync import sync_to_async\nfrom django.db import models\nfrom django.utils.text import slugify\n\n\n"
    "class Left(models.Model):\n    class Meta:\n        abstract = True\n\n"
    "    def save(self, *args, **kwargs):\n        self.notify_followers()\n        super().save(*args, **kwargs)\n"
)
_RIGHT = "\n\n" + _BASE.split("\n\n\n", 1)[1].replace("Base", "Right")
_BOTH = "\n\nclass Both(Left, Right):\n    pass\n"
_DELEGATE = "\n    async def asave(self, *args, **kwargs):\n        return await sync_to_async(self.save)(*args, **kwargs)\n"


class ModelMethodWithoutAsyncTwin(Rule):
    """A model overrides `save()`, `delete()` or `refresh_from_db()` but not its async twin.

    ## What it does
    Flags, in a model class (as the project's model index knows it), a `save()`, `delete()` or
    `refresh_from_db()` method when neither the class nor a project ancestor defines `asave()`,
    `adelete()` or `arefresh_from_db()`, or when the twin it inherits from an ancestor in the
    same file neither calls `self.save()` nor `super().asave()` (then `await obj.asave()` skips
    the override today).  Off by default: select it by its code.  (An override whose parameters
    do not match what Django's async twin passes is ASL302.)

    ## Why is this bad?
    Nothing breaks today: Django's `asave()` (4.2+) is `sync_to_async(self.save)(...)`, so the
    override runs, in a worker thread.  But every `await obj.asave()` pays a thread hop for the
    whole override, and the override is only reached through that delegation: Django
    contributors working on a native async `asave()` note that it would stop calling overridden
    `save()` methods.  Defining the twin keeps the override on both paths.

    ## Fix
    Adds the async twin after the method.  When every statement of the body translates, the
    twin is the body made async: ORM calls become their `a`-twins (the ASL1 rewrites, for the
    target version), and `super().save(...)` becomes `await sync_to_async(super().save)(...)`,
    not `await super().asave(...)`: Django's `asave()` calls `self.save()`, which would run the
    override a second time.  Otherwise the twin delegates:
    `return await sync_to_async(self.save)(*args, **kwargs)`, with the method's own signature.
    It also delegates when a project subclass would inherit the twin while it, or another of
    its bases (a mixin), overrides `save()` without `asave()`: a copy of this body would skip
    that override.

    ## Fix safety
    The translated twin is safe when it is exact: every call in it is awaited, builds a lazy
    QuerySet, or is a known pure function, and it reads no relation of `self` that could load
    lazily; the body then does the same work, on the loop instead of in a thread.  The
    delegating twin is unsafe: Django's `asave()` passes `force_insert`, `force_update`, `using`
    and `update_fields` to `save()` explicitly, the generated one passes what its caller gave, so
    an override that reads `kwargs["using"]` sees a difference.
    """

    code = "ASL301"
    name = "model-method-without-async-twin"
    node_types = (ast.ClassDef,)
    looks_at = MODULE
    requires_text = ("def save", "def delete", "def refresh_from_db")
    counts_in_helpers = False
    default_enabled = False

    INVALID = [
        Invalid(
            "from django.db import models\nfrom django.utils.text import slugify\n\n\nclass Article(models.Model):\n    title = models.CharField(max_length=100)\n    slug = models.SlugField()\n\n    def save(self, *args, **kwargs):\n        self.slug = slugify(self.title)\n        super().save(*args, **kwargs)\n",
            fixed="from django.db import models\nfrom django.utils.text import slugify\nfrom asgiref.sync import sync_to_async\n\n\nclass Article(models.Model):\n    title = models.CharField(max_length=100)\n    slug = models.SlugField()\n\n    def save(self, *args, **kwargs):\n        self.slug = slugify(self.title)\n        super().save(*args, **kwargs)\n\n    async def asave(self, *args, **kwargs):\n        self.slug = slugify(self.title)\n        await sync_to_async(super().save)(*args, **kwargs)\n",
        ),
        Invalid(
            "from django.db import models\nfrom library.models import Book\n\n\nclass Shelf(models.Model):\n    name = models.CharField(max_length=100)\n\n    def delete(self, using=None, keep_parents=False):\n        Book.objects.filter(title=self.name).update(published=False)\n        return super().delete(using=using, keep_parents=keep_parents)\n",
            fixed="from django.db import models\nfrom asgiref.sync import sync_to_async\nfrom library.models import Book\n\n\nclass Shelf(models.Model):\n    name = models.CharField(max_length=100)\n\n    def delete(self, using=None, keep_parents=False):\n        Book.objects.filter(title=self.name).update(published=False)\n        return super().delete(using=using, keep_parents=keep_parents)\n\n    async def adelete(self, using=None, keep_parents=False):\n        await Book.objects.filter(title=self.name).aupdate(published=False)\n        return await sync_to_async(super().delete)(using=using, keep_parents=keep_parents)\n",
        ),
        Invalid(
            _MODEL + "    def save(self, *args, **kwargs):\n        self.notify_followers()\n        super().save(*args, **kwargs)\n",
            unsafe_fixed="from django.db import models\nfrom asgiref.sync import sync_to_async\n\n\nclass Article(models.Model):\n    title = models.CharField(max_length=100)\n    slug = models.SlugField()\n\n    def save(self, *args, **kwargs):\n        self.notify_followers()\n        super().save(*args, **kwargs)\n\n    async def asave(self, *args, **kwargs):\n        return await sync_to_async(self.save)(*args, **kwargs)\n",
        ),
        # `delete.alters_data = True` stays with delete(); the twin is marked the same way.
        Invalid(
            "from django.db import models\nfrom library.models import Book\n\n\nclass Shelf(models.Model):\n    name = models.CharField(max_length=100)\n\n    def delete(self, using=None, *args, **kwargs):\n        Book.objects.filter(title=self.name).update(published=False)\n        return super().delete(using, *args, **kwargs)\n    delete.alters_data = True\n\n    def label(self):\n        return self.name\n",
            fixed="from django.db import models\nfrom asgiref.sync import sync_to_async\nfrom library.models import Book\n\n\nclass Shelf(models.Model):\n    name = models.CharField(max_length=100)\n\n    def delete(self, using=None, *args, **kwargs):\n        Book.objects.filter(title=self.name).update(published=False)\n        return super().delete(using, *args, **kwargs)\n    delete.alters_data = True\n\n    async def adelete(self, using=None, *args, **kwargs):\n        await Book.objects.filter(title=self.name).aupdate(published=False)\n        return await sync_to_async(super().delete)(using, *args, **kwargs)\n    adelete.alters_data = True\n\n    def label(self):\n        return self.name\n",
        ),
        # A subclass overrides save() and would inherit the twin: a translated twin would skip
        # Child.save(), so Base's twin delegates (unsafe) like Django's own.
        Invalid(
            _BASE + _CHILD,
            count=2,
            unsafe_fixed=_BASE + _DELEGATE + _CHILD + _DELEGATE,
        ),
        # The same through a mixin: Both gets asave() from Right, and a copy of Right.save()
        # would skip Left.save().
        Invalid(
            _LEFT + _RIGHT + _BOTH,
            count=2,
            unsafe_fixed=_LEFT + _DELEGATE + _RIGHT + _DELEGATE + _BOTH,
        ),
        # An ancestor's twin that neither calls self.save() nor super().asave() skips the override.
        Invalid(
            _BASE + "\n    async def asave(self, *args, **kwargs):\n        self.slug = slugify(self.title)\n        await sync_to_async(super().save)(*args, **kwargs)\n" + _CHILD,
            unsafe_fixed=_BASE + "\n    async def asave(self, *args, **kwargs):\n        self.slug = slugify(self.title)\n        await sync_to_async(super().save)(*args, **kwargs)\n" + _CHILD + _DELEGATE,
        ),
    ]
    VALID = [
        Valid(
            _MODEL + "    def save(self, *args, **kwargs):\n        super().save(*args, **kwargs)\n\n    async def asave(self, *args, **kwargs):\n        await super().asave(*args, **kwargs)\n"
        ),
        Valid(
            "from django import forms\nfrom library.models import Book\n\n\nclass BookForm(forms.ModelForm):\n    class Meta:\n        model = Book\n        fields = ['title']\n\n    def save(self, commit=True):\n        return super().save(commit=commit)\n"
        ),
        Valid(
            "from rest_framework import serializers\n\n\nclass BookSerializer(serializers.Serializer):\n    def save(self, **kwargs):\n        return super().save(**kwargs)\n"
        ),
        Valid("class Storage:\n    def save(self, name, content):\n        return name\n\n    def delete(self, name):\n        pass\n"),
        Valid(_MODEL + "    def save(self, *args, **kwargs):\n        super().save(*args, **kwargs)\n", target_version="4.1"),
    ]

    def check(self, node, ctx):
        if is_stub(ctx):
            return
        for override in model_sync_overrides(ctx, node):
            if (override.extra or override.refused) and override.inherited is None:
                continue  # ASL302
            fix = async_twin_fix(
                ctx, node, override.function, override.twin, MODEL_SUPER_TWINS,
                exact=Applicability.SAFE, delegated=Applicability.UNSAFE,
            )
            sync, twin = override.sync, override.twin
            if override.inherited is not None:
                ancestor = override.inherited.rpartition(".")[2]
                why = (
                    f"the inherited `{ancestor}.{twin}()` does not call `self.{sync}()`, so `await obj.{twin}()` "
                    f"skips this override"
                )
            else:
                why = (
                    f"Django's `{twin}()` runs this override in a thread, and a native `{twin}()` would skip it"
                )
            yield ctx.report_definition(
                self.code,
                override.function,
                f"`{node.name}` overrides `{sync}()` but not `{twin}()`: {why}; define `{twin}()` beside it",
                fix,
            )
