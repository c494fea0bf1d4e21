"""What the template rules share: a call that renders a Django template on the event loop,
the context it is given, and what the template reads (async_lint/templates.py)."""

from __future__ import annotations

import ast
from dataclasses import dataclass

from ..project import Model
from ..semantic import Instance, Loading, QuerySet, Rows, assigned_once, iter_scope_nodes
from ..templates import ITEM, PRINTED, Path_, Reads
from ._class_chain import class_attribute, class_chain
from ._relation_reads import ONE_OBJECT, loader
from ._str_relations import str_relations, unloaded

_RENDER = "django.shortcuts.render"
_RENDER_TO_STRING = frozenset({"django.template.loader.render_to_string"})
_GET_TEMPLATE = frozenset({"django.template.loader.get_template", "django.template.loader.select_template"})
_TEMPLATE_RESPONSES = frozenset(
    {
        "django.template.response.TemplateResponse", "django.template.response.SimpleTemplateResponse",
    }
)
_INLINE_TEMPLATE = frozenset({"django.template.Template", "django.template.base.Template"})
_CONTEXTS = frozenset({"django.template.Context", "django.template.context.Context"})
_REQUEST_CONTEXTS = frozenset({"django.template.RequestContext", "django.template.context.RequestContext"})


@dataclass
class Rendering:
    call: ast.Call
    template: str  # the name, for messages
    reads: Reads
    context: dict[str, ast.expr]  # the context's entries with literal keys
    context_complete: bool  # False: entries we cannot read (`**extra`, `context.update(...)`)
    request: ast.expr | None  # rendered with this request (context processors run)

    def where(self, path: Path_) -> str:
        template, line = self.reads.paths[path]
        return f"{template}:{line}"


def rendering(call: ast.Call, ctx) -> Rendering | None:
    """The template `call` renders and what it reads, or None: not a render call, or the
    template is not the project's (or cannot be read)."""
    func = call.func
    name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else None
    if name not in ("render", "render_to_string"):
        return None  # most calls: decided without resolving a name
    key = ("rendering", call)
    if key not in ctx.file.memo:
        ctx.file.memo[key] = _rendering(call, ctx)
    return ctx.file.memo[key]


def _rendering(call: ast.Call, ctx) -> Rendering | None:
    functions = ctx.file.functions
    if functions is None:
        return None
    name = ctx.file.qualname_of(call.func)
    if name == _RENDER:
        names, context, request = _argument(call, 1, "template_name"), _argument(call, 2, "context"), _argument(call, 0, "request")
    elif name in _RENDER_TO_STRING:
        names, context, request = _argument(call, 0, "template_name"), _argument(call, 1, "context"), _argument(call, 2, "request")
    elif isinstance(call.func, ast.Attribute) and call.func.attr == "render" and _made_template(call.func.value, ctx):
        made = _made_template(call.func.value, ctx)
        made_by = ctx.file.qualname_of(made.func)
        context, request = _argument(call, 0, "context"), _argument(call, 1, "request")
        if made_by in _GET_TEMPLATE:
            names = _argument(made, 0, "template_name")
        elif made_by in _TEMPLATE_RESPONSES:
            # `response.render()` called in async code (returned unrendered, Django would render
            # it in a thread): the response's template, context and request.
            offset = 1 if made_by.endswith(".TemplateResponse") else 0
            names, context = _argument(made, offset, "template"), _argument(made, offset + 1, "context")
            request = _argument(made, 0, "request") if offset else None
        elif made_by in _INLINE_TEMPLATE and made.args and _string(made.args[0]) is not None:
            return _inline(call, _string(made.args[0]), context, ctx)
        else:
            return None
    else:
        return None
    template_names = _template_names(names, ctx)
    if not template_names:
        return None
    reads = functions.templates.reads(template_names)
    if reads is None:
        return None
    entries, complete = _context(context, call, ctx)
    return Rendering(call, template_names[0], reads, entries, complete, request)


def _inline(call: ast.Call, text: str, context: ast.expr | None, ctx) -> Rendering | None:
    """`Template("...").render(Context({...}))`: the context's dict, a RequestContext's request."""
    request = None
    if isinstance(context, ast.Call):
        made_by = ctx.file.qualname_of(context.func)
        if made_by in _CONTEXTS:
            context = _argument(context, 0, "dict_")
        elif made_by in _REQUEST_CONTEXTS:
            request, context = _argument(context, 0, "request"), _argument(context, 1, "dict_")
        else:
            return None
    entries, complete = _context(context, call, ctx)
    return Rendering(call, "the inline template", ctx.file.functions.templates.reads_text(text), entries, complete, request)


def _made_template(node: ast.expr, ctx) -> ast.Call | None:
    """The call that made the template `.render()` is called on: `get_template(...)` there, or
    bound once to the name."""
    if isinstance(node, ast.Name):
        node = assigned_once(node.id, ctx.scope.node.body)
    return node if isinstance(node, ast.Call) else None


