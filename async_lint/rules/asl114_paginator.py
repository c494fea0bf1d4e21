from __future__ import annotations

import ast

from .. import django_api as api
from ..semantic import Manager, QuerySet
from .base import Invalid, Rule, Valid


class SyncPaginator(Rule):
    """A sync `Paginator` over a QuerySet in async code.

    ## What it does
    Flags `Paginator(queryset, per_page)` inside an `async def`.

    ## Why is this bad?
    `paginator.page(n)`, `.count` and `.num_pages` evaluate the QuerySet through the sync
    database API and raise `SynchronousOnlyOperation`.

    ## Fix
    No automatic fix, because every later use changes: on Django 6.0+ use
    `AsyncPaginator(queryset, per_page)` with `await paginator.apage(n)` and
    `await page.aget_object_list()`; before 6.0, build the page inside a sync function run with
    `sync_to_async`.
    """

    code = "ASL114"
    name = "sync-paginator"
    node_types = (ast.Call,)

    INVALID = [
        Invalid(
            "from django.core.paginator import Paginator\nfrom library.models import Book\n\nasync def page(n):\n    return Paginator(Book.objects.all(), 20).page(n)\n"
        ),
    ]
    VALID = [
        Valid("from django.core.paginator import Paginator\n\nasync def page(items: list, n):\n    return Paginator(items, 20).page(n)\n"),
    ]

    def check(self, node, ctx):
        if ctx.qualname(node.func) not in api.PAGINATOR_CLASSES or not node.args:
            return
        if not isinstance(ctx.infer(node.args[0]), (QuerySet, Manager)):
            return
        advice = (
            "use `AsyncPaginator` and `await paginator.apage(n)`"
            if ctx.target >= api.ASYNC_PAGINATOR_SINCE
            else "build the page in a sync function run with `sync_to_async` (`AsyncPaginator` needs Django 6.0)"
        )
        yield ctx.report(self.code, node, f"`Paginator` evaluates the QuerySet synchronously; {advice}")
