from __future__ import annotations

import ast
import re

from ..semantic import iter_scope_nodes
from .base import MODULE, Invalid, Rule, Valid
from .asl6_request_data import Function, local_names, mentions, request_derived, request_parameters, target_names

_GLOBAL_STATEMENT = re.compile(r"^[ \t]+global[ \t]", re.MULTILINE)
_FUNCTIONS = (ast.FunctionDef, ast.AsyncFunctionDef)


class GlobalRequestState(Rule):
    """A module global assigned a value computed from the request, in a view or middleware.

    ## What it does
    Flags `global _current_user` followed by `_current_user = request.user` (or any value
    computed from the request) in a function that takes the request: a view, a middleware's
    `__call__` / `process_request` / `process_view`, a DRF or Ninja handler.  A module function
    that stores its argument in a global is flagged too when a request handler of the same file
    passes it a value from the request (`set_current_user(request.user)`).

    Not flagged: globals assigned at import time, in management commands or anywhere without a
    request; counters and accumulators (`_hits += 1`, `_seen = _seen | {path}`); caches filled
    once (`if _site is None: _site = …`).

    ## Why is this bad?
    A module global is one value for the whole process.  Under ASGI the requests of a worker run
    interleaved on one event loop (and Django runs each request's sync code in its own thread),
    so between the assignment and its later use another request can overwrite it: one user's
    identity, tenant or data is then served to another user.  Threaded WSGI servers have the
    same race.

    ## Fix
    No automatic fix: keep the value on the request (`request.tenant = …`) or pass it as an
    argument; for state that must be reachable without the request, use a
    `contextvars.ContextVar` or `asgiref.local.Local()`, which are per request.
    """

    code = "ASL602"
    name = "global-request-state"
    node_types = (ast.Module,)
    looks_at = MODULE
    # A `global` statement starts an indented line (2/4-space or tab indents, three levels):
    # the word in comments and docstrings does not make a module rule walk the file.
    requires_text = tuple(dict.fromkeys(f"\n{indent * level}global " for indent in ("  ", "    ", "\t") for level in (1, 2, 3)))

    INVALID = [
        Invalid(
            "_current_user = None\n\n\nclass CurrentUserMiddleware:\n    def __init__(self, get_response):\n        self.get_response = get_response\n\n    async def __call__(self, request):\n        global _current_user\n        _current_user = request.user\n        return await self.get_response(request)\n"
        ),
        Invalid(
            "from django.http import JsonResponse\n\nLAST_TENANT = None\n\n\ndef dashboard(request):\n    global LAST_TENANT\n    tenant = request.headers.get('X-Tenant')\n    LAST_TENANT = tenant\n    return JsonResponse({'tenant': LAST_TENANT})\n"
        ),
        Invalid(
            "_user = None\n\n\ndef set_current_user(user):\n    global _user\n    _user = user\n\n\nasync def view(request):\n    set_current_user(request.user)\n    return None\n"
        ),
    ]
    VALID = [
        # Filled at import time.
        Valid("import os\n\nDEBUG_TOOLBAR = os.environ.get('TOOLBAR') == '1'\n\n\nasync def view(request):\n    return DEBUG_TOOLBAR\n"),
        # A management command: no request.
        Valid(
            "from django.core.management.base import BaseCommand\n\nverbose = False\n\n\nclass Command(BaseCommand):\n    def handle(self, *args, **options):\n        global verbose\n        verbose = options['verbosity'] > 1\n"
        ),
        # A lazy cache filled once, and a counter.
        Valid(
            "_base_url = None\n_hits = 0\n\n\ndef view(request):\n    global _base_url, _hits\n    if _base_url is None:\n        _base_url = request.build_absolute_uri('/')\n    _hits += 1\n    return _base_url\n"
        ),
        # Written from something that is not the request.
        Valid(
            "import time\n\n_last_seen = 0.0\n\n\nasync def view(request):\n    global _last_seen\n    _last_seen = time.monotonic()\n    return None\n"
        ),
        # Kept on the request, or in a ContextVar.
        Valid(
            "import contextvars\n\ncurrent_user = contextvars.ContextVar('current_user')\n\n\nasync def view(request):\n    request.tenant = request.headers.get('X-Tenant')\n    current_user.set(request.user)\n    return None\n"
        ),
        # A setter never given request data in this file.
        Valid("_mode = 'default'\n\n\ndef set_mode(mode):\n    global _mode\n    _mode = mode\n\n\nasync def view(request):\n    set_mode('fast')\n    return None\n"),
    ]

    def check(self, node, ctx):
        text = ctx.source.text
        if "equest" not in text or _GLOBAL_STATEMENT.search(text) is None:  # request, HttpRequest
            return
        writers = list(_functions_declaring_globals(node.body))
        if not writers:
            return
        reported: set[int] = set()
        for function in writers:
            seeds = request_parameters(function, ctx.file)
            if seeds:
                for target in _request_writes(function, request_derived(function, seeds)):
                    reported.add(id(target))
                    yield ctx.report(self.code, target, _message(target.id, "the request"))
        # Setters called with request data by a request handler of this file.
        setters = {f.name: f for f in node.body if isinstance(f, ast.FunctionDef) and _declared_globals(f)}
        if not setters:
            return
        for handler in _functions(node.body):
            seeds = request_parameters(handler, ctx.file)
            if not seeds:
                continue
            derived = request_derived(handler, seeds)
            shadowed = local_names(handler)
            for call in iter_scope_nodes(handler.body):
                if not (isinstance(call, ast.Call) and isinstance(call.func, ast.Name) and call.func.id in setters):
                    continue
                if call.func.id in shadowed:
                    continue
                setter = setters[call.func.id]
                tainted = _parameters_given(setter, call, derived)
                if not tainted:
                    continue
                row = ctx.source.row_col(ctx.source.start(call))[0]
                for target in _request_writes(setter, request_derived(setter, tainted)):
                    if id(target) not in reported:
                        reported.add(id(target))
                        yield ctx.report(self.code, target, _message(target.id, f"the request (passed at line {row})"))


