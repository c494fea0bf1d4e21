from __future__ import annotations

import ast

from .. import django_api as api
from ..diagnostics import Edit, Fix
from ..fixers.imports import ensure_import
from .asl3_shared import is_stub
from .base import MODULE, Invalid, Rule, Valid

ASYNCIO_CHECK = "asyncio.iscoroutinefunction"


class AsyncioIsCoroutineFunction(Rule):
    """`asyncio.iscoroutinefunction()` used to tell async callables apart.

    ## What it does
    Flags calls of `asyncio.iscoroutinefunction` (however imported), when the project runs
    on Django 4.2 or later (its target, or a supported range reaching it).

    ## Why is this bad?
    It is deprecated since Python 3.14 (removal planned for 3.16), and it is not the check
    Django makes: from 4.2 Django decides whether a middleware or view is async with
    `asgiref.sync.iscoroutinefunction`, which on Python 3.12+ is `inspect.iscoroutinefunction`.
    The two disagree on objects carrying the legacy `_is_coroutine` marker (asyncio says
    async, Django says sync).  Not `inspect.iscoroutinefunction` either, below Python 3.12:
    it does not see what asgiref's `markcoroutinefunction` marks.

    ## Fix
    `iscoroutinefunction` from `asgiref.sync`: the call's `asyncio.` is replaced and the import
    added, or, for `from asyncio import iscoroutinefunction` (the only name imported), the
    import is rewritten.

    ## Fix safety
    Safe: the answer is then the one Django itself acts on.
    """

    code = "ASL409"
    name = "asyncio-iscoroutinefunction"
    node_types = (ast.Call,)
    looks_at = MODULE
    requires_text = ("iscoroutinefunction",)
    counts_in_helpers = False

    INVALID = [
        Invalid(
            "import asyncio\n\n\ndef is_async_view(view):\n    return asyncio.iscoroutinefunction(view)\n",
            fixed="import asyncio\nfrom asgiref.sync import iscoroutinefunction\n\n\ndef is_async_view(view):\n    return iscoroutinefunction(view)\n",
        ),
        Invalid(
            "from asyncio import iscoroutinefunction\n\n\ndef is_async_view(view):\n    return iscoroutinefunction(view)\n",
            fixed="from asgiref.sync import iscoroutinefunction\n\n\ndef is_async_view(view):\n    return iscoroutinefunction(view)\n",
        ),
    ]
    VALID = [
        Valid("from asgiref.sync import iscoroutinefunction\n\n\ndef is_async_view(view):\n    return iscoroutinefunction(view)\n"),
        Valid("import asyncio\n\n\ndef is_async_view(view):\n    return asyncio.iscoroutinefunction(view)\n", target_version="4.1"),
        Valid("def check(iscoroutinefunction, view):\n    return iscoroutinefunction(view)\n"),
    ]

    def check(self, node, ctx):
        if is_stub(ctx):
            return
        if not ctx.reaches(api.MARK_COROUTINE_SINCE) or ctx.qualname(node.func) != ASYNCIO_CHECK:
            return
        yield ctx.report(
            self.code,
            node.func,
            "`asyncio.iscoroutinefunction()` is deprecated (Python 3.14) and is not the check Django 4.2+ makes; use "
            "`iscoroutinefunction` from `asgiref.sync`",
            self._fix(node.func, ctx),
        )

    @staticmethod
    def _fix(func, ctx) -> Fix | None:
        if isinstance(func, ast.Attribute):
            imports = ensure_import(ctx, "asgiref.sync", "iscoroutinefunction")
            if imports is None:
                return None
            edit = Edit(ctx.source.start(func), ctx.source.end(func), "iscoroutinefunction")
            return Fix("Use `asgiref.sync.iscoroutinefunction`", tuple(sorted((edit, *imports))))
        if not isinstance(func, ast.Name):
            return None
        for stmt in ctx.file.tree.body:
            if (
                isinstance(stmt, ast.ImportFrom)
                and stmt.module == "asyncio"
                and stmt.level == 0
                and len(stmt.names) == 1
                and (stmt.names[0].asname or stmt.names[0].name) == func.id
            ):
                alias = stmt.names[0]
                text = f"from asgiref.sync import iscoroutinefunction{f' as {alias.asname}' if alias.asname else ''}"
                edit = Edit(ctx.source.start(stmt), ctx.source.end(stmt), text)
                return Fix("Import `iscoroutinefunction` from `asgiref.sync`", (edit,))
        return None
