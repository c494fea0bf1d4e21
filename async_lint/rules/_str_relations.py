"""The relations a model's `__str__` reads: formatting an instance runs it."""

from __future__ import annotations

import ast

from ..project import Model
from ..semantic import Loading
from ._class_chain import class_chain, defines
from ._relation_reads import ONE_OBJECT


def str_relations(model: Model, ctx) -> tuple[str, ...]:
    """Lookups (`"author"`, `"author__user"`) of to-one relations that `__str__` reads on
    `self`, in the model's class or its project bases."""
    key = ("str_relations", model.qualname)
    if key not in ctx.file.memo:
        ctx.file.memo[key] = _read(model, ctx)
    return ctx.file.memo[key]


def _read(model: Model, ctx) -> tuple[str, ...]:
    chain, _ = class_chain(model.qualname, ctx)
    method = defines(chain, "__str__")
    if method is None:
        return ()
    found: list[str] = []
    for node in ast.walk(method):
        path = _self_path(node)
        if not path:
            continue
        current, lookup = model, []
        for name in path:
            relation = current.relations.get(name) if current is not None else None
            if relation is None or relation.kind not in ONE_OBJECT:
                break
            lookup.append(name)
            current = ctx.file.index.models.get(relation.target or "")
        if lookup and "__".join(lookup) not in found:
            found.append("__".join(lookup))
    # The longest paths only: "author__user" covers "author".
    return tuple(p for p in found if not any(o.startswith(p + "__") for o in found))


def _self_path(node: ast.AST) -> list[str]:
    """`self.author.user.username` → ["author", "user", "username"] (outermost reads only)."""
    if not isinstance(node, ast.Attribute):
        return []
    names = []
    while isinstance(node, ast.Attribute):
        names.append(node.attr)
        node = node.value
    return list(reversed(names)) if isinstance(node, ast.Name) and node.id == "self" else []


def unloaded(lookup: str, loading: Loading) -> bool:
    for name in lookup.split("__"):
        if not loading.loads_relation(name):
            return True
        loading = loading.below(name)
    return False
