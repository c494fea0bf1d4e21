"""What the serializer rule reads of a Django REST framework serializer: the class a value was
built from in the function (`BookSerializer(data=...)`, or a viewset's `self.get_serializer()`
through its `serializer_class`), and what its validation and saving do."""

from __future__ import annotations

import ast
from dataclasses import dataclass

from ..project import own_returns
from ..semantic import assigned_once
from ._class_chain import class_attribute, class_chain, declared_fields, defines, included_relations, meta

_MODEL_SERIALIZERS = frozenset(
    {
        "rest_framework.serializers.ModelSerializer", "rest_framework.serializers.HyperlinkedModelSerializer",
        "adrf.serializers.ModelSerializer",
    }
)
_SERIALIZERS = _MODEL_SERIALIZERS | {"rest_framework.serializers.Serializer", "adrf.serializers.Serializer"}
# Declared fields whose validation looks the submitted value up in their queryset.
_LOOKUP_FIELDS = frozenset({"PrimaryKeyRelatedField", "SlugRelatedField", "HyperlinkedRelatedField"})
_WRITABLE_RELATIONS = ("fk", "o2o", "m2m")


@dataclass(frozen=True)
class SerializerFacts:
    name: str
    model_serializer: bool
    validation_query: str | None  # why is_valid() queries; None: it does not, or not known
    async_save: bool  # the class's own save/create/update are `async def`: not Django's sync path
    adrf: bool  # an adrf serializer: `await s.asave()`, `await s.adata`
    methods: frozenset[str]  # the methods the project's classes of its chain define


def serializer_of(node: ast.expr, ctx) -> tuple[SerializerFacts, ast.Call] | None:
    """The serializer `node` is, when the function built it, and the call that built it.  A
    viewset's `get_serializer_class()` that returns one of several classes gives what they
    all agree on."""
    if isinstance(node, ast.Name):
        node = assigned_once(node.id, ctx.scope.node.body)
    if not isinstance(node, ast.Call):
        return None
    classes = _serializer_classes(node, ctx)
    facts = [_memoised_facts(q, ctx) for q in classes]
    if not facts or any(f is None for f in facts):
        return None
    return _agreed(facts), node


def _memoised_facts(qualname: str, ctx) -> SerializerFacts | None:
    key = ("serializer", qualname)
    if key not in ctx.file.memo:
        ctx.file.memo[key] = _facts(qualname, ctx)
    return ctx.file.memo[key]


def _agreed(facts: list[SerializerFacts]) -> SerializerFacts:
    if len(facts) == 1:
        return facts[0]
    queries = [f.validation_query for f in facts]
    return SerializerFacts(
        " or ".join(f.name for f in facts),
        all(f.model_serializer for f in facts),
        queries[0] if all(queries) else None,
        any(f.async_save for f in facts),
        all(f.adrf for f in facts),
        frozenset().union(*(f.methods for f in facts)),
    )


def _serializer_classes(call: ast.Call, ctx) -> list[str]:
    func = call.func
    if (
        isinstance(func, ast.Attribute) and func.attr == "get_serializer"
        and isinstance(func.value, ast.Name) and func.value.id == "self" and ctx.scope.owner is not None
    ):
        chain, _ = class_chain(f"{ctx.file.module}.{ctx.scope.owner.name}", ctx)
        if defines(chain, "get_serializer"):
            return []
        chooser = defines(chain, "get_serializer_class")
        if chooser is not None:
            return _returned_classes(chooser, chain, ctx)
        found = class_attribute(chain, "serializer_class")
        name = found[1].qualname_of(found[0]) if found is not None else None
        return [name] if name else []
    name = ctx.file.qualname_of(func)
    return [name] if name else []


def _returned_classes(chooser, chain, ctx) -> list[str]:
    """The classes `get_serializer_class()` returns, when every return names one."""
    file = next(f for cls, f in chain if chooser in cls.body)
    names = []
    for stmt in own_returns(chooser.body):
        name = file.qualname_of(stmt.value) if stmt.value is not None else None
        if name is None:
            return []
        names.append(name)
    return names


def _facts(qualname: str, ctx) -> SerializerFacts | None:
    chain, external = class_chain(qualname, ctx)
    if not chain or not external & _SERIALIZERS:
        return None
    model_serializer = bool(external & _MODEL_SERIALIZERS)
    name = chain[0][0].name
    query = _declared_lookup_field(chain)
    found = meta(chain)
    if query is None and model_serializer and found is not None:
        values, file = found
        read_only = _strings_of(values.get("read_only_fields"))
        relations = [r for r in included_relations(values, file, ctx, _WRITABLE_RELATIONS) or () if r not in read_only]
        if relations:
            query = f"the relation field `{relations[0]}` looks the submitted primary key up"
    writes = defines(chain, "save", "create", "update")
    return SerializerFacts(
        name,
        model_serializer,
        query,
        isinstance(writes, ast.AsyncFunctionDef),
        any(name.startswith("adrf.") for name in external),
        frozenset(s.name for cls, _ in chain for s in cls.body if isinstance(s, (ast.FunctionDef, ast.AsyncFunctionDef))),
    )


def _declared_lookup_field(chain) -> str | None:
    for attribute, name, call in declared_fields(chain):
        read_only = any(k.arg == "read_only" and isinstance(k.value, ast.Constant) and k.value.value is True for k in call.keywords)
        if name in _LOOKUP_FIELDS and not read_only:
            return f"`{attribute}` is a {name}, which looks the submitted value up"
    return None


def _strings_of(node: ast.expr | None) -> set[str]:
    if isinstance(node, (ast.List, ast.Tuple)):
        return {e.value for e in node.elts if isinstance(e, ast.Constant) and isinstance(e.value, str)}
    return set()
