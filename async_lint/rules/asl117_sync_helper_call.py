from __future__ import annotations

import ast
from dataclasses import replace

from ..fixers.sync_to_async import wrap_call
from ..functions import FunctionRef
from ..twins import twin_name
from .asl107_request_user import framework_authenticates
from .base import Invalid, Rule, Valid

SESSION_ACCESS = "ASL110"  # not I/O once an awaited call has loaded the session
REQUEST_USER = "ASL107"


class SyncHelperCall(Rule):
    """A project sync function that does something unsafe, called directly from async code.

    ## What it does
    Flags, inside an `async def`, a direct call of a sync function or method of the project
    whose body does what the other ASL1 rules flag (a query, a model save, a blocking cache or
    mail call), itself or through the project functions it calls, at any depth and in any
    module: a function of this module or an imported one, a method of the class (`self.x()`)
    or of its project bases, a method of a project model, manager or queryset called on one
    (`job.mark_cancelled()`).  The helper itself is fine; the call site is not.  The message
    names the chain of calls, down to the unsafe operation.  A model method called on an
    instance the async code fetched, and a helper given one, are judged with what that query
    loaded: `self.author` and `self.tags.all()` in the method's body (`book.author` in the
    helper's) are queries unless the query had `select_related("author")` and
    `prefetch_related("tags")`.

    Functions with decorators other than `staticmethod`/`classmethod` and generator functions
    are not followed: what calling them runs is not certain.

    ## Why is this bad?
    The helper runs on the event loop like any other code there, so its query raises
    `SynchronousOnlyOperation` (or its I/O blocks the loop), at run time, from inside the helper.

    ## Fix
    `await sync_to_async(helper)(...)`, which runs the whole helper in Django's worker thread.

    ## Fix safety
    Safe: the helper runs unchanged, in the thread Django uses for its own `a*` wrappers.
    """

    code = "ASL117"
    name = "sync-helper-call"
    node_types = (ast.Call,)
    counts_in_helpers = False

    INVALID = [
        Invalid(
            "from library.models import Book\n\ndef titles():\n    return [b.title for b in Book.objects.all()]\n\nasync def view(request):\n    return titles()\n",
            fixed="from asgiref.sync import sync_to_async\n\nfrom library.models import Book\n\ndef titles():\n    return [b.title for b in Book.objects.all()]\n\nasync def view(request):\n    return await sync_to_async(titles)()\n",
        ),
        Invalid(
            "from library.models import Book\n\nclass Report:\n    def count(self):\n        return Book.objects.count()\n\n    async def render(self):\n        return self.count() + 1\n",
            fixed="from asgiref.sync import sync_to_async\n\nfrom library.models import Book\n\nclass Report:\n    def count(self):\n        return Book.objects.count()\n\n    async def render(self):\n        return await sync_to_async(self.count)() + 1\n",
        ),
        # Two calls deep, to `request.user` (a session and a user query).
        Invalid(
            "class TagMiddleware:\n    def user_name(self, request):\n        return request.user.get_username()\n\n    def collect_tags(self, request):\n        return {'user': self.user_name(request)}\n\n    async def __acall__(self, request):\n        return self.collect_tags(request)\n",
            fixed="from asgiref.sync import sync_to_async\n\n\nclass TagMiddleware:\n    def user_name(self, request):\n        return request.user.get_username()\n\n    def collect_tags(self, request):\n        return {'user': self.user_name(request)}\n\n    async def __acall__(self, request):\n        return await sync_to_async(self.collect_tags)(request)\n",
        ),
        # A method of a project model, defined in another module.
        Invalid(
            "from library.models import Book\n\nasync def withdraw(pk):\n    book = await Book.objects.aget(pk=pk)\n    book.withdraw()\n",
            fixed="from asgiref.sync import sync_to_async\n\nfrom library.models import Book\n\nasync def withdraw(pk):\n    book = await Book.objects.aget(pk=pk)\n    await sync_to_async(book.withdraw)()\n",
        ),
        # The helper reads `book.author`, which this query did not load.
        Invalid(
            "from library.models import Book\n\ndef byline(book):\n    return f'{book.title} by {book.author.name}'\n\nasync def view(pk):\n    book = await Book.objects.aget(pk=pk)\n    return byline(book)\n",
            fixed="from asgiref.sync import sync_to_async\n\nfrom library.models import Book\n\ndef byline(book):\n    return f'{book.title} by {book.author.name}'\n\nasync def view(pk):\n    book = await Book.objects.aget(pk=pk)\n    return await sync_to_async(byline)(book)\n",
        ),
        # The method reads `self.author`, which this query did not load.
        Invalid(
            "from library.models import Book\n\nasync def byline(pk):\n    book = await Book.objects.prefetch_related('tags').aget(pk=pk)\n    return book.byline()\n",
            fixed="from asgiref.sync import sync_to_async\n\nfrom library.models import Book\n\nasync def byline(pk):\n    book = await Book.objects.prefetch_related('tags').aget(pk=pk)\n    return await sync_to_async(book.byline)()\n",
        ),
    ]
    VALID = [
        Valid("from library.models import Book\n\ndef label(book):\n    return book.title.upper()\n\nasync def view(book):\n    return label(book)\n"),
        Valid("from library.models import Book\n\ndef byline(book):\n    return f'{book.title} by {book.author.name}'\n\nasync def view(pk):\n    book = await Book.objects.select_related('author').aget(pk=pk)\n    return byline(book)\n"),
        # The query loaded both relations the method reads.
        Valid("from library.models import Book\n\nasync def byline(pk):\n    book = await Book.objects.select_related('author').prefetch_related('tags').aget(pk=pk)\n    return book.byline()\n"),
        Valid("from asgiref.sync import sync_to_async\nfrom library.models import Book\n\n@sync_to_async\ndef titles():\n    return [b.title for b in Book.objects.all()]\n\nasync def view():\n    return await titles()\n"),
        Valid("from asgiref.sync import sync_to_async\nfrom library.models import Book\n\ndef titles():\n    return [b.title for b in Book.objects.all()]\n\nasync def view():\n    return await sync_to_async(titles)()\n"),
        # Decorated helpers are not followed: the decorator may change what a call runs.
        Valid("import functools\nfrom library.models import Book\n\n@functools.lru_cache\ndef total():\n    return Book.objects.count()\n\nasync def view():\n    return total()\n"),
        # A generator function's body does not run when it is called.
        Valid("from library.models import Book\n\ndef titles():\n    yield from Book.objects.values_list('title', flat=True)\n\nasync def view():\n    return titles()\n"),
    ]

    def check(self, node, ctx):
        if ctx.functions is None:
            return
        helper = ctx.functions.resolve(node.func, ctx.file, ctx.scope)
        if helper is None or helper.is_async or _has_async_twin(helper, ctx):
            return  # a coroutine function is awaited (ASL116); a sync twin's call is ASL502's
        helper = ctx.functions.called_with(helper, node, ctx.file, ctx.scope)
        ignore = set()
        if ctx.scope.session_loaded_before(node):
            ignore.add(SESSION_ACCESS)
        if framework_authenticates(ctx):
            ignore.add(REQUEST_USER)  # as in the operation itself: the framework loaded the user
        ignore = frozenset(ignore)
        chain = ctx.functions.unsafe_chain(helper, ignore)
        if chain is None:
            return
        operation = chain.operation
        if len(operation) > 40:
            operation = operation[:37] + "..."
        callee = ctx.text(node.func)
        last = chain.steps[-1]
        where = f"line {chain.line}" if last.path == ctx.source.path else f"{last.display_path}:{chain.line}"
        notes = ()
        if len(chain.steps) > 1 or last.path != ctx.source.path:
            path = " → ".join(f"{step.name} ({step.display_path}:{step.line})" for step in chain.steps)
            notes = (f"{ctx.scope.node.name} → {path} → `{operation}`",)
        finding = ctx.report(
            self.code,
            node,
            f"`{callee}()` runs `{operation}` ({where}) on the event loop; call it with `await sync_to_async({callee})()`",
            wrap_call(ctx, node),
        )
        yield replace(finding, notes=notes) if notes else finding


def _has_async_twin(helper: FunctionRef, ctx) -> bool:
    body = helper.owner.body if helper.owner is not None else helper.file.tree.body
    names = {s.name for s in body if isinstance(s, ast.AsyncFunctionDef)}
    return any(twin_name(helper.node.name, pattern) in names for pattern in ctx.twins.patterns)
