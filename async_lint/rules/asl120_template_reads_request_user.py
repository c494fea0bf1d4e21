from __future__ import annotations

import ast

from ..diagnostics import Applicability, Edit, Fix
from ..fixers.sync_to_async import wrap_call
from ..semantic import LazyUser, iter_scope_nodes
from ..templates import PRINTED
from .asl107_request_user import AUSER_SINCE
from .base import Invalid, Rule, Valid
from ._rendered_templates import rendering

_HEAD = "from django.shortcuts import render\n\n\n"


class TemplateReadsRequestUser(Rule):
    """A template rendered on the event loop reads `{{ user }}` or `{{ perms }}` from the auth
    context processor: `request.user`, evaluated there.

    ## What it does
    Flags a render call with a request inside an `async def` (see ASL119 for which calls) when
    the project's settings enable `django.contrib.auth.context_processors.auth` (and do not
    leave out `AuthenticationMiddleware`) and the template, with what it extends and includes,
    reads `user` or `perms` (or `request.user` with the request context processor), unless
    `request.user` was loaded before: set by the view (`request.user = await request.auser()`),
    read in a thread (`await sync_to_async(lambda: request.user.is_authenticated)()`, in the
    view or a project helper given the request), or by `LoginRequiredMiddleware` for every
    view; or the view passes its own loaded `user`.

    ## Why is this bad?
    The context processor hands the template `request.user`, the lazy object that
    `AuthenticationMiddleware` installs: the first read loads the session and the user with
    sync queries, on the event loop (`SynchronousOnlyOperation`).  `await request.auser()`
    caches the user separately, so it does not make `request.user` safe.  `perms` asks the
    authentication backends, which query too.

    ## Fix
    For a template that reads only the user's own fields (Django 5.0+):
    `request.user = await request.auser()` before rendering.  Otherwise (`perms`, the user's
    relations, older Django) rendering runs in a thread: `await sync_to_async(render)(...)`.

    ## Fix safety
    Assigning `request.user` is unsafe: `auser()` returns the session's user, whatever a
    custom middleware may have put in `request.user` instead.  Rendering in a thread is safe.
    """

    code = "ASL120"
    name = "template-reads-request-user"
    node_types = (ast.Call,)
    requires_text = ("render",)

    INVALID = [
        Invalid(
            _HEAD + 'async def home(request):\n    return render(request, "library/greeting.html")\n',
            unsafe_fixed=_HEAD + 'async def home(request):\n    request.user = await request.auser()\n    return render(request, "library/greeting.html")\n',
        ),
        Invalid(
            "from django.template.loader import render_to_string\n\n\n"
            'async def banner(request):\n    return render_to_string("library/greeting.html", request=request)\n',
            fixed="from django.template.loader import render_to_string\nfrom asgiref.sync import sync_to_async\n\n\n"
            'async def banner(request):\n    return await sync_to_async(render_to_string)("library/greeting.html", request=request)\n',
            target_version="4.2",
        ),
    ]
    VALID = [
        Valid(_HEAD + 'async def home(request):\n    request.user = await request.auser()\n    return render(request, "library/greeting.html")\n'),
        # Loaded in a thread: the lazy object keeps the user.
        Valid(
            "from asgiref.sync import sync_to_async\n" + _HEAD + "async def signed_in(request):\n"
            "    return await sync_to_async(lambda: request.user.is_authenticated)()\n\n\n"
            'async def home(request):\n    if not await signed_in(request):\n        return None\n    return render(request, "library/greeting.html")\n'
        ),
        # Without the request, no context processor runs.
        Valid("from django.template.loader import render_to_string\n\n\nasync def banner():\n    return render_to_string(\"library/greeting.html\")\n"),
        # The view's own `user` shadows the processor's.
        Valid(_HEAD + 'async def home(request):\n    user = await request.auser()\n    return render(request, "library/greeting.html", {"user": user})\n'),
    ]

    def check(self, node, ctx):
        found = rendering(node, ctx)
        if found is None or found.request is None:
            return
        functions = ctx.file.functions
        settings = functions.template_settings
        functions.settings_consulted()
        if not settings.user_in_context or _LOADS_USER_FOR_EVERY_VIEW in (settings.middleware or ()):
            return
        request_processor = "django.template.context_processors.request" in (settings.context_processors or ())
        reads = [
            p for p in found.reads.paths
            if (p[0] in ("user", "perms") and _processors_value(p[0], found, ctx))
            or (request_processor and p[:2] == ("request", "user") and "request" not in found.context)
        ]
        if not reads or _user_loaded_before(found, ctx):
            return
        first = reads[0]
        shown = ".".join(s for s in first if s != PRINTED)
        yield ctx.report(
            self.code,
            found.call,
            f"the template reads `{shown}` ({found.where(first)}): the auth context processor's lazy "
            "`request.user`, loaded with sync queries on the event loop",
            self._fix(ctx, found, reads),
        )

    @staticmethod
    def _fix(ctx, found, reads) -> Fix | None:
        own_fields = all(p[0] != "perms" and not _follows_relation(p, ctx) for p in reads)
        request = found.request
        if own_fields and ctx.target >= AUSER_SINCE and isinstance(request, ast.Name):
            statement = next((p for p in reversed(ctx.parents) if isinstance(p, ast.stmt)), None)
            if statement is not None and statement.col_offset is not None:
                start = ctx.source.start(statement)
                line_start = ctx.source.text.rfind("\n", 0, start) + 1
                indent = ctx.source.text[line_start:start]
                if not indent.strip():
                    text = f"{request.id}.user = await {request.id}.auser()\n{indent}"
                    return Fix("Load `request.user` before rendering", (Edit(start, start, text),), Applicability.UNSAFE)
        return wrap_call(ctx, found.call, Applicability.SAFE)


