from __future__ import annotations

import ast
from dataclasses import dataclass, field

from ..diagnostics import Applicability, Edit, Fix
from ..fixers.imports import ensure_import
from .base import MODULE, Invalid, Rule, Valid
from .asl6_request_data import Frames, LoopReach, mentions, request_derived, request_parameters

THREAD_LOCAL_CLASSES = frozenset({"threading.local", "_threading_local.local", "_thread._local"})
LOCAL_IMPORT = ("asgiref.local", "Local")
# Attribute names that say "this is about the current request": `_locals.user`,
# `_state.current_tenant`, `_ctx.request_id` (split on "_").
REQUEST_WORDS = frozenset(
    "request user tenant locale language lang timezone tz site organization org actor impersonator".split()
)
_ATTRIBUTE_FUNCTIONS = {"getattr": "get", "hasattr": "get", "setattr": "set", "delattr": "delete"}


@dataclass
class _Use:
    node: ast.Name
    kind: str  # "get", "set", "delete", or "other" (passed around, vars(), ...)
    attribute: str | None = None
    value: ast.expr | None = None  # what a "set" stores


@dataclass
class _Storage:
    name: str
    call: ast.Call  # `threading.local()` or `MyLocal()`
    subclass: bool  # an instance of a `threading.local` subclass: no drop-in replacement
    uses: list[_Use] = field(default_factory=list)


