from __future__ import annotations

import ast

from .. import twins
from ..diagnostics import Applicability, Edit, Fix
from ..fixers.expressions import can_await_here, prefix_await, rename_attribute
from .asl5_shared import index_for
from .base import Invalid, Rule, Valid

_HELPERS = (
    "from asgiref.sync import sync_to_async\n"
    "from library.models import Profile\n\n\n"
    "def load_profile(pk):\n"
    "    return Profile.objects.select_related('author').get(pk=pk)\n\n\n"
)


class SyncTwinCall(Rule):
    """Async code calls the sync twin of a function whose async twin exists.

    ## What it does
    Flags, inside an `async def`, a direct call of a sync function or method of the same module
    (or class) that has an async twin there: `load_profile(pk)` while `aload_profile` is
    defined, `self.render()` while `arender` is.  Twins are named as for ASL501
    (`twins.patterns`).  Not flagged: the async twin itself calling its sync twin, and
    generator twins (calling a generator runs nothing; code that picks the sync iterator, as
    Django's test client does for a sync streaming response, does so on purpose).

    ## Why is this bad?
    The sync twin runs on the event loop: whatever it does there (a query, a request, a file)
    blocks every other request, or raises `SynchronousOnlyOperation`.  The async twin exists
    for exactly this caller.

    ## Fix
    `await aload_profile(pk)`.  No fix where an `await` cannot go (inside a generator
    expression).

    ## Fix safety
    Safe when the async twin delegates to the sync one (`sync_to_async(load_profile)`): the same
    code runs, off the loop.  Unsafe otherwise: the async twin is a separate implementation,
    which may differ (ASL501 says whether it does).
    """

    code = "ASL502"
    name = "sync-twin-call"
    node_types = (ast.Call,)
    requires_text = ("async def",)
    counts_in_helpers = False

    INVALID = [
        Invalid(
            _HELPERS
            + "async def aload_profile(pk):\n"
            "    return await sync_to_async(load_profile)(pk)\n\n\n"
            "async def profile_view(request, pk):\n"
            "    profile = load_profile(pk)\n"
            "    return profile.bio\n",
            fixed=_HELPERS
            + "async def aload_profile(pk):\n"
            "    return await sync_to_async(load_profile)(pk)\n\n\n"
            "async def profile_view(request, pk):\n"
            "    profile = await aload_profile(pk)\n"
            "    return profile.bio\n",
        ),
        Invalid(
            "from library.models import Book\n\n\n"
            "class Report:\n"
            "    def total(self):\n"
            "        return Book.objects.count()\n\n"
            "    async def atotal(self):\n"
            "        return await Book.objects.acount()\n\n"
            "    async def render(self):\n"
            "        return f'{self.total() + 1} books'\n",
            unsafe_fixed="from library.models import Book\n\n\n"
            "class Report:\n"
            "    def total(self):\n"
            "        return Book.objects.count()\n\n"
            "    async def atotal(self):\n"
            "        return await Book.objects.acount()\n\n"
            "    async def render(self):\n"
            "        return f'{await self.atotal() + 1} books'\n",
        ),
    ]
    VALID = [
        Valid(
            _HELPERS
            + "async def aload_profile(pk):\n"
            "    return await sync_to_async(load_profile)(pk)\n\n\n"
            "def profile_view(request, pk):\n"
            "    return load_profile(pk).bio\n"
        ),
        # A generator's sync iterator, chosen on purpose.
        Valid(
            "def rows(items):\n"
            "    yield from items\n\n\n"
            "async def arows(items):\n"
            "    for item in items:\n"
            "        yield item\n\n\n"
            "async def stream(items, is_async):\n"
            "    return arows(items) if is_async else rows(items)\n"
        ),
        # The async twin may call its sync twin; nothing without a twin is flagged.
        Valid(
            "def label(book):\n"
            "    return book.title.upper()\n\n\n"
            "async def alabel(book):\n"
            "    return label(book)\n\n\n"
            "def shout(text):\n"
            "    return text.upper()\n\n\n"
            "async def view(book):\n"
            "    return shout(book.title)\n"
        ),
    ]

    def check(self, node, ctx):
        scope = ctx.scope
        if scope is None:
            return
        func = node.func
        if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and func.value.id in ("self", "cls"):
            container = _method_owner(scope)
            name = func.attr
        elif isinstance(func, ast.Name) and not scope.binds(func.id):
            container = ctx.file.tree
            name = func.id
        else:
            return
        if container is None:
            return
        pair = next((p for p in index_for(ctx).pairs_in(container) if p.sync.name == name), None)
        if pair is None or _inside(scope, pair.async_) or twins.is_generator(pair.sync):
            return  # a generator runs nothing when called: choosing the sync iterator is deliberate
        callee = ctx.text(func)
        twin = callee[: len(callee) - len(name)] + pair.async_.name
        message = (
            f"`{callee}()` is the sync twin of `{twin}()`: on the event loop it blocks (or raises "
            f"`SynchronousOnlyOperation`); call `await {twin}()`"
        )
        yield ctx.report(self.code, node, message, _fix(ctx, node, pair))


def _method_owner(scope) -> ast.ClassDef | None:
    """The class of the method the call is in (through nested functions)."""
    while scope is not None:
        if scope.owner is not None:
            return scope.owner
        scope = scope.parent
    return None


def _inside(scope, function: ast.AST) -> bool:
    while scope is not None:
        if scope.node is function:
            return True
        scope = scope.parent
    return False


def _fix(ctx, call: ast.Call, pair: twins.TwinPair) -> Fix | None:
    if not can_await_here(ctx, call):
        return None
    if isinstance(call.func, ast.Attribute):
        rename = rename_attribute(ctx, call.func, pair.async_.name)
    else:
        rename = Edit(ctx.source.start(call.func), ctx.source.end(call.func), pair.async_.name)
    safe = twins.delegates_to_sync(pair)
    applicability = Applicability.SAFE if safe else Applicability.UNSAFE
    return Fix(f"Use `await {pair.async_.name}()`", tuple(sorted([rename, *prefix_await(ctx, call)])), applicability)
