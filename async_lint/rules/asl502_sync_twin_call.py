from __future__ import annotations

import ast
from dataclasses import dataclass

from .. import twins
from ..diagnostics import Applicability, Edit, Fix
from ..fixers.expressions import can_await_here, prefix_await, rename_attribute
from ..fixers.imports import ensure_import
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
    Flags, inside an `async def`, a direct call of a sync function that has an async twin: a
    function or method of the same module (or class), `load_profile(pk)` while `aload_profile`
    is defined, `self.render()` while `arender` is, or a function imported from another module
    of the project that defines its twin there (`from shop.services import publish` while
    `shop/services.py` defines `apublish`).  Twins are named as for ASL501 (`twins.patterns`).
    Not flagged: the async twin itself calling its sync twin; generator twins (calling a
    generator runs nothing; code that picks the sync iterator, as Django's test client does for
    a sync streaming response, does so on purpose); tests, and a function that calls both twins
    (a parity check).

    ## Why is this bad?
    The sync twin runs on the event loop: whatever it does there (a query, a request, a file)
    blocks every other request, or raises `SynchronousOnlyOperation`.  The async twin exists
    for exactly this caller.

    ## Fix
    `await aload_profile(pk)` (importing `aload_profile` beside `load_profile` for an imported
    function).  No fix where an `await` cannot go (inside a generator expression).

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
        Invalid(
            "from library.services import publish\n\n\n"
            "async def publish_view(request, book):\n"
            "    publish(book)\n",
            unsafe_fixed="from library.services import publish, apublish\n\n\n"
            "async def publish_view(request, book):\n"
            "    await apublish(book)\n",
        ),
        Invalid(
            "from library import services\n\n\n"
            "async def stats(request, author):\n"
            "    return {'published': services.count_published(author)}\n",
            fixed="from library import services\n\n\n"
            "async def stats(request, author):\n"
            "    return {'published': await services.acount_published(author)}\n",
        ),
    ]
    VALID = [
        # A parity test calls both twins on purpose.
        Valid(
            "from library.services import acount_published, count_published\n\n\n"
            "async def check_counts(author):\n"
            "    assert count_published(author) == await acount_published(author)\n"
        ),
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
        twin = _twin_of(ctx, node.func, scope)
        if twin is None or _inside(scope, twin.async_function) or _calls_both(scope, twin):
            return
        if twins.pairs.is_test_path(ctx.source.path) or _in_test(scope):
            return  # a test exercises both paths on purpose
        callee = ctx.text(node.func)
        async_callee = callee[: len(callee) - len(twin.sync_name)] + twin.async_name
        message = (
            f"`{callee}()` is the sync twin of `{async_callee}()`: on the event loop it blocks (or raises "
            f"`SynchronousOnlyOperation`); call `await {async_callee}()`"
        )
        yield ctx.report(self.code, node, message, _fix(ctx, node, twin))


@dataclass
class _Twin:
    sync_name: str
    async_name: str
    delegates: bool  # the async twin runs the sync one (`sync_to_async(f)`)
    async_function: ast.AST | None = None  # defined in this file
    module: str | None = None  # imported from this module


def _twin_of(ctx, func: ast.expr, scope) -> _Twin | None:
    """The async twin of the function a call calls: of this class or module, or of the
    module an imported function comes from."""
    index = index_for(ctx)
    if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and func.value.id in ("self", "cls"):
        container, name = _method_owner(scope), func.attr
    elif isinstance(func, ast.Name) and not scope.binds(func.id) and func.id not in ctx.file.imports:
        container, name = ctx.file.tree, func.id
    else:
        return _imported_twin(ctx, func, scope)
    if container is None:
        return None
    pair = next((p for p in index.pairs_in(container) if p.sync.name == name), None)
    if pair is None or twins.is_generator(pair.sync):
        return None  # a generator runs nothing when called: choosing the sync iterator is deliberate
    return _Twin(pair.sync.name, pair.async_.name, twins.delegates_to_sync(pair), pair.async_)


def _imported_twin(ctx, func: ast.expr, scope) -> _Twin | None:
    qualname = ctx.qualname(func)
    if qualname is None or "." not in qualname:
        return None
    module, _, name = qualname.rpartition(".")
    found = ctx.file.index.module_twins.get(module, {}).get(name)
    if found is None:
        return None
    async_name, delegates = found
    return _Twin(name, async_name, delegates, module=module)


def _method_owner(scope) -> ast.ClassDef | None:
    """The class of the method the call is in (through nested functions)."""
    while scope is not None:
        if scope.owner is not None:
            return scope.owner
        scope = scope.parent
    return None


def _inside(scope, function: ast.AST | None) -> bool:
    while scope is not None:
        if function is not None and scope.node is function:
            return True
        scope = scope.parent
    return False


def _outermost(scope):
    while scope.parent is not None:
        scope = scope.parent
    return scope


def _calls_both(scope, twin: _Twin) -> bool:
    """The calling function also calls the async twin: it compares the two on purpose."""
    function = _outermost(scope).node
    for node in ast.walk(function):
        if isinstance(node, ast.Call):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
            if name == twin.async_name:
                return True
    return False


def _in_test(scope) -> bool:
    function = _outermost(scope).node
    owner = _method_owner(scope)
    return getattr(function, "name", "").startswith("test") or (owner is not None and twins.pairs.is_test_class(owner))


def _fix(ctx, call: ast.Call, twin: _Twin) -> Fix | None:
    if not can_await_here(ctx, call):
        return None
    if isinstance(call.func, ast.Attribute):
        edits = [rename_attribute(ctx, call.func, twin.async_name)]
    else:
        edits = [Edit(ctx.source.start(call.func), ctx.source.end(call.func), twin.async_name)]
        if twin.module is not None:
            imports = ensure_import(ctx, twin.module, twin.async_name)
            if imports is None:
                return None
            edits.extend(imports)
    applicability = Applicability.SAFE if twin.delegates else Applicability.UNSAFE
    return Fix(f"Use `await {twin.async_name}()`", tuple(sorted([*edits, *prefix_await(ctx, call)])), applicability)
