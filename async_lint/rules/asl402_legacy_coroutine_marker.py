from __future__ import annotations

import ast

from .. import django_api as api
from ..diagnostics import Fix
from ..fixers.middleware import replace_legacy_marker
from .asl4_shared import legacy_marker
from .asl3_shared import is_stub
from .base import MODULE, Invalid, Rule, Valid

_CLASS = "class TimingMiddleware:\n    sync_capable = False\n    async_capable = True\n\n    def __init__(self, get_response):\n        self.get_response = get_response\n"
_CALL = "\n    async def __call__(self, request):\n        return await self.get_response(request)\n"


class LegacyCoroutineMarker(Rule):
    """`obj._is_coroutine = asyncio.coroutines._is_coroutine`: the coroutine marker of Django
    3.1–4.1, which Django 4.2+ on Python 3.12+ does not see.

    ## What it does
    Flags the assignment when the project runs on Django 4.2 or later: a target of 4.2+, or a
    requirement whose range reaches it (a library declaring `Django>=3.2` with no upper bound
    runs on 5.2 for its users).

    ## Why is this bad?
    Django 4.2+ asks `asgiref.sync.iscoroutinefunction()`, which on Python 3.12+ is
    `inspect.iscoroutinefunction()`: it ignores `_is_coroutine`.  The middleware (or view) is
    then treated as sync: see ASL401 for what that breaks.  On older Pythons asgiref's
    `markcoroutinefunction()` sets that same attribute, so the replacement works everywhere
    Django 4.2+ runs.

    ## Fix
    `markcoroutinefunction(obj)`, imported from `asgiref.sync` (asgiref 3.6+, which Django 3.2
    and later accept).

    ## Fix safety
    Safe: it marks the same object, in the way every Python version Django 4.2+ supports reads.
    """

    code = "ASL402"
    name = "legacy-coroutine-marker"
    node_types = (ast.Assign,)
    looks_at = MODULE
    requires_text = ("_is_coroutine",)
    counts_in_helpers = False

    INVALID = [
        Invalid(
            "import asyncio\n\n\n" + _CLASS + "        self._is_coroutine = asyncio.coroutines._is_coroutine\n" + _CALL,
            fixed="import asyncio\nfrom asgiref.sync import markcoroutinefunction\n\n\n" + _CLASS + "        markcoroutinefunction(self)\n" + _CALL,
        ),
        Invalid(
            "from asyncio.coroutines import _is_coroutine\n\n\ndef mark(view):\n    view._is_coroutine = _is_coroutine\n    return view\n",
            fixed="from asyncio.coroutines import _is_coroutine\nfrom asgiref.sync import markcoroutinefunction\n\n\ndef mark(view):\n    markcoroutinefunction(view)\n    return view\n",
        ),
    ]
    VALID = [
        Valid("import asyncio\n\n\n" + _CLASS + "        self._is_coroutine = asyncio.coroutines._is_coroutine\n" + _CALL, target_version="4.1"),
        Valid("class Flag:\n    _is_coroutine = False\n"),
    ]

    def check(self, node, ctx):
        if is_stub(ctx):
            return
        if not ctx.reaches(api.MARK_COROUTINE_SINCE):
            return  # the project never runs on a Django that ignores the marker
        target = legacy_marker(ctx, node)
        if target is None:
            return
        edits = replace_legacy_marker(ctx, node, target)
        yield ctx.report(
            self.code,
            node,
            "`_is_coroutine = asyncio.coroutines._is_coroutine` is the marker of Django < 4.2: Django 4.2+ on Python "
            "3.12+ does not see it and treats the object as sync; call `markcoroutinefunction()` from `asgiref.sync`",
            Fix("Use `markcoroutinefunction()`", edits) if edits else None,
        )