def _argument(call: ast.Call, position: int, keyword: str) -> ast.expr | None:
    if len(call.args) > position and not any(isinstance(a, ast.Starred) for a in call.args[: position + 1]):
        return call.args[position]
    return next((k.value for k in call.keywords if k.arg == keyword), None)


def _string(node: ast.expr | None) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def _template_names(node: ast.expr | None, ctx) -> list[str]:
    if isinstance(node, ast.Name):
        node = assigned_once(node.id, ctx.scope.node.body)
    elif _self_attribute(node, ctx):
        # `self.template_name`: a class attribute of the view (or of a project base).
        chain, _ = class_chain(f"{ctx.file.module}.{ctx.scope.owner.name}", ctx)
        found = class_attribute(chain, node.attr)
        node = found[0] if found is not None else None
    if isinstance(node, (ast.List, ast.Tuple)):
        names = [_string(e) for e in node.elts]
        return names if all(names) else []
    name = _string(node)
    return [name] if name else []


def _self_attribute(node: ast.expr | None, ctx) -> bool:
    return (
        isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "self"
        and ctx.scope.owner is not None
    )


def _context(node: ast.expr | None, call: ast.Call, ctx) -> tuple[dict[str, ast.expr], bool]:
    if node is None:
        return {}, True
    if isinstance(node, ast.Name):
        return _context_variable(node.id, call, ctx)
    return _dict_entries(node)


def _dict_entries(node: ast.expr | None) -> tuple[dict[str, ast.expr], bool]:
    if isinstance(node, ast.Dict):
        entries = {k.value: v for k, v in zip(node.keys, node.values) if _string(k) is not None}
        return entries, len(entries) == len(node.keys)
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "dict" and not node.args:
        entries = {k.arg: k.value for k in node.keywords if k.arg}
        return entries, len(entries) == len(node.keywords)
    return {}, False


def _context_variable(name: str, call: ast.Call, ctx) -> tuple[dict[str, ast.expr], bool]:
    """`context = {...}`, then `context["k"] = v`: the entries set before the render call; any
    other use of the name (an update, a call it is passed to) leaves the context open."""
    entries, complete = _dict_entries(assigned_once(name, ctx.scope.node.body))
    subscripted = set()
    for node in iter_scope_nodes(ctx.scope.node.body):
        if isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name):
            subscripted.add(node.value)
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target = node.targets[0]
            if isinstance(target, ast.Subscript) and isinstance(target.value, ast.Name) and target.value.id == name:
                key = _string(target.slice)
                if key is None:
                    complete = False
                elif node.lineno < call.lineno:
                    entries[key] = node.value
    passed = {*call.args, *(k.value for k in call.keywords)}
    for node in iter_scope_nodes(ctx.scope.node.body):
        if isinstance(node, ast.Name) and node.id == name and isinstance(node.ctx, ast.Load):
            if node not in subscripted and node not in passed:
                complete = False  # handed to other code, updated, spread: entries we cannot see
    return entries, complete


# -- the context's values and what the template reads of them ----------------------------------


def unloaded_relations(model: Model | None, loading: Loading, below: Path_, ctx) -> list[tuple[str, str, Path_]]:
    """The relations a read path follows that `loading` did not load: (lookup, method, the
    path up to that relation).  A path through an unknown attribute or a method stops; a
    printed instance runs its model's `__str__` (the relations it reads)."""
    index = ctx.file.index
    found: list[tuple[str, str, Path_]] = []
    prefix: list[str] = []
    segments = list(below)
    while segments and model is not None:
        segment = segments.pop(0)
        if segment == PRINTED:
            for lookup in str_relations(model, ctx):
                if unloaded(lookup, loading):
                    found.append(("__".join((*prefix, lookup)), "select_related", (*prefix, *lookup.split("__"))))
            break
        relation = model.relations.get(segment)
        if relation is None:
            break
        prefix.append(segment)
        lookup = "__".join(prefix)
        if relation.kind in ONE_OBJECT:
            if not loading.loads_relation(segment):
                found.append((lookup, loader(relation), tuple(prefix)))
                break
        elif relation.is_manager:
            if not segments:
                break  # the manager itself, not evaluated
            if not loading.loads_relation(segment):
                found.append((lookup, "prefetch_related", tuple(prefix)))
                break
            if segments[0] == "all":
                segments.pop(0)
            if not segments or segments[0] != ITEM:
                break
            segments.pop(0)
        else:
            break
        model = index.models.get(relation.target or "")
        loading = loading.below(segment)
    return found


def elements(value) -> tuple[Model | None, Loading, ast.expr | None, bool] | None:
    """What a context value's reads start from: (model, loading, the query expression, whether
    the value is a collection whose reads begin with an element)."""
    if isinstance(value, QuerySet) and value.yields_instances and not value.raw:
        return value.model, value.loading, None, True
    if isinstance(value, Rows) and value.instance.model is not None:
        return value.instance.model, value.instance.loading, value.instance.source, True
    if isinstance(value, Instance) and value.origin in ("fetched", "related"):
        return value.model, value.loading, value.source, False
    return None


def as_instance(model: Model, loading: Loading, source: ast.expr | None) -> Instance:
    return Instance(model, "fetched", loading, source)
