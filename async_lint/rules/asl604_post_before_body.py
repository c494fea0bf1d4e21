from __future__ import annotations

import ast

from ..diagnostics import Applicability, Edit, Fix
from ..semantic import Request, iter_scope_nodes
from .base import Invalid, Rule, Valid

# Ticket #34063: in 3.1–4.1 the async test client handed `ASGIRequest` its payload without
# the `LimitedStream` wrapper, so the multipart parser's chunked reads overran it.  Fixed in
# 4.2.0 (`test/client.py` wraps the payload), never backported.
FIXED_IN = (4, 2, 0)
PARSED_BODY = frozenset({"POST", "FILES"})
# Reads that load the body first (or consume the stream, after which POST is not parsed from it).
BODY_READS = frozenset({"body", "read", "readline", "readlines", "_load_post_and_files"})
COMMENT = "# noqa: B018 - Django < 4.2: read the body before POST/FILES (ticket #34063)"
_BLOCK_FIELDS = ("body", "orelse", "finalbody")


class PostBeforeBody(Rule):
    """`request.POST` / `request.FILES` read in an async view or middleware before `request.body`,
    when the target Django is older than 4.2.

    ## What it does
    With a target version below 4.2, flags the first read of `request.POST` or `request.FILES`
    in an `async def` (a view, an async middleware's `__call__`, a handler method) when no read
    of `request.body` comes before it in that function.

    ## Why is this bad?
    Django ticket #34063: from 3.1 to 4.1, `AsyncClient` and `AsyncRequestFactory` build the
    request around a payload that the multipart parser reads past, so parsing a multipart body
    (the default for `client.post(url, {...})`) raises `AssertionError: Cannot read more than the
    available bytes from the HTTP incoming data`.  The async views work under a real ASGI server
    but fail in their tests.  Reading `request.body` first loads the body in one read, after
    which `POST` and `FILES` are parsed from memory.  Fixed in Django 4.2 only.

    ## Fix
    Insert `request.body` (with a comment saying why) before the statement that first reads
    `POST` or `FILES`.  Upgrading to Django 4.2 removes the need.

    ## Fix safety
    Unsafe: reading `request.body` applies `DATA_UPLOAD_MAX_MEMORY_SIZE` (2.5 MB by default) to
    the whole body and holds it in memory, so a multipart upload larger than that limit, which
    `request.FILES` would stream to disk, is rejected with `RequestDataTooBig` (a 400).  Safe
    for views that take no uploads, or when the limit is raised to cover them.
    """

    code = "ASL604"
    name = "post-before-body"
    node_types = (ast.AsyncFunctionDef,)
    # Every finding is in an `async def`; ".POST" / ".FILES" are checked in `check`.
    requires_text = ("async",)
    counts_in_helpers = False

    INVALID = [
        Invalid(
            "from django.http import JsonResponse\n\nasync def upload(request):\n    name = request.POST['name']\n    return JsonResponse({'name': name})\n",
            unsafe_fixed="from django.http import JsonResponse\n\nasync def upload(request):\n    request.body  # noqa: B018 - Django < 4.2: read the body before POST/FILES (ticket #34063)\n    name = request.POST['name']\n    return JsonResponse({'name': name})\n",
            target_version="4.1",
        ),
        Invalid(
            "class FormMiddleware:\n    async def __call__(self, request):\n        if request.method == 'POST':\n            request.form_keys = sorted(request.POST)\n        return await self.get_response(request)\n",
            unsafe_fixed="class FormMiddleware:\n    async def __call__(self, request):\n        if request.method == 'POST':\n            request.body  # noqa: B018 - Django < 4.2: read the body before POST/FILES (ticket #34063)\n            request.form_keys = sorted(request.POST)\n        return await self.get_response(request)\n",
            target_version="4.0",
        ),
        Invalid(
            "from django.http import HttpRequest, HttpResponse\n\nasync def attach(req: HttpRequest):\n    files = req.FILES.getlist('attachment')\n    return HttpResponse(str(len(files)))\n",
            unsafe_fixed="from django.http import HttpRequest, HttpResponse\n\nasync def attach(req: HttpRequest):\n    req.body  # noqa: B018 - Django < 4.2: read the body before POST/FILES (ticket #34063)\n    files = req.FILES.getlist('attachment')\n    return HttpResponse(str(len(files)))\n",
            target_version="3.2",
        ),
    ]
    VALID = [
        # Fixed in 4.2.
        Valid("async def upload(request):\n    return request.POST['name']\n", target_version="4.2"),
        Valid("async def upload(request):\n    request.body\n    return request.POST['name']\n", target_version="4.1"),
        # Sync views get a request that reads correctly.
        Valid("def upload(request):\n    return request.POST['name']\n", target_version="4.1"),
        # GET, the method name, and objects that are not the request.
        Valid(
            "async def search(request, form):\n    if request.method == 'POST':\n        return form.POST\n    return request.GET.get('q')\n",
            target_version="4.1",
        ),
    ]

    def check(self, node, ctx):
        if ctx.target >= FIXED_IN or ctx.scope is None or ctx.scope.node is not node:
            return
        text = ctx.source.text
        start, end = ctx.source.start(node), ctx.source.end(node)
        if text.find(".POST", start, end) < 0 and text.find(".FILES", start, end) < 0:
            return
        reads = sorted(
            (
                n
                for n in iter_scope_nodes(node.body)
                if isinstance(n, ast.Attribute)
                and (n.attr in PARSED_BODY or n.attr in BODY_READS)
                and isinstance(n.ctx, ast.Load)
                and isinstance(ctx.infer(n.value), Request)
            ),
            key=lambda n: (n.lineno, n.col_offset),
        )
        if not reads or reads[0].attr not in PARSED_BODY:
            return
        first = reads[0]
        yield ctx.report(
            self.code,
            first,
            f"`{ctx.text(first)}` read before `{ctx.text(first.value)}.body` in async code fails before Django 4.2: "
            "`AssertionError: Cannot read more than the available bytes` under `AsyncClient` / "
            f"`AsyncRequestFactory` for multipart bodies (ticket #34063); read `{ctx.text(first.value)}.body` first",
            _touch_body_first(ctx, node, first),
        )


