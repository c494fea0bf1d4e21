from __future__ import annotations

import ast

from .. import django_api as api
from ..semantic import Manager, QuerySet
from .base import Invalid, Rule, Valid
from ._fix_choice import called_method, filled_before, in_duck_typing_fallback, method_fix


# On a QuerySet whose result cache is filled (a prefetched relation's `.all()`), these read the
# cache instead of querying.
CACHE_SERVED = frozenset({"count", "exists", "contains"})


class SyncQuerySetMethod(Rule):
    """A QuerySet or Manager method that runs SQL, called on the event loop.

    ## What it does
    Flags calls such as `Book.objects.get()`, `qs.count()`, `qs.exists()`, `qs.update()`,
    `qs.delete()`, `Book.objects.create()` or `qs.aggregate()` inside an `async def`, on a value
    the tool knows is a Manager or QuerySet (from the project's model index, a lazy QuerySet chain,
    or an annotation).

    ## Why is this bad?
    Django's database layer refuses to run on the event loop's thread: the call raises
    `SynchronousOnlyOperation` at run time (only on the first request that reaches it).

    ## Fix
    Since Django 4.1 every such method has an `a`-prefixed twin that runs the sync method in
    Django's worker thread: `await Book.objects.aget(pk=1)`.  For an older target version the
    call is wrapped: `await sync_to_async(Book.objects.get)(pk=1)`.

    ## Fix safety
    Safe: each twin is `sync_to_async(self.<method>)`, so QuerySet subclasses that override the
    sync method behave the same.
    """

    code = "ASL101"
    name = "sync-queryset-method"
    node_types = (ast.Call,)

    INVALID = [
        Invalid(
            "from library.models import Book\n\nasync def view(pk):\n    return Book.objects.get(pk=pk)\n",
            fixed="from library.models import Book\n\nasync def view(pk):\n    return await Book.objects.aget(pk=pk)\n",
        ),
        Invalid(
            "from library.models import Book\n\nasync def view():\n    return Book.objects.filter(published=True).count() + 1\n",
            fixed="from library.models import Book\n\nasync def view():\n    return await Book.objects.filter(published=True).acount() + 1\n",
        ),
        Invalid(
            "from library.models import Book\n\nasync def view():\n    return Book.objects.published().first().title\n",
            fixed="from library.models import Book\n\nasync def view():\n    return (await Book.objects.published().afirst()).title\n",
        ),
        Invalid(
            "from library.models import Book\n\nasync def view():\n    return Book.objects.exists()\n",
            fixed="from asgiref.sync import sync_to_async\n\nfrom library.models import Book\n\nasync def view():\n    return await sync_to_async(Book.objects.exists)()\n",
            target_version="4.0",
        ),
        Invalid(
            "from django.db.models import QuerySet\n\nasync def total(qs: QuerySet):\n    qs.update(seen=True)\n",
            fixed="from django.db.models import QuerySet\n\nasync def total(qs: QuerySet):\n    await qs.aupdate(seen=True)\n",
        ),
        Invalid(
            "from library.models import Book\n\nasync def total():\n    return getattr(Book.objects, 'count')()\n",
            fixed="from library.models import Book\n\nasync def total():\n    return await Book.objects.acount()\n",
        ),
    ]
    VALID = [
        Valid("from library.models import Book\n\nasync def view(pk):\n    return await Book.objects.aget(pk=pk)\n"),
        Valid("from library.models import Book\n\ndef view(pk):\n    return Book.objects.get(pk=pk)\n"),
        Valid("import os\n\nasync def view(request, data: dict):\n    return data.get('x'), request.GET.get('q'), os.environ.get('HOME')\n"),
        Valid("import requests\n\nasync def view(text: str):\n    return requests.get('http://x'), text.count('a')\n"),
        Valid("from asgiref.sync import sync_to_async\nfrom library.models import Book\n\nasync def view():\n    return await sync_to_async(lambda: Book.objects.count())()\n"),
        # A `getattr` that is not the builtin says nothing.
        Valid("from library.models import Book\n\ndef getattr(obj, name):\n    return lambda: 0\n\nasync def total():\n    return getattr(Book.objects, 'count')()\n"),
    ]

    def check(self, node, ctx):
        receiver, method = called_method(node) or (None, "")
        twin = api.QUERYSET_METHODS.get(method)
        if twin is None:
            return
        base = ctx.infer(receiver)
        if not isinstance(base, (Manager, QuerySet)) or (isinstance(base, QuerySet) and base.raw):
            return
        if in_duck_typing_fallback(ctx):
            return
        if method in CACHE_SERVED and (
            (isinstance(base, QuerySet) and base.from_prefetch_cache)
            or (isinstance(base, Manager) and base.prefetched)
            or filled_before(receiver, ctx)
        ):
            return  # answered from a filled result cache, no query
        if isinstance(base, Manager) and (
            method in api.QUERYSET_ONLY or (base.relation is not None and method in api.RELATED_MANAGER_METHODS)
        ):
            return  # Managers have no delete(); related managers' writers are ASL105.
        advice, fix = method_fix(ctx, node, twin)
        yield ctx.report(self.code, node, f"`.{method}()` runs a database query on the event loop; {advice}", fix)
