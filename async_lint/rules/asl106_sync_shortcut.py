from __future__ import annotations

import ast

from .. import django_api as api
from .base import Invalid, Rule, Valid
from ._fix_choice import function_fix


class SyncShortcut(Rule):
    """`get_object_or_404()`, `get_list_or_404()` or `prefetch_related_objects()` on the event loop.

    ## What it does
    Flags calls of these Django functions inside an `async def`.

    ## Why is this bad?
    They query through the sync database API and raise `SynchronousOnlyOperation`.

    ## Fix
    `await aget_object_or_404(...)`, `await aget_list_or_404(...)` and
    `await aprefetch_related_objects(...)` (Django 5.0+), imported from the same module;
    `await sync_to_async(get_object_or_404)(...)` before 5.0.

    ## Fix safety
    Safe: the twins run the same query (`aget()` instead of `get()`).
    """

    code = "ASL106"
    name = "sync-shortcut"
    node_types = (ast.Call,)

    INVALID = [
        Invalid(
            "from django.shortcuts import get_object_or_404\nfrom library.models import Book\n\nasync def detail(request, pk):\n    book = get_object_or_404(Book, pk=pk)\n    return book.title\n",
            fixed="from django.shortcuts import get_object_or_404, aget_object_or_404\nfrom library.models import Book\n\nasync def detail(request, pk):\n    book = await aget_object_or_404(Book, pk=pk)\n    return book.title\n",
            target_version="5.0",
        ),
        Invalid(
            "from django import shortcuts\nfrom library.models import Book\n\nasync def detail(request, pk):\n    return shortcuts.get_object_or_404(Book, pk=pk)\n",
            fixed="from django import shortcuts\nfrom asgiref.sync import sync_to_async\nfrom library.models import Book\n\nasync def detail(request, pk):\n    return await sync_to_async(shortcuts.get_object_or_404)(Book, pk=pk)\n",
            target_version="4.2",
        ),
    ]
    VALID = [
        Valid("from django.shortcuts import aget_object_or_404\nfrom library.models import Book\n\nasync def detail(request, pk):\n    return await aget_object_or_404(Book, pk=pk)\n"),
        Valid("def get_object_or_404(x):\n    return x\n\nasync def detail(pk):\n    return get_object_or_404(pk)\n"),
    ]

    def check(self, node, ctx):
        if not isinstance(node, ast.Call):
            return
        qualname = ctx.qualname(node.func)
        twin = api.SHORTCUT_FUNCTIONS.get(qualname or "")
        if twin is None:
            return
        module = qualname.rpartition(".")[0]
        advice, fix = function_fix(ctx, node, module, twin)
        yield ctx.report(self.code, node, f"`{twin.sync}()` runs a database query on the event loop; {advice}", fix)
