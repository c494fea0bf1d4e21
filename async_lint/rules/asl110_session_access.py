from __future__ import annotations

import ast

from .. import django_api as api
from ..diagnostics import Applicability, Edit, Fix
from ..fixers.expressions import (
    argument,
    can_await_here,
    membership_applicability,
    membership_edit,
    operand,
    order_free,
    replace_expression,
)
from ..semantic import Session
from .base import Invalid, Rule, Valid
from ._fix_choice import called_method, method_fix


# SessionStore persistence: a read or write of the store itself, whatever is loaded.
_STORE_METHODS = frozenset({"save", "delete", "exists", "create", "load", "flush", "cycle_key"})


class SyncSessionAccess(Rule):
    """`request.session` read or written with the sync API on the event loop.

    ## What it does
    Flags, inside an `async def`, `request.session[key]`, `request.session[key] = value`,
    `del request.session[key]`, `key in request.session`, and the sync session methods
    (`get`, `pop`, `setdefault`, `update`, `keys`, `items`, `flush`, `cycle_key`,
    `set_expiry`, …) and the store's persistence methods (`save`, `delete`, `exists`,
    `create`, `load`).  In a Django Channels consumer, `self.scope["session"]` (and
    `scope["session"]` in an ASGI application) is the same kind of session, which channels'
    SessionMiddleware leaves unloaded.  Once the function has awaited a session coroutine
    (`await session.aload()`, `await request.auser()`), the session is in memory and later
    reads are not flagged.

    ## Why is this bad?
    The first access loads the session from its backend: a database query (raising
    `SynchronousOnlyOperation`) or a blocking cache or file read.

    ## Fix
    Django 5.1 added async session methods: `await request.session.aget(key)`,
    `await request.session.aset(key, value)`, `await request.session.ahas_key(key)`,
    `await request.session.apop(key)`, and an `a` twin for every method.  Before 5.1 the
    methods are wrapped in `sync_to_async`; subscripts get no fix.

    ## Fix safety
    Method twins and `aset`/`ahas_key` are safe.  `session[key]` → `aget(key)` returns None
    instead of raising `KeyError`, and `del session[key]` → `apop(key)` leaves `modified` unset
    when the key was missing: both unsafe.  `session[key] = value` evaluates the value before
    the key, `aset(key, value)` the key first (and `key in session` the key before the session):
    unsafe unless one of them is a literal or a variable, or neither calls anything.
    """

    code = "ASL110"
    name = "sync-session-access"
    node_types = (ast.Call, ast.Subscript, ast.Assign, ast.Delete, ast.Compare)

    INVALID = [
        Invalid(
            "async def view(request):\n    visits = request.session.get('visits', 0)\n    request.session['visits'] = visits + 1\n",
            fixed="async def view(request):\n    visits = await request.session.aget('visits', 0)\n    await request.session.aset('visits', visits + 1)\n",
            target_version="5.1",
            count=2,
        ),
        Invalid(
            "async def view(request):\n    return request.session['cart']\n",
            unsafe_fixed="async def view(request):\n    return await request.session.aget('cart')\n",
            target_version="5.1",
        ),
        Invalid(
            "async def view(request):\n    return 'cart' in request.session\n",
            fixed="async def view(request):\n    return await request.session.ahas_key('cart')\n",
            target_version="5.1",
        ),
        Invalid(
            "from channels.generic.websocket import AsyncWebsocketConsumer\n\nclass Chat(AsyncWebsocketConsumer):\n    async def connect(self):\n        self.scope['session']['seen'] = True\n        self.scope['session'].save()\n",
            fixed="from channels.generic.websocket import AsyncWebsocketConsumer\n\nclass Chat(AsyncWebsocketConsumer):\n    async def connect(self):\n        await self.scope['session'].aset('seen', True)\n        await self.scope['session'].asave()\n",
            target_version="5.1",
            count=2,
        ),
    ]
    VALID = [
        Valid("async def view(request):\n    return await request.session.aget('cart')\n", target_version="5.1"),
        Valid("async def view(request, data: dict):\n    data['x'] = 1\n    return data.get('x'), request.GET.get('q')\n"),
        Valid("async def view(request):\n    user = await request.auser()\n    return user, request.session.get('cart')\n"),
        Valid("from channels.generic.websocket import AsyncWebsocketConsumer\n\nclass Chat(AsyncWebsocketConsumer):\n    async def connect(self):\n        await self.scope['session'].aload()\n        return self.scope['session']['room']\n"),
        # Channels' AuthMiddleware fetched the user before the consumer runs.
        Valid("from channels.generic.websocket import AsyncWebsocketConsumer\n\nclass Chat(AsyncWebsocketConsumer):\n    async def connect(self):\n        return self.scope['user'].is_authenticated\n"),
    ]

    def check(self, node, ctx):
        method = (called_method(node) or (None, ""))[1] if isinstance(node, ast.Call) else ""
        for diagnostic in self._accesses(node, ctx):
            # After an awaited auser()/session call the session is in memory: reading it is not
            # I/O (the store's own methods still are).
            if method in _STORE_METHODS or not ctx.scope.session_loaded_before(node):
                yield diagnostic

    def _accesses(self, node, ctx):
        if isinstance(node, ast.Call):
            receiver, method = called_method(node) or (None, "")
            twin = api.SESSION_METHODS.get(method)
            if twin is not None and isinstance(ctx.infer(receiver), Session):
                advice, fix = method_fix(ctx, node, twin)
                what = "uses the session store" if method in _STORE_METHODS else "loads the session"
                yield ctx.report(self.code, node, f"`session.{method}()` {what} on the event loop; {advice}", fix)
        elif isinstance(node, ast.Subscript) and isinstance(node.ctx, ast.Load) and self._is_session(node.value, ctx):
            fix = self._twin_fix(ctx, node, f"await {operand(ctx, node.value)}.aget({argument(ctx, node.slice)})", Applicability.UNSAFE)
            yield ctx.report(self.code, node, f"Reading `session[key]` loads the session on the event loop; {self._advice(ctx, 'aget(key)')}", fix)
        elif isinstance(node, ast.Assign) and len(node.targets) == 1 and self._is_session_item(node.targets[0], ctx):
            target = node.targets[0]
            text = f"await {operand(ctx, target.value)}.aset({argument(ctx, target.slice)}, {argument(ctx, node.value)})"
            # `session[key] = value` evaluates the value first, `aset(key, value)` the key.
            applicability = Applicability.SAFE if order_free(target.slice, node.value) else Applicability.UNSAFE
            fix = self._twin_fix(ctx, node, text, applicability, statement=True)
            yield ctx.report(self.code, target, f"Writing `session[key]` loads the session on the event loop; {self._advice(ctx, 'aset(key, value)')}", fix)
        elif isinstance(node, ast.Delete) and len(node.targets) == 1 and self._is_session_item(node.targets[0], ctx):
            target = node.targets[0]
            text = f"await {operand(ctx, target.value)}.apop({argument(ctx, target.slice)})"
            fix = self._twin_fix(ctx, node, text, Applicability.UNSAFE, statement=True)
            yield ctx.report(self.code, target, f"`del session[key]` loads the session on the event loop; {self._advice(ctx, 'apop(key)')}", fix)
        elif (
            isinstance(node, ast.Compare)
            and len(node.ops) == 1
            and isinstance(node.ops[0], (ast.In, ast.NotIn))
            and self._is_session(node.comparators[0], ctx)
        ):
            fix = None
            if ctx.target >= api.SESSION_SINCE and can_await_here(ctx, node):
                fix = Fix("Use `await ….ahas_key(key)`", (membership_edit(ctx, node, "ahas_key"),), membership_applicability(node))
            yield ctx.report(self.code, node, f"`key in session` loads the session on the event loop; {self._advice(ctx, 'ahas_key(key)')}", fix)

    @staticmethod
    def _is_session(node: ast.expr, ctx) -> bool:
        return isinstance(ctx.infer(node), Session)

    def _is_session_item(self, target: ast.expr, ctx) -> bool:
        return isinstance(target, ast.Subscript) and not isinstance(target.slice, ast.Slice) and self._is_session(target.value, ctx)

    @staticmethod
    def _advice(ctx, call: str) -> str:
        if ctx.target >= api.SESSION_SINCE:
            return f"use `await ….{call}`"
        return "move it into `sync_to_async` (the async session API needs Django 5.1)"

    @staticmethod
    def _twin_fix(ctx, node: ast.AST, text: str, applicability: Applicability, *, statement: bool = False) -> Fix | None:
        if ctx.target < api.SESSION_SINCE or not can_await_here(ctx, node):
            return None
        edit = (
            Edit(ctx.source.start(node), ctx.source.end(node), text)
            if statement
            else replace_expression(ctx, node, text, awaits=True)
        )
        return Fix(f"Use `{text}`", (edit,), applicability)
