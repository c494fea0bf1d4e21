"""What form rules share: the form class a value was built from, and whether validating or
saving it queries the database."""

from __future__ import annotations

import ast
from dataclasses import dataclass

from ..semantic import assigned_once

_MODEL_FORMS = frozenset({"django.forms.ModelForm", "django.forms.models.ModelForm", "django.forms.models.BaseModelForm"})
_FORMS = frozenset({"django.forms.Form", "django.forms.forms.Form", "django.forms.BaseForm", "django.forms.forms.BaseForm"})
_CHOICE_FIELDS = frozenset({"ModelChoiceField", "ModelMultipleChoiceField"})
_FORMSET_FACTORIES = frozenset(
    {
        "django.forms.modelformset_factory", "django.forms.models.modelformset_factory",
        "django.forms.inlineformset_factory", "django.forms.models.inlineformset_factory",
    }
)
_QUERYING_RELATIONS = ("fk", "o2o", "m2m")
_MAX_BASES = 8


@dataclass(frozen=True)
class FormFacts:
    what: str  # "form", "formset"
    saves: bool  # save() writes model instances (a ModelForm, a model formset)
    validation_query: str | None  # why validating queries; None: it does not (or not known)


def form_of(node: ast.expr, ctx) -> FormFacts | None:
    """The form `node` is, when the function built it: `form = BookForm(request.POST)`."""
    if isinstance(node, ast.Name):
        node = assigned_once(node.id, ctx.scope.node.body)
    if not isinstance(node, ast.Call):
        return None
    maker = node.func
    if isinstance(maker, ast.Name) and maker.id not in ctx.file.module_classes:
        made_by = assigned_once(maker.id, ctx.scope.node.body) or assigned_once(maker.id, ctx.file.tree.body)
        if isinstance(made_by, ast.Call) and ctx.file.qualname_of(made_by.func) in _FORMSET_FACTORIES:
            return FormFacts("formset", True, "a model formset fetches the objects it edits")
    qualname = ctx.file.qualname_of(maker)
    if qualname is None or ctx.file.functions is None:
        return None
    key = ("form", qualname)
    if key not in ctx.file.memo:
        ctx.file.memo[key] = _form_class(qualname, ctx)
    return ctx.file.memo[key]


def _form_class(qualname: str, ctx) -> FormFacts | None:
    functions = ctx.file.functions
    found = functions.class_def(qualname)
    if found is None:
        return None
    model_form = False
    is_form = False
    query: str | None = None
    meta_seen = False
    stack = [found]
    for _ in range(_MAX_BASES):
        if not stack:
            break
        cls, file = stack.pop(0)
        for stmt in cls.body:
            if isinstance(stmt, ast.Assign) and isinstance(stmt.value, ast.Call):
                field = stmt.value.func
                name = field.attr if isinstance(field, ast.Attribute) else getattr(field, "id", "")
                if name in _CHOICE_FIELDS and query is None:
                    target = stmt.targets[0]
                    query = f"`{getattr(target, 'id', '?')}` is a {name}, which looks the submitted value up"
            if isinstance(stmt, ast.ClassDef) and stmt.name == "Meta" and not meta_seen:
                meta_seen = True
                query = query or _meta_relations(stmt, file, ctx)
        for base in cls.bases:
            base_name = file.qualname_of(base)
            if base_name in _MODEL_FORMS:
                model_form = is_form = True
            elif base_name in _FORMS:
                is_form = True
            elif base_name is not None:
                parent = functions.class_def(base_name)
                if parent is not None:
                    stack.append(parent)
    if not is_form:
        return None
    return FormFacts("form", model_form, query if (model_form or query) else None)


def _meta_relations(meta: ast.ClassDef, file, ctx) -> str | None:
    """The first relation field a ModelForm's Meta includes (its ModelChoiceField queries)."""
    values = {
        t.id: s.value for s in meta.body if isinstance(s, ast.Assign) for t in s.targets if isinstance(t, ast.Name)
    }
    model = ctx.file.index.model(file.qualname_of(values["model"])) if "model" in values else None
    if model is None:
        return None
    fields, exclude = values.get("fields"), values.get("exclude")
    names = _strings(fields) if fields is not None else None
    excluded = _strings(exclude) if exclude is not None else set()
    if excluded is None:
        return None
    if isinstance(fields, ast.Constant) and fields.value == "__all__":
        names = None
    elif fields is not None and names is None:
        return None  # fields we cannot read
    for name, relation in model.relations.items():
        if relation.kind in _QUERYING_RELATIONS and (names is None or name in names) and name not in excluded:
            kind = {"fk": "foreign key", "o2o": "one-to-one field", "m2m": "many-to-many field"}[relation.kind]
            return f"the {kind} `{name}` is a ModelChoiceField, which looks the submitted value up"
    return None


def _strings(node: ast.expr) -> set[str] | None:
    if isinstance(node, (ast.List, ast.Tuple)) and all(isinstance(e, ast.Constant) and isinstance(e.value, str) for e in node.elts):
        return {e.value for e in node.elts}
    return None
