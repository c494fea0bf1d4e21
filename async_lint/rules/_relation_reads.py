"""What ASL2 rules share: which attribute reads on a model instance load a relation."""

from __future__ import annotations

import ast

from ..project import Relation
from ..semantic import Instance, iter_scope_nodes

# Reading these gives an object, through a descriptor that queries when it is not cached.
ONE_OBJECT = frozenset({"fk", "o2o", "reverse_o2o", "gfk"})


def relation_read(node: ast.Attribute, ctx) -> tuple[Instance, Relation] | None:
    """(instance, relation) when `node` reads a to-one relation of a model instance."""
    if not isinstance(node.ctx, ast.Load):
        return None
    instance = ctx.infer(node.value)
    if not isinstance(instance, Instance) or instance.model is None:
        return None
    relation = instance.model.relations.get(node.attr)
    if relation is None or relation.kind not in ONE_OBJECT:
        return None
    return instance, relation


def assigned_before(node: ast.Attribute, ctx) -> bool:
    """`book.author = a` earlier in the function caches the relation: reading it is free."""
    target = ast.dump(node)
    for stmt in iter_scope_nodes(ctx.scope.node.body):
        if isinstance(stmt, (ast.Assign, ast.AnnAssign)) and stmt.lineno < node.lineno:
            targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
            if any(ast.dump(t).replace("Store()", "Load()") == target for t in targets):
                return True
    return False


def loader(relation: Relation) -> str:
    return "prefetch_related" if relation.kind == "gfk" else "select_related"
