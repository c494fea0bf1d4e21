from __future__ import annotations

import ast

from ..diagnostics import Applicability, Fix
from ..fixers.eager_loading import read_in_thread
from ..fixers.expressions import can_await_here, replace_expression
from ..fixers.sync_to_async import wrap_call
from ..semantic import QuerySet
from .base import Invalid, Rule, Valid
from ._serializers import serializer_of

_SERIALIZE = "django.core.serializers.serialize"
_DRF = (
    "from rest_framework import serializers\nfrom library.models import Book\n\n\n"
    "class BookSerializer(serializers.ModelSerializer):\n    class Meta:\n        model = Book\n        fields = ['id', 'title', 'author']\n\n\n"
)


class SyncSerialization(Rule):
    """Serialization that queries, run on the event loop: `serializers.serialize("json", qs)`,
    a REST framework serializer's `is_valid()`, `save()` or `.data`.

    ## What it does
    Flags, inside an `async def`:
    - `django.core.serializers.serialize(format, queryset)` with a QuerySet (it iterates it);
    - on a Django REST framework serializer built there (`BookSerializer(...)`, or a viewset's
      `self.get_serializer(...)` through its `serializer_class`): `is_valid()` when a relation
      field looks the submitted value up (a writable relation in a ModelSerializer's
      `Meta.fields`, a declared `PrimaryKeyRelatedField` or `SlugRelatedField`); `save()` of a
      ModelSerializer whose own `save`/`create`/`update` are not `async def`; `.data` of a
      serializer given a QuerySet.

    ## Why is this bad?
    Each runs sync queries (`SynchronousOnlyOperation` on the event loop): the rows of the
    QuerySet, the related row the submitted key names, the INSERT or UPDATE.

    ## Fix
    `await sync_to_async(serializers.serialize)("json", qs)`,
    `await sync_to_async(serializer.is_valid)(raise_exception=True)`.  For adrf serializers
    (`adrf.serializers.ModelSerializer`), `await serializer.asave()` and
    `await serializer.adata`; otherwise `await sync_to_async(serializer.save)()` and
    `await sync_to_async(getattr)(serializer, "data")`.

    ## Fix safety
    Running the same call in a thread is safe.  adrf's `asave()` and `adata` are unsafe
    fixes: they run adrf's own `acreate()`/`aupdate()` and `ato_representation()`, not a
    `create()` or `to_representation()` the serializer overrides (then the thread is used).
    Reading `.data` in a thread is unsafe only in form (see ASL201's fix).
    """

    code = "ASL122"
    name = "sync-serialization"
    node_types = (ast.Call, ast.Attribute)
    requires_text = ("serializ",)

    INVALID = [
        Invalid(
            "from django.core import serializers\nfrom library.models import Book\n\n\n"
            "async def dump(request):\n    return serializers.serialize('json', Book.objects.all())\n",
            fixed="from django.core import serializers\nfrom asgiref.sync import sync_to_async\nfrom library.models import Book\n\n\n"
            "async def dump(request):\n    return await sync_to_async(serializers.serialize)('json', Book.objects.all())\n",
        ),
        Invalid(
            _DRF + "async def create(request):\n    serializer = BookSerializer(data=request.data)\n"
            "    serializer.is_valid(raise_exception=True)\n    serializer.save()\n    return serializer.data\n",
            fixed=_DRF.replace("from library.models import Book\n", "from asgiref.sync import sync_to_async\nfrom library.models import Book\n")
            + "async def create(request):\n    serializer = BookSerializer(data=request.data)\n"
            "    await sync_to_async(serializer.is_valid)(raise_exception=True)\n    await sync_to_async(serializer.save)()\n    return serializer.data\n",
            count=2,
        ),
        Invalid(
            _DRF + "from adrf.viewsets import ModelViewSet\n\n\nclass Books(ModelViewSet):\n    serializer_class = BookSerializer\n\n"
            "    async def create(self, request):\n        serializer = self.get_serializer(data=request.data)\n        return serializer.is_valid()\n",
            fixed=_DRF.replace("from library.models import Book\n", "from asgiref.sync import sync_to_async\nfrom library.models import Book\n")
            + "from adrf.viewsets import ModelViewSet\n\n\nclass Books(ModelViewSet):\n    serializer_class = BookSerializer\n\n"
            "    async def create(self, request):\n        serializer = self.get_serializer(data=request.data)\n        return await sync_to_async(serializer.is_valid)()\n",
        ),
        Invalid(
            _DRF + "async def books(request):\n    return BookSerializer(Book.objects.all(), many=True).data\n",
            unsafe_fixed=_DRF.replace("from library.models import Book\n", "from asgiref.sync import sync_to_async\nfrom library.models import Book\n")
            + "async def books(request):\n    return await sync_to_async(getattr)(BookSerializer(Book.objects.all(), many=True), \"data\")\n",
        ),
    ]
    VALID = [
        Valid(
            "from django.core import serializers\nfrom library.models import Book\n\n\n"
            "async def dump(request):\n    books = [b async for b in Book.objects.all()]\n    return serializers.serialize('json', books)\n"
        ),
        # Written by its own async create(): not DRF's sync path.
        Valid(
            _DRF.replace("        fields = ['id', 'title', 'author']\n", "        fields = ['id', 'title']\n\n    async def create(self, validated_data):\n        return await Book.objects.acreate(**validated_data)\n")
            + "async def create(request):\n    serializer = BookSerializer(data=request.data)\n    serializer.is_valid(raise_exception=True)\n    return await serializer.save()\n"
        ),
        # The viewset chooses between a serializer that looks a relation up and one that does not.
        Valid(
            _DRF + "class TitleSerializer(serializers.Serializer):\n    title = serializers.CharField()\n\n\n"
            "from adrf.viewsets import ModelViewSet\n\n\nclass Books(ModelViewSet):\n    def get_serializer_class(self):\n"
            "        if self.action == 'rename':\n            return TitleSerializer\n        return BookSerializer\n\n"
            "    async def create(self, request):\n        serializer = self.get_serializer(data=request.data)\n        return serializer.is_valid()\n"
        ),
        # No relation to look up.
        Valid(
            _DRF.replace("'author'", "'pages'") + "async def check(request):\n    serializer = BookSerializer(data=request.data)\n    return serializer.is_valid()\n"
        ),
    ]

    def check(self, node, ctx):
        if isinstance(node, ast.Attribute):
            yield from self._data(node, ctx)
            return
        called = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", None)
        if called == "serialize" and ctx.file.qualname_of(node.func) == _SERIALIZE:
            if len(node.args) > 1 and isinstance(ctx.infer(node.args[1]), QuerySet):
                yield ctx.report(
                    self.code,
                    node,
                    f"`{ctx.text(node.func)}()` iterates the QuerySet with the sync ORM on the event loop; "
                    f"call it with `await sync_to_async({ctx.text(node.func)})(…)`",
                    wrap_call(ctx, node, Applicability.SAFE),
                )
            return
        if not isinstance(node.func, ast.Attribute) or node.func.attr not in ("is_valid", "save"):
            return
        found = serializer_of(node.func.value, ctx)
        if found is None:
            return
        facts, _ = found
        callee = ctx.text(node.func)
        if node.func.attr == "is_valid":
            if facts.validation_query is None:
                return
            yield ctx.report(
                self.code, node, f"`{callee}()` runs a query on the event loop: {facts.validation_query}",
                wrap_call(ctx, node, Applicability.SAFE),
            )
        elif facts.model_serializer and not facts.async_save:
            yield ctx.report(
                self.code, node, f"`{callee}()` writes with the sync ORM on the event loop",
                self._adrf_save(ctx, node, facts) or wrap_call(ctx, node, Applicability.SAFE),
            )

    def _data(self, node: ast.Attribute, ctx):
        if node.attr != "data" or not isinstance(node.ctx, ast.Load):
            return
        found = serializer_of(node.value, ctx)
        if found is None:
            return
        facts, built = found
        instance = built.args[0] if built.args else next((k.value for k in built.keywords if k.arg == "instance"), None)
        if instance is None or not isinstance(ctx.infer(instance), QuerySet):
            return
        yield ctx.report(
            self.code, node, "`.data` evaluates the serializer's QuerySet with the sync ORM on the event loop",
            self._adrf_data(ctx, node, facts) or read_in_thread(ctx, node),
        )

    @staticmethod
    def _adrf_save(ctx, node: ast.Call, facts) -> Fix | None:
        if not facts.adrf or not can_await_here(ctx, node) or facts.methods & {"save", "create", "update"}:
            return None
        text = f"await {ctx.text(node.func.value)}.asave({', '.join(ctx.text(a) for a in node.args)})"
        if node.keywords:
            return None
        return Fix("Use adrf's `await ….asave()`", (replace_expression(ctx, node, text, awaits=True),), Applicability.UNSAFE)

    @staticmethod
    def _adrf_data(ctx, node: ast.Attribute, facts) -> Fix | None:
        if not facts.adrf or not can_await_here(ctx, node) or "to_representation" in facts.methods:
            return None
        text = f"await {ctx.text(node.value)}.adata"
        return Fix("Use adrf's `await ….adata`", (replace_expression(ctx, node, text, awaits=True),), Applicability.UNSAFE)

