"""What the ASL5 rules share: the twin pairs of the file being checked, judged once per file.

Not a rule module (it defines no `Rule`); named `asl5_*` to sit with the rules that use it.
"""

from __future__ import annotations

import ast

from .. import twins
from ..context import Context


class FileTwinIndex(twins.FileTwins):
    """The file's pairs (`twins.FileTwins`), and which statements each container defines."""

    def __init__(self, ctx: Context):
        super().__init__(ctx.source, ctx.file.tree, ctx.file.imports, ctx.twins, ctx.file.index.relation_names)
        self._bodies: dict[int, set[int]] = {}  # container → its statements (ids)

    def defines(self, container: ast.Module | ast.ClassDef, function: ast.AST) -> bool:
        """Whether `function` is a statement of the container's own body (a set lookup: a
        module of thousands of functions asks this of each)."""
        body = self._bodies.get(id(container))
        if body is None:
            body = self._bodies[id(container)] = {id(stmt) for stmt in container.body}
        return id(function) in body


_INDEX: list[tuple[object, FileTwinIndex]] = []


def index_for(ctx: Context) -> FileTwinIndex:
    """One index per checked file (the file model is new for every check of a text)."""
    if _INDEX and _INDEX[0][0] is ctx.file:
        return _INDEX[0][1]
    index = FileTwinIndex(ctx)
    _INDEX[:] = [(ctx.file, index)]
    return index


def container_of(ctx: Context, function: ast.AST) -> ast.Module | ast.ClassDef | None:
    """The class or module body that directly defines `function` (the `async def` being checked,
    whose own scope is `ctx.scope`); None for functions nested in functions or under `if`/`try`."""
    scope = ctx.scope
    if scope is None or scope.node is not function or scope.parent is not None:
        return None
    container = scope.owner if scope.owner is not None else ctx.file.tree
    return container if index_for(ctx).defines(container, function) else None
