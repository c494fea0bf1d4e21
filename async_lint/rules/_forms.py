"""What form rules share: the form class a value was built from, and whether validating or
saving it queries the database."""

from __future__ import annotations

import ast
from dataclasses import dataclass

from ..semantic import assigned_once
from ._class_chain import class_chain, declared_fields, included_relations, meta

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
    chain, external = class_chain(qualname, ctx)
    model_form = bool(external & _MODEL_FORMS)
    if not chain or not (model_form or external & _FORMS):
        return None
    query = _declared_choice_field(chain)
    found = meta(chain)
    if query is None and model_form and found is not None:
        relations = included_relations(*found, ctx, _QUERYING_RELATIONS)
        if relations:
            query = f"the relation field `{relations[0]}` is a ModelChoiceField, which looks the submitted value up"
    return FormFacts("form", model_form, query)


def _declared_choice_field(chain) -> str | None:
    for attribute, name, _ in declared_fields(chain):
        if name in _CHOICE_FIELDS:
            return f"`{attribute}` is a {name}, which looks the submitted value up"
    return None
