from __future__ import annotations

import ast

from ..diagnostics import Edit, Fix
from ..fixers.eager_loading import in_function
from ..semantic import FETCHED, RELATED, Instance
from .base import Invalid, Rule, Valid


class DeferredFieldAccess(Rule):
    """A field left out by `only()` / `defer()`, read on the event loop.

    ## What it does
    Flags reads of a model field that the query fetching the instance deferred: not named in
    its `only(...)`, or named in its `defer(...)`.

    ## Why is this bad?
    Django loads a deferred field on first access with a sync query (`refresh_from_db`), which
    raises `SynchronousOnlyOperation` on the event loop.

    ## Fix
    Add the field to the query's `only(...)` (safe).  For `defer(...)`, remove it from the call
    by hand.
    """

    code = "ASL202"
    name = "deferred-field-access"
    node_types = (ast.Attribute,)

    INVALID = [
        Invalid(
            "from library.models import Book\n\nasync def summary(pk):\n    book = await Book.objects.only('title').aget(pk=pk)\n    return book.title, book.pages\n",
            fixed="from library.models import Book\n\nasync def summary(pk):\n    book = await Book.objects.only('title', 'pages').aget(pk=pk)\n    return book.title, book.pages\n",
        ),
        Invalid("from library.models import Book\n\nasync def summary(pk):\n    book = await Book.objects.defer('pages').aget(pk=pk)\n    return book.pages\n"),
    ]
    VALID = [
        Valid("from library.models import Book\n\nasync def summary(pk):\n    book = await Book.objects.only('title').aget(pk=pk)\n    return book.title, book.pk, book.id\n"),
    ]

    def check(self, node, ctx):
        if not isinstance(node.ctx, ast.Load):
            return
        instance = ctx.infer(node.value)
        if not isinstance(instance, Instance) or instance.origin not in (FETCHED, RELATED) or instance.model is None:
            return
        if node.attr in instance.model.relations or node.attr not in instance.model.field_names:
            return
        if not instance.loading.defers(node.attr):
            return
        fix = None
        only = instance.loading.only_call
        if node.attr not in instance.loading.deferred and only is not None and only.args and in_function(ctx, only):
            last = ctx.text(only.args[-1])
            quote = "'" if last.endswith("'") else '"'
            end = ctx.source.end(only.args[-1])
            fix = Fix(f"Add {quote}{node.attr}{quote} to `only()`", (Edit(end, end, f", {quote}{node.attr}{quote}"),))
        yield ctx.report(
            self.code,
            node,
            f"`{ctx.text(node)}` was deferred by the query and loads with a sync query on the event loop; "
            "load it with the query",
            fix,
        )