class ThreadLocalRequestState(Rule):
    """A `threading.local()` holding per-request data, used by code that runs on the event loop.

    ## What it does
    Flags a module-level `threading.local()` (or an instance of a `threading.local` subclass)
    when both hold in the same file:

    * it holds per-request data: an attribute of it is set from the request in a view or
      middleware (`_locals.user = request.user`), or is named for it (`.user`, `.tenant`,
      `.request_id`, `.locale`, …);
    * it is read or written on the event loop: in an `async def`, or in a sync function of the
      file that an `async def` calls directly (not through `sync_to_async`).

    A `threading.local()` kept on a class (`_state = threading.local()` in its body, or
    `self._state = threading.local()` in a method) is flagged when the class writes request
    data to it (`self._state.user = request.user`) and an `async def` method of the class uses
    it.

    `asgiref.local.Local`, `contextvars.ContextVar`, and thread-locals used only by sync code or
    only for per-thread caches (an HTTP session per thread) are not flagged.

    ## Why is this bad?
    Under ASGI every request served by one worker runs on the same thread: the event loop's.  A
    `threading.local` written there is one slot shared by all the requests in flight, so a
    request that awaits can resume and read the user or tenant another request stored meanwhile.
    And code run with `sync_to_async` runs in another thread, so it does not see what async code
    stored (nor does async code see what sync middleware stored in its thread).

    ## Fix
    `asgiref.local.Local()` (what Django uses for its own per-request state: the active
    language, time zone and URLconf): in async code a value is local to the task and is seen by
    code it awaits and by `sync_to_async` calls; in sync threads it is thread-local.  Imports are
    added but the old `threading` import is left in place.  A `threading.local` subclass has no
    drop-in replacement (`Local` cannot be subclassed): use a `Local()` instance or a
    `contextvars.ContextVar` by hand.

    ## Fix safety
    Safe when the file only reads and writes the object's attributes (`x.attr`, `getattr`,
    `setattr`, `hasattr`, `delattr`) and the name is private (`_locals`), so no other module can
    use it differently: a `Local` supports exactly that.  Otherwise unsafe: `vars()`, `__dict__`,
    `isinstance(…, threading.local)` or a use in another module would break.
    """

    code = "ASL601"
    name = "thread-local-request-state"
    node_types = (ast.Module,)
    looks_at = MODULE
    # How a thread-local is written: `threading.local()`, `class X(threading.local)`,
    # `from threading import local` (or `…import Thread, local`), `_thread._local`,
    # `from _thread import _local`, `_threading_local`.  (A matching module rule makes the
    # engine walk every node of the file, so this names the thing itself, not `threading`.)
    requires_text = ("threading.local", "import local", ", local", "_thread._local", "import _local", "_threading_local")

    INVALID = [
        Invalid(
            "import threading\n\n_locals = threading.local()\n\n\nclass CurrentUserMiddleware:\n    async def __call__(self, request):\n        _locals.user = request.user\n        return await self.get_response(request)\n\n\ndef get_current_user():\n    return getattr(_locals, 'user', None)\n",
            fixed="import threading\nfrom asgiref.local import Local\n\n_locals = Local()\n\n\nclass CurrentUserMiddleware:\n    async def __call__(self, request):\n        _locals.user = request.user\n        return await self.get_response(request)\n\n\ndef get_current_user():\n    return getattr(_locals, 'user', None)\n",
        ),
        # Written by sync middleware in its thread, read by an async view through a helper.
        Invalid(
            "from threading import local\n\nfrom django.utils.deprecation import MiddlewareMixin\n\n_state = local()\n\n\nclass TenantMiddleware(MiddlewareMixin):\n    def process_request(self, request):\n        _state.tenant = request.headers.get('X-Tenant')\n\n\ndef current_tenant():\n    return getattr(_state, 'tenant', None)\n\n\nasync def dashboard(request):\n    return current_tenant()\n",
            fixed="from threading import local\n\nfrom django.utils.deprecation import MiddlewareMixin\nfrom asgiref.local import Local\n\n_state = Local()\n\n\nclass TenantMiddleware(MiddlewareMixin):\n    def process_request(self, request):\n        _state.tenant = request.headers.get('X-Tenant')\n\n\ndef current_tenant():\n    return getattr(_state, 'tenant', None)\n\n\nasync def dashboard(request):\n    return current_tenant()\n",
        ),
        # A public name: another module may use it in ways this file does not show.
        Invalid(
            "import threading\n\nrequest_state = threading.local()\n\n\nasync def view(request):\n    request_state.request_id = request.headers.get('X-Request-ID')\n    return None\n",
            unsafe_fixed="import threading\nfrom asgiref.local import Local\n\nrequest_state = Local()\n\n\nasync def view(request):\n    request_state.request_id = request.headers.get('X-Request-ID')\n    return None\n",
        ),
        # Used as more than a namespace: vars() does not work on a Local.
        Invalid(
            "import threading\n\n_ctx = threading.local()\n\n\nasync def view(request):\n    _ctx.user = request.user\n    return dict(vars(_ctx))\n",
            unsafe_fixed="import threading\nfrom asgiref.local import Local\n\n_ctx = Local()\n\n\nasync def view(request):\n    _ctx.user = request.user\n    return dict(vars(_ctx))\n",
        ),
        # A subclass: no drop-in replacement, no fix.
        Invalid(
            "import threading\n\n\nclass _State(threading.local):\n    user = None\n\n\n_state = _State()\n\n\nasync def view(request):\n    _state.user = request.user\n    return None\n",
        ),
        # Kept on the middleware class.
        Invalid(
            "import threading\n\n\nclass CurrentUserMiddleware:\n    def __init__(self, get_response):\n        self.get_response = get_response\n        self._state = threading.local()\n\n"
            "    async def __call__(self, request):\n        self._state.user = request.user\n        return await self.get_response(request)\n",
            unsafe_fixed="import threading\nfrom asgiref.local import Local\n\n\nclass CurrentUserMiddleware:\n    def __init__(self, get_response):\n        self.get_response = get_response\n        self._state = Local()\n\n"
            "    async def __call__(self, request):\n        self._state.user = request.user\n        return await self.get_response(request)\n",
        ),
    ]
    VALID = [
        Valid(
            "from asgiref.local import Local\n\n_locals = Local()\n\n\nasync def view(request):\n    _locals.user = request.user\n    return None\n"
        ),
        Valid(
            "import contextvars\n\ncurrent_user = contextvars.ContextVar('current_user', default=None)\n\n\nasync def view(request):\n    current_user.set(request.user)\n    return None\n"
        ),
        # Sync code only: one request per thread, as threading.local expects.
        Valid(
            "import threading\n\n_locals = threading.local()\n\n\ndef view(request):\n    _locals.user = request.user\n    return None\n\n\nasync def ping(request):\n    return 'pong'\n"
        ),
        # A per-thread cache, not per-request data.
        Valid(
            "import threading\n\nimport requests\n\n_local = threading.local()\n\n\ndef http():\n    if not hasattr(_local, 'session'):\n        _local.session = requests.Session()\n    return _local.session\n\n\nasync def fetch(url):\n    return http().get(url)\n"
        ),
        # Only touched in a thread through sync_to_async (the request's own worker thread).
        Valid(
            "import threading\n\nfrom asgiref.sync import sync_to_async\n\n_locals = threading.local()\n\n\ndef remember(request):\n    _locals.user = request.user\n\n\nasync def view(request):\n    await sync_to_async(remember)(request)\n    return None\n"
        ),
        # A local variable of the same name shadows the module's thread-local.
        Valid(
            "import threading\n\n_locals = threading.local()\n\n\ndef set_user(request):\n    _locals.user = request.user\n\n\nasync def view(request):\n    _locals = {}\n    _locals['user'] = request.user\n    return _locals\n"
        ),
        # A per-thread client kept on a class, used by sync code only.
        Valid("import threading\n\n\nclass Client:\n    _local = threading.local()\n\n    def session(self):\n        self._local.session = object()\n        return self._local.session\n"),
    ]

    def check(self, node, ctx):
        text = ctx.source.text
        if "local" not in text or "async def" not in text:  # a finding needs a use on the loop
            return
        yield from self._class_storages(node, ctx)
        storages = self._storages(node, ctx)
        if not storages:
            return
        frames = Frames(node)
        self._collect_uses(storages, frames)
        reach = LoopReach(frames)
        for storage in storages.values():
            yield from self._judge(storage, frames, reach, ctx)

    # -- thread-locals kept on a class ----------------------------------------------------------

    def _class_storages(self, tree: ast.Module, ctx):
        for cls in (s for s in ast.walk(tree) if isinstance(s, ast.ClassDef)):
            found: dict[str, ast.Call] = {}
            for stmt in ast.walk(cls):
                if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.value, ast.Call):
                    target = stmt.targets[0]
                    if ctx.file.qualname_of(stmt.value.func) not in THREAD_LOCAL_CLASSES:
                        continue
                    if isinstance(target, ast.Name) and stmt in cls.body:
                        found[target.id] = stmt.value
                    elif isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name) and target.value.id == "self":
                        found[target.attr] = stmt.value
            for name, call in found.items():
                yield from self._judge_class_storage(cls, name, call, ctx)

    def _judge_class_storage(self, cls: ast.ClassDef, name: str, call: ast.Call, ctx):
        """`self.<name>.<attribute>` written with request data, and the storage used in an
        `async def` method of the class."""
        methods = [m for m in cls.body if isinstance(m, (ast.FunctionDef, ast.AsyncFunctionDef))]
        evidence, on_loop = None, None
        for method in methods:
            derived = request_derived(method, request_parameters(method, ctx.file))
            for node in ast.walk(method):
                if not (
                    isinstance(node, ast.Attribute)
                    and isinstance(node.value, ast.Attribute)
                    and node.value.attr == name
                    and isinstance(node.value.value, ast.Name)
                    and node.value.value.id in ("self", "cls", cls.name)
                ):
                    continue
                if isinstance(method, ast.AsyncFunctionDef) and on_loop is None:
                    on_loop = node
                if isinstance(node.ctx, ast.Store) and evidence is None:
                    holder = next((s for s in ast.walk(method) if isinstance(s, ast.Assign) and node in s.targets), None)
                    words = REQUEST_WORDS.intersection(node.attr.lower().split("_"))
                    if words or (holder is not None and mentions(holder.value, derived)):
                        evidence = node
        if evidence is None or on_loop is None:
            return
        row = ctx.source.row_col(ctx.source.start(on_loop))[0]
        imports = ensure_import(ctx, *LOCAL_IMPORT)
        fix = None
        if imports is not None and not call.args and not call.keywords:
            edit = Edit(ctx.source.start(call), ctx.source.end(call), "Local()")
            fix = Fix("Use `asgiref.local.Local()`", tuple(sorted((edit, *imports))), Applicability.UNSAFE)
        yield ctx.report(
            self.code,
            call,
            f"`{cls.name}.{name}` is a `threading.local()` holding `.{evidence.attr}`, used on the event loop "
            f"(line {row}): requests served concurrently on one event loop share its thread, so they share this "
            "storage; use `asgiref.local.Local()`",
            fix,
        )

    # -- what is a thread-local here ----------------------------------------------------------

    def _storages(self, tree: ast.Module, ctx) -> dict[str, _Storage]:
        subclasses = {
            s.name
            for s in tree.body
            if isinstance(s, ast.ClassDef) and any(ctx.file.qualname_of(b) in THREAD_LOCAL_CLASSES for b in s.bases)
        }
        found: dict[str, _Storage] = {}
        rebound: set[str] = set()
        for stmt in tree.body:
            targets, value = [], None
            if isinstance(stmt, ast.Assign):
                targets, value = stmt.targets, stmt.value
            elif isinstance(stmt, ast.AnnAssign) and stmt.value is not None:
                targets, value = [stmt.target], stmt.value
            names = [t.id for t in targets if isinstance(t, ast.Name)]
            call = value if isinstance(value, ast.Call) else None
            is_local = call is not None and (
                ctx.file.qualname_of(call.func) in THREAD_LOCAL_CLASSES
                or (isinstance(call.func, ast.Name) and call.func.id in subclasses)
            )
            for name in names:
                if name in found or name in rebound or not is_local or len(targets) != 1:
                    rebound.add(name)
                    found.pop(name, None)
                    continue
                subclass = isinstance(call.func, ast.Name) and call.func.id in subclasses
                found[name] = _Storage(name, call, subclass)
        # Bound again somewhere else (a function's `global`, a loop, `del`): not one object.
        for other in ast.walk(tree):
            if isinstance(other, ast.Global):
                for name in other.names:
                    found.pop(name, None)
        return found

    def _collect_uses(self, storages: dict[str, _Storage], frames: Frames) -> None:
        for node in ast.walk(frames.tree):
            if not isinstance(node, ast.Name) or node.id not in storages:
                continue
            storage = storages[node.id]
            parent = frames.parent_of(node)
            if isinstance(parent, (ast.Assign, ast.AnnAssign)) and parent.value is storage.call:
                continue  # the definition itself
            if not frames.refers_to_module_name(node):
                continue
            storage.uses.append(self._use(node, parent, frames))

    @staticmethod
    def _use(node: ast.Name, parent: ast.AST | None, frames: Frames) -> _Use:
        if isinstance(parent, ast.Attribute) and parent.value is node and not parent.attr.startswith("__"):
            if isinstance(parent.ctx, ast.Load):
                holder = frames.parent_of(parent)
                if isinstance(holder, ast.AugAssign) and holder.target is parent:
                    return _Use(node, "set", parent.attr, holder.value)
                return _Use(node, "get", parent.attr)
            if isinstance(parent.ctx, ast.Del):
                return _Use(node, "delete", parent.attr)
            holder = frames.parent_of(parent)
            value = getattr(holder, "value", None) if isinstance(holder, (ast.Assign, ast.AnnAssign, ast.AugAssign)) else None
            return _Use(node, "set", parent.attr, value)
        if (
            isinstance(parent, ast.Call)
            and parent.args
            and parent.args[0] is node
            and isinstance(parent.func, ast.Name)
            and parent.func.id in _ATTRIBUTE_FUNCTIONS
            and frames.refers_to_module_name(parent.func)
        ):
            attribute = parent.args[1] if len(parent.args) > 1 else None
            name = attribute.value if isinstance(attribute, ast.Constant) and isinstance(attribute.value, str) else None
            kind = _ATTRIBUTE_FUNCTIONS[parent.func.id]
            value = parent.args[2] if kind == "set" and len(parent.args) > 2 else None
            return _Use(node, kind if name is not None or kind != "set" else "other", name, value)
        return _Use(node, "other")

    # -- is it per-request data used on the loop ------------------------------------------------

    def _judge(self, storage: _Storage, frames: Frames, reach: LoopReach, ctx):
        evidence = next((u for u in storage.uses if self._holds_request_data(u, frames, ctx)), None)
        if evidence is None:
            return
        on_loop = [(u, reach.loop_origin(frames.frame(u.node))) for u in storage.uses]
        on_loop = [(u, origin) for u, origin in on_loop if origin is not None]
        if not on_loop:
            return
        writes = [(u, o) for u, o in on_loop if u.kind in ("set", "delete")]
        use, origin = (writes or on_loop)[0]
        row = ctx.source.row_col(ctx.source.start(use.node))[0]
        where = f"line {row}" if isinstance(origin, ast.AsyncFunctionDef) else (
            f"line {row}, called on the loop at line {ctx.source.row_col(ctx.source.start(origin))[0]}"
        )
        attribute = f"`.{evidence.attribute}`" if evidence.attribute else "request data"
        kind = "a `threading.local` subclass" if storage.subclass else "a `threading.local()`"
        if writes:
            why = (
                "requests served concurrently on one event loop share its thread, so they share this storage "
                "(one request can read another's value), and `sync_to_async` code does not see it"
            )
        else:
            why = (
                "the event loop's thread does not see what sync code stored in its own thread, and it is shared "
                "by every request on the loop"
            )
        remedy = (
            "use an `asgiref.local.Local()` instance or a `contextvars.ContextVar`"
            if storage.subclass
            else "use `asgiref.local.Local()`"
        )
        message = f"`{storage.name}` is {kind} holding {attribute}, used on the event loop ({where}): {why}; {remedy}"
        yield ctx.report(self.code, storage.call, message, None if storage.subclass else self._fix(storage, ctx))

    @staticmethod
    def _holds_request_data(use: _Use, frames: Frames, ctx) -> bool:
        if use.kind != "set":
            return False
        if use.attribute and REQUEST_WORDS.intersection(use.attribute.lower().split("_")):
            return True
        function = frames.frame(use.node)
        if function is None or use.value is None:
            return False
        seeds = request_parameters(function, ctx.file)
        return bool(seeds) and mentions(use.value, request_derived(function, seeds))

    # -- the fix ----------------------------------------------------------------------------

    @staticmethod
    def _fix(storage: _Storage, ctx) -> Fix | None:
        if storage.call.args or storage.call.keywords:
            return None
        imports = ensure_import(ctx, *LOCAL_IMPORT)
        if imports is None:
            return None
        edit = Edit(ctx.source.start(storage.call), ctx.source.end(storage.call), "Local()")
        only_attributes = all(u.kind in ("get", "set", "delete") for u in storage.uses)
        exported = _exported(ctx.file.tree)
        private = storage.name.startswith("_") and storage.name not in exported
        applicability = Applicability.SAFE if only_attributes and private else Applicability.UNSAFE
        return Fix("Use `asgiref.local.Local()`", tuple(sorted((edit, *imports))), applicability)


def _exported(tree: ast.Module) -> frozenset[str]:
    for stmt in tree.body:
        if (
            isinstance(stmt, ast.Assign)
            and any(isinstance(t, ast.Name) and t.id == "__all__" for t in stmt.targets)
            and isinstance(stmt.value, (ast.List, ast.Tuple))
        ):
            return frozenset(e.value for e in stmt.value.elts if isinstance(e, ast.Constant) and isinstance(e.value, str))
    return frozenset()