def _functions(body: list[ast.stmt]):
    """Every function of the file, found through statements only (a `def` is a statement)."""
    for stmt in body:
        if isinstance(stmt, _FUNCTIONS):
            yield stmt
        for field in ("body", "orelse", "finalbody", "handlers", "cases"):
            block = getattr(stmt, field, None)
            if isinstance(block, list):
                yield from _functions(block)


def _functions_declaring_globals(body: list[ast.stmt]):
    return (f for f in _functions(body) if _declared_globals(f))


def _declared_globals(function: Function) -> frozenset[str]:
    """Names declared `global` in the function's own frame (statements only)."""
    names: set[str] = set()
    stack = list(function.body)
    while stack:
        stmt = stack.pop()
        if isinstance(stmt, ast.Global):
            names.update(stmt.names)
        elif not isinstance(stmt, (*_FUNCTIONS, ast.ClassDef)):
            for field in ("body", "orelse", "finalbody", "handlers", "cases"):
                block = getattr(stmt, field, None)
                if isinstance(block, list):
                    stack.extend(block)
    return frozenset(names)


def _request_writes(function: Function, derived: frozenset[str]) -> list[ast.Name]:
    """The first assignment of each declared global from a request-derived value, leaving out
    accumulators and once-only cache fills."""
    declared = _declared_globals(function)
    derived = derived - declared
    first: dict[str, ast.Name] = {}
    guarded = _lazily_filled(function, declared)
    for node in iter_scope_nodes(function.body):
        pairs: list[tuple[ast.expr, ast.expr | None]] = []
        if isinstance(node, ast.Assign):
            pairs = [(t, node.value) for t in node.targets]
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            pairs = [(node.target, node.value)]
        elif isinstance(node, ast.NamedExpr):
            pairs = [(node.target, node.value)]
        elif isinstance(node, (ast.For, ast.AsyncFor)):
            pairs = [(node.target, node.iter)]
        elif isinstance(node, (ast.With, ast.AsyncWith)):
            pairs = [(i.optional_vars, i.context_expr) for i in node.items if i.optional_vars is not None]
        # AugAssign (`_hits += …`) accumulates over requests: never one request's value.
        for target, value in pairs:
            for name in target_names(target):
                if name.id not in declared or name.id in first or id(name) in guarded:
                    continue
                if mentions(value, derived) and not mentions(value, frozenset({name.id})):
                    first[name.id] = name
    return sorted(first.values(), key=lambda n: (n.lineno, n.col_offset))


def _lazily_filled(function: Function, declared: frozenset[str]) -> set[int]:
    """Targets assigned under `if G is None:` / `if not G:` (possibly `or …`): a cache filled
    once, not per request."""
    guarded: set[int] = set()
    for node in iter_scope_nodes(function.body):
        if not isinstance(node, ast.If):
            continue
        tests = node.test.values if isinstance(node.test, ast.BoolOp) else [node.test]
        empty = {name for t in tests for name in _tested_empty(t)} & declared
        if not empty:
            continue
        for inner in (n for s in node.body for n in ast.walk(s)):
            if isinstance(inner, ast.Name) and inner.id in empty and isinstance(inner.ctx, ast.Store):
                guarded.add(id(inner))
    return guarded


def _tested_empty(test: ast.expr) -> list[str]:
    if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not) and isinstance(test.operand, ast.Name):
        return [test.operand.id]
    if (
        isinstance(test, ast.Compare)
        and isinstance(test.left, ast.Name)
        and len(test.ops) == 1
        and isinstance(test.ops[0], (ast.Is, ast.Eq))
        and isinstance(test.comparators[0], ast.Constant)
        and test.comparators[0].value is None
    ):
        return [test.left.id]
    return []


def _parameters_given(function: ast.FunctionDef, call: ast.Call, derived: frozenset[str]) -> frozenset[str]:
    """The setter's parameters that receive a request-derived argument at this call."""
    arguments = function.args
    positional = [a.arg for a in (*arguments.posonlyargs, *arguments.args)]
    named = {a.arg for a in (*arguments.args, *arguments.kwonlyargs)}
    tainted = set()
    for position, argument in enumerate(call.args):
        if isinstance(argument, ast.Starred):
            break
        if position < len(positional) and mentions(argument, derived):
            tainted.add(positional[position])
    for keyword in call.keywords:
        if keyword.arg in named and mentions(keyword.value, derived):
            tainted.add(keyword.arg)
    return frozenset(tainted)


def _message(name: str, source: str) -> str:
    return (
        f"module global `{name}` is assigned from {source}: concurrent requests (interleaved on the event loop "
        "under ASGI, or in threads) share it, so one request can read another request's value; keep it on the "
        "request or pass it along, or use a `contextvars.ContextVar` / `asgiref.local.Local()`"
    )