def _processors_value(name: str, found, ctx) -> bool:
    """Whether the template's `user`/`perms` is the context processor's: the view's context
    does not set it, or sets `user` to the same lazy `request.user`.  A context the view
    builds elsewhere (`await get_context()`) is taken not to set them, as few do."""
    value = found.context.get(name)
    return value is None or (name == "user" and isinstance(ctx.infer(value), LazyUser))


def _follows_relation(path, ctx) -> bool:
    """`user.profile.bio`: past the user's own fields (the user model's relations)."""
    segments = path[2:] if path[0] == "request" else path[1:]
    user = next((m for m in ctx.file.index.models.values() if m.is_user), None)
    relations = user.relations if user is not None else {}
    return bool(segments) and (segments[0] in relations or segments[0] in ("groups", "user_permissions"))


_THREAD_RUNNERS = frozenset({"asgiref.sync.sync_to_async", "channels.db.database_sync_to_async"})
_LOADS_USER_FOR_EVERY_VIEW = "django.contrib.auth.middleware.LoginRequiredMiddleware"


def _user_loaded_before(found, ctx) -> bool:
    """Whether `request.user` is no longer lazy when the template reads it: assigned earlier in
    the function (`request.user = await request.auser()`), or read in a thread before the render
    (`await sync_to_async(lambda: request.user.is_authenticated)()`, here or in a project helper
    the request is handed to), which fills the lazy object's cache."""
    request = found.request
    if not isinstance(request, ast.Name):
        return False
    for node in iter_scope_nodes(ctx.scope.node.body):
        if getattr(node, "lineno", found.call.lineno) >= found.call.lineno:
            continue
        if isinstance(node, ast.Assign) and any(_is_user_of(t, request.id) for t in node.targets):
            return True
        if isinstance(node, ast.Call):
            if _reads_user_in_thread(node, request.id, ctx.file):
                return True
            helper = _helper_given(node, request.id, ctx)
            if helper is not None:
                ref, parameter = helper
                if any(isinstance(n, ast.Call) and _reads_user_in_thread(n, parameter, ref.file) for n in ast.walk(ref.node)):
                    return True
    return False


def _is_user_of(node: ast.AST, name: str) -> bool:
    return isinstance(node, ast.Attribute) and node.attr == "user" and isinstance(node.value, ast.Name) and node.value.id == name


def _reads_user_in_thread(call: ast.Call, name: str, file) -> bool:
    """`sync_to_async(lambda: request.user...)`, `sync_to_async(f)(request.user)` aside."""
    if file.qualname_of(call.func) not in _THREAD_RUNNERS or not call.args:
        return False
    function = call.args[0]
    return isinstance(function, ast.Lambda) and any(_is_user_of(n, name) for n in ast.walk(function.body))


def _helper_given(call: ast.Call, name: str, ctx):
    """The project function `call` hands the request to, and its parameter's name."""
    if ctx.file.functions is None:
        return None
    positions = [i for i, a in enumerate(call.args) if isinstance(a, ast.Name) and a.id == name]
    if not positions:
        return None
    ref = ctx.file.functions.resolve(call.func, ctx.file, ctx.scope)
    if ref is None:
        return None
    parameters = [a.arg for a in (*ref.node.args.posonlyargs, *ref.node.args.args)]
    if ref.owner is not None and parameters:
        parameters = parameters[1:]  # self
    return (ref, parameters[positions[0]]) if positions[0] < len(parameters) else None
