"""Regenerating one twin of a pair from the other (ASL501).

- From the async twin (`canonical = "async"`): the sync twin becomes the async body in sync form,
  as psycopg generates its sync code: `await` goes, `async for`/`async with`/async
  comprehensions become their sync statements, `a`-twin calls call their sync names (the same
  tables and evidence `twins.SyncForm` reads them with), `sync_to_async(f)(...)` becomes
  `f(...)`, and an awaited call of the module's (or the class's) own coroutine function with
  no sync twin becomes `async_to_sync(f)(...)`.  Anything else async (an `async with` over an
  unknown context manager, an awaited library coroutine such as `asyncio.wait_for(...)`, an
  `await` of a value) means no fix: there is no sync form to write.
- From the sync twin (`canonical = "sync"`): the async twin delegates,
  `return await sync_to_async(self.x)(...)`, which is consistent by construction.

Both keep the regenerated twin's name, decorators and docstring.  The rewrite is structural, so
it is done with libcst (comments of the canonical body survive), paid only for the pairs being
regenerated.  A regeneration is offered only if the pair, read again from the new text, compares
equal (or delegating): the fix engine's parse check and fixpoint then hold by construction.
"""

from __future__ import annotations

import ast

from .. import twins
from ..context import Context
from ..diagnostics import Applicability, Edit, Fix

UNSAFE = Applicability.UNSAFE


def regenerate(ctx: Context, comparison: twins.Comparison, names: twins.Names, canonical: str) -> Fix | None:
    try:  # libcst is imported only when something is rewritten
        from . import twin_rewrite as rewrite
    except ImportError:  # pragma: no cover - libcst is not installed
        return None
    pair = comparison.pair
    try:
        if canonical == "async":
            edit, extra = rewrite.sync_from_async(ctx, pair, names)
            message = f"Regenerate `{pair.sync.name}()` from `{pair.async_.name}()`"
        else:
            edit, extra = rewrite.async_from_sync(ctx, pair)
            message = f"Regenerate `{pair.async_.name}()` as a `sync_to_async` wrapper of `{pair.sync.name}()`"
    except (rewrite.CannotRegenerate, rewrite.cst.ParserSyntaxError, RecursionError):
        return None
    if not _verified(ctx, pair, names, [edit, *extra]):
        return None
    return Fix(message, tuple(sorted({edit, *extra})), UNSAFE)


# -- verification ---------------------------------------------------------------------------------


def _verified(ctx: Context, pair: twins.TwinPair, names: twins.Names, edits: list[Edit]) -> bool:
    """The pair, read again from the fixed text, agrees."""
    from ..fixes import apply_edits

    text = apply_edits(ctx.source.text, sorted(set(edits)))
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return False
    imports = dict(names.imports)
    for stmt in tree.body:  # an import the fix added
        if isinstance(stmt, ast.ImportFrom) and stmt.level == 0 and stmt.module:
            for alias in stmt.names:
                imports.setdefault(alias.asname or alias.name, f"{stmt.module}.{alias.name}")
    new_names = twins.names_for(tree, imports, names.patterns)
    lines = text.splitlines()
    for body, owner, path in twins.iter_containers(tree):
        if path != pair.path:
            continue
        for candidate in twins.find_pairs(body, owner, names.patterns, path):
            if candidate.names == pair.names:
                verdict = twins.compare(candidate, new_names, lines).verdict
                return verdict in (twins.EQUAL, twins.DELEGATING)
    return False