def _touch_body_first(ctx, function: ast.AsyncFunctionDef, read: ast.Attribute) -> Fix | None:
    """Insert `request.body` on its own line before the innermost statement holding `read`
    that starts its own line and sits in a block (not an `elif`: nothing can go before its test)."""
    source = ctx.source
    for statement in _enclosing_statements(ctx, function, read):
        start = source.start(statement)
        indent = source.text[source.line_starts[statement.lineno - 1] : start]
        if indent.strip():
            continue  # `if x: y = request.POST` on one line, or after `;`
        content = f"{ctx.text(read.value)}.body  {COMMENT}{source.newline}{indent}"
        return Fix("Read `request.body` first", (Edit(start, start, content),), Applicability.UNSAFE)
    return None


def _enclosing_statements(ctx, function: ast.AsyncFunctionDef, read: ast.AST):
    path = _path_to(function, read) or []
    for position in range(len(path) - 1, 0, -1):
        node, parent = path[position], path[position - 1]
        if not isinstance(node, ast.stmt) or not any(node in getattr(parent, f, ()) for f in _BLOCK_FIELDS):
            continue
        if isinstance(node, ast.If) and ctx.source.text.startswith("elif", ctx.source.start(node)):
            continue
        yield node


def _path_to(root: ast.AST, target: ast.AST) -> list[ast.AST] | None:
    stack: list[tuple[ast.AST, list[ast.AST]]] = [(root, [root])]
    while stack:
        node, path = stack.pop()
        if node is target:
            return path
        for child in ast.iter_child_nodes(node):
            if not isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)):
                stack.append((child, [*path, child]))
    return None
