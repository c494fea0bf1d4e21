"""A project class and its bases, followed across modules: what the form and serializer rules
read a class's declarations from."""

from __future__ import annotations

import ast

_MAX_CLASSES = 8


def class_chain(qualname: str, ctx) -> tuple[list[tuple[ast.ClassDef, object]], set[str]]:
    """The project class `qualname` and its project bases, nearest first (each with its file's
    model), and the qualified names of its bases outside the project (Django's, DRF's)."""
    functions = ctx.file.functions
    found = functions.class_def(qualname) if functions is not None else None
    chain: list[tuple[ast.ClassDef, object]] = []
    external: set[str] = set()
    stack = [found] if found is not None else []
    while stack and len(chain) < _MAX_CLASSES:
        cls, file = stack.pop(0)
        if any(cls is seen for seen, _ in chain):
            continue
        chain.append((cls, file))
        for base in cls.bases:
            name = _base_name(base, file)
            parent = functions.class_def(name) if name is not None else None
            if parent is not None:
                stack.append(parent)
            elif name is not None:
                external.add(name)
    return chain, external


def _base_name(base: ast.expr, file) -> str | None:
    """A base class's qualified name through the module's imports and classes; a builtin
    (`Exception`) is none, without looking at imports made inside functions."""
    root = base
    while isinstance(root, ast.Attribute):
        root = root.value
    if not isinstance(root, ast.Name) or (root.id not in file.imports and root.id not in file.module_classes):
        return None
    return file.qualname_of(base)


def declared_fields(chain):
    """(attribute, field class name, the call) of each `name = SomeField(...)` in the chain's
    class bodies, nearest class first: a form's or serializer's declared fields."""
    for cls, _ in chain:
        for stmt in cls.body:
            if isinstance(stmt, ast.Assign) and isinstance(stmt.value, ast.Call) and isinstance(stmt.targets[0], ast.Name):
                field = stmt.value.func
                yield stmt.targets[0].id, field.attr if isinstance(field, ast.Attribute) else getattr(field, "id", ""), stmt.value


def class_attribute(chain, name: str) -> tuple[ast.expr, object] | None:
    """The value of `name = ...` in the nearest class of the chain that assigns it."""
    for cls, file in chain:
        for stmt in cls.body:
            if isinstance(stmt, ast.Assign) and any(isinstance(t, ast.Name) and t.id == name for t in stmt.targets):
                return stmt.value, file
    return None


def defines(chain, *names: str) -> ast.FunctionDef | ast.AsyncFunctionDef | None:
    """The nearest method of one of `names` in the chain."""
    for cls, _ in chain:
        for stmt in cls.body:
            if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)) and stmt.name in names:
                return stmt
    return None


def meta(chain) -> tuple[dict[str, ast.expr], object] | None:
    """The nearest `class Meta` body's assignments, with the file it is in."""
    for cls, file in chain:
        for stmt in cls.body:
            if isinstance(stmt, ast.ClassDef) and stmt.name == "Meta":
                values = {
                    t.id: s.value for s in stmt.body if isinstance(s, ast.Assign) for t in s.targets if isinstance(t, ast.Name)
                }
                return values, file
    return None


def strings(node: ast.expr | None) -> set[str] | None:
    """The strings of a list or tuple literal (None: not one)."""
    if isinstance(node, (ast.List, ast.Tuple)) and all(isinstance(e, ast.Constant) and isinstance(e.value, str) for e in node.elts):
        return {e.value for e in node.elts}
    return None


def included_relations(values: dict[str, ast.expr], file, ctx, kinds: tuple[str, ...]) -> list[str] | None:
    """The relation fields (of `kinds`) a Meta's `fields`/`exclude` include from its `model`;
    None when the model or the field lists cannot be read."""
    model = ctx.file.index.model(file.qualname_of(values["model"])) if "model" in values else None
    if model is None:
        return None
    fields, exclude = values.get("fields"), values.get("exclude")
    excluded = strings(exclude) if exclude is not None else set()
    if excluded is None:
        return None
    if fields is None or (isinstance(fields, ast.Constant) and fields.value == "__all__"):
        names = None
    else:
        names = strings(fields)
        if names is None:
            return None
    return [
        name for name, relation in model.relations.items()
        if relation.kind in kinds and (names is None or name in names) and name not in excluded
    ]
