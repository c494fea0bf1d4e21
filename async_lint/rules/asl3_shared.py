"""What the ASL3 rules share: a class's ancestry (this file, the model index, Django), where a
finding about a method is placed, and the fix that writes the missing twin beside it.

Not a rule module (it defines no `Rule`); named `asl3_*` to sit with the rules that use it.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field

from .. import django_api as api
from ..context import Context
from ..diagnostics import Applicability, Diagnostic, Fix
from ..fixers.missing_method_twin import (
    Generated,
    SuperTwin,
    async_translation,
    delegating_async_twin,
    insertion,
    super_method,
)


@dataclass
class Lineage:
    """A class's ancestors, the class itself left out."""

    qualnames: set[str] = field(default_factory=set)
    # Project ancestors (source in this file or in the model index): qualname → names they define.
    project: dict[str, frozenset[str]] = field(default_factory=dict)
    # Ancestors defined in this file, for reading their bodies.
    local: dict[str, ast.ClassDef] = field(default_factory=dict)
    # Every base was resolved: to this file, the model index, Django, or `object`.
    complete: bool = True

    def has(self, qualnames: frozenset[str] | set[str]) -> bool:
        return bool(self.qualnames & qualnames)

    def defines(self, name: str) -> bool:
        return any(name in names for names in self.project.values())


def is_stub(ctx: Context) -> bool:
    """A `.pyi` stub: it describes a module, it does not run (the ASL3/ASL4 rules skip it)."""
    return ctx.source.path.endswith(".pyi")


def auth_twins_apply(ctx: Context) -> bool:
    """The auth-twin rules speak: not a stub file, a project that runs on a Django whose async
    auth is native (5.2+; the supported range reaching it is enough), and not Django's own
    code, whose async halves are the reference."""
    return (
        not is_stub(ctx)
        and ctx.reaches(api.AUTH_BACKEND_TWIN_SINCE)
        and ctx.file.module.split(".")[0] != "django"
    )


def defined_names(node: ast.ClassDef) -> frozenset[str]:
    """Methods and class attributes a class body defines."""
    names = set()
    for stmt in node.body:
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
            names.add(stmt.name)
        elif isinstance(stmt, ast.Assign):
            names.update(t.id for t in stmt.targets if isinstance(t, ast.Name))
        elif isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name) and stmt.value is not None:
            names.add(stmt.target.id)
    return frozenset(names)


def methods_of(node: ast.ClassDef) -> dict[str, ast.FunctionDef | ast.AsyncFunctionDef]:
    return {s.name: s for s in node.body if isinstance(s, (ast.FunctionDef, ast.AsyncFunctionDef))}


def lineage(ctx: Context, node: ast.ClassDef) -> Lineage:
    found = Lineage()
    index = ctx.file.index
    module = ctx.file.module
    local_classes = ctx.file.module_classes
    seen: set[str] = set()
    # (expression or qualified name)
    stack: list[ast.expr | str] = list(node.bases)
    while stack:
        base = stack.pop()
        if (
            isinstance(base, ast.Call)
            and isinstance(base.func, ast.Attribute)
            and base.func.attr == "from_queryset"
        ):
            base = base.func.value  # `UserManager.from_queryset(QS)` is a UserManager subclass
        if isinstance(base, ast.expr):
            if isinstance(base, ast.Name) and base.id in local_classes and local_classes[base.id] is not node:
                qualname = f"{module}.{base.id}"
                if qualname in seen:
                    continue
                seen.add(qualname)
                local = local_classes[base.id]
                found.qualnames.add(qualname)
                found.project[qualname] = defined_names(local)
                found.local[qualname] = local
                stack.extend(local.bases)
                continue
            qualname = ctx.file.qualname_of(base) if not isinstance(base, ast.Name) or base.id != "object" else "object"
            if qualname is None:
                found.complete = False
                continue
        else:
            qualname = base
        if qualname in seen or qualname == "object":
            continue
        seen.add(qualname)
        resolved = index.resolve_class(qualname)
        info = index.classes.get(resolved or "")
        if info is not None:
            found.qualnames.update({qualname, info.qualname})
            if info.path != "<django>":
                found.project[info.qualname] = info.methods
            stack.extend(info.bases)
            continue
        found.qualnames.add(qualname)
        if not qualname.startswith("django."):
            found.complete = False
    return found


def class_diagnostic(ctx: Context, code: str, node: ast.ClassDef, message: str, fix: Fix | None) -> Diagnostic:
    """A finding on `class Name(...)`."""
    start = ctx.source.start(node)
    end = ctx.source.end(node.bases[-1]) + 1 if node.bases else ctx.source.text.find(node.name, start) + len(node.name)
    return Diagnostic(code, message, ctx.source.path, start, end, fix)


def calls_self_method(function: ast.AST, name: str) -> bool:
    """Whether the body calls `self.<name>` (directly or through `sync_to_async(self.<name>)`)."""
    for node in ast.walk(function):
        if (
            isinstance(node, ast.Attribute)
            and node.attr == name
            and isinstance(node.value, ast.Name)
            and node.value.id == "self"
        ):
            return True
    return False


def overridden_below(ctx: Context, owner: ast.ClassDef, sync: str, twin: str) -> bool:
    """Whether a project subclass of `owner` (in this file, or in the model index) would inherit
    the twin written on `owner` while its class hierarchy has a `sync` that `owner`'s does not:
    the subclass defines `sync` itself, or another of its bases (a mixin) does, without `twin`.
    A copy of `owner`'s body would skip that method."""
    qualname = f"{ctx.file.module}.{owner.name}"
    own_line = {qualname, *lineage(ctx, owner).project}

    def skipped(classes: dict[str, frozenset[str]]) -> bool:
        return any(sync in names and twin not in names for q, names in classes.items() if q not in own_line)

    for node in ctx.file.module_classes.values():
        if node is owner:
            continue
        found = lineage(ctx, node)
        if qualname in found.qualnames and skipped({f"{ctx.file.module}.{node.name}": defined_names(node), **found.project}):
            return True
    index = ctx.file.index
    for info in index.classes.values():
        if info.module == ctx.file.module or info.path == "<django>" or info.qualname == qualname:
            continue  # this file: read above, from its current text
        ancestors = {a.qualname: a.methods for a in index.ancestors(info.qualname) if a.path != "<django>"}
        if qualname in ancestors and skipped(ancestors):
            return True
    return False


def async_twin_fix(
    ctx: Context,
    owner: ast.ClassDef,
    function: ast.FunctionDef,
    twin: str,
    super_twins: dict[str, SuperTwin],
    *,
    exact: Applicability,
    delegated: Applicability,
) -> Fix | None:
    """The async twin, translated when that is exact, else delegating to the sync method.

    A translated twin copies this class's body, so it would skip the override of a subclass that
    redefines the sync method and inherits the twin: then the twin delegates (`self.<sync>` is
    looked up on the instance's class, as Django's own twin does)."""
    generated: Generated | None = None
    if not overridden_below(ctx, owner, function.name, twin):
        generated = async_translation(ctx, function, owner, twin, super_twins)
    if generated is None or not generated.exact:
        generated = delegating_async_twin(ctx, function, twin)
    if generated is None:
        return None
    edits = insertion(ctx, function, generated)
    if edits is None:
        return None
    if generated.exact:
        return Fix(f"Add `async def {twin}()`, translated from `{function.name}()`", edits, exact)
    return Fix(
        f"Add `async def {twin}()` that runs `{function.name}()` with `sync_to_async`", edits, delegated
    )


# Bases that bring no backend methods: a class on them is a backend by its shape alone.
_PLAIN_BASES = frozenset({"abc.ABC"})


def backend_kind(ctx: Context, node: ast.ClassDef, found: Lineage) -> str | None:
    """'model' (a ModelBackend), 'base' (a BaseBackend), 'plain' (a class with no base, or only
    `ABC`, that has the backend protocol: `authenticate(self, request, ...)` and
    `get_user(self, user_id)`)."""
    if found.has(api.MODEL_BACKENDS):
        return "model"
    if found.has({api.BASE_BACKEND}):
        return "base" if found.complete else None
    if all((isinstance(b, ast.Name) and b.id == "object") or ctx.file.qualname_of(b) in _PLAIN_BASES for b in node.bases):
        methods = methods_of(node)
        authenticate, get_user = methods.get("authenticate"), methods.get("get_user")
        if isinstance(authenticate, ast.FunctionDef) and isinstance(get_user, ast.FunctionDef):
            params = [a.arg for a in authenticate.args.args]
            if len(params) >= 2 and params[1] == "request" and len(get_user.args.args) == 2:
                return "plain"
    return None


# -- models -------------------------------------------------------------------------------------

MODEL_TWINS = {"save": "asave", "delete": "adelete", "refresh_from_db": "arefresh_from_db"}
# Model.asave/adelete/arefresh_from_db call `sync_to_async(self.<sync>)`: from the twin, the
# parent's sync method is what must run (django/db/models/base.py).
MODEL_SUPER_TWINS = {sync: SuperTwin(twin, delegates=True) for sync, twin in MODEL_TWINS.items()}


@dataclass
class ModelOverride:
    function: ast.FunctionDef
    sync: str
    twin: str
    extra: list[str]  # parameters the Django twin cannot pass
    refused: list[str] = field(default_factory=list)  # keywords the twin passes that it does not accept
    # The project ancestor whose `twin` this class inherits, when that twin skips the override
    # (it neither calls `self.<sync>` nor `super().<twin>`); None: Django's twin is inherited.
    inherited: str | None = None


def passed_keywords(sync: str, target) -> list[str]:
    """The keywords Django's twin always passes to the sync method (django/db/models/base.py): asave() all four,
    arefresh_from_db() `from_queryset` from 5.1 on."""
    if sync == "save":
        return ["force_insert", "force_update", "using", "update_fields"]
    if sync == "delete":
        return ["using", "keep_parents"]
    return ["using", "fields", *(["from_queryset"] if target >= (5, 1, 0) else [])]


def model_sync_overrides(ctx: Context, node: ast.ClassDef) -> list[ModelOverride]:
    """`save`/`delete`/`refresh_from_db` overrides of a model class without the async twin,
    when no project ancestor defines that twin either, or when the ancestor's twin is in this
    file and skips the override (`inherited`).  An ancestor's twin in another file is not judged."""
    if not ctx.reaches(api.MODEL_TWIN_SINCE) or not isinstance(ctx.parent, ast.Module):
        return []
    if ctx.file.index.kind(f"{ctx.file.module}.{node.name}") != "model":
        return []
    names = defined_names(node)
    methods = methods_of(node)
    found = None
    overrides = []
    for sync, twin in MODEL_TWINS.items():
        function = methods.get(sync)
        if not isinstance(function, ast.FunctionDef) or twin in names:
            continue
        found = found or lineage(ctx, node)
        inherited = None
        if found.defines(twin):
            if not ancestor_twin_skips(found, sync, twin, super_delegates=True):
                continue
            inherited = next(q for q, names in found.project.items() if twin in names)
        arguments = function.args
        declared = [a.arg for a in (*arguments.posonlyargs, *arguments.args)][1:] + [a.arg for a in arguments.kwonlyargs]
        extra = [name for name in declared if name not in api.MODEL_METHOD_PARAMETERS[sync]]
        keyword_names = {a.arg for a in (*arguments.args, *arguments.kwonlyargs)}
        refused = (
            []
            if arguments.kwarg is not None
            else [k for k in passed_keywords(sync, ctx.target) if k not in keyword_names]
        )
        overrides.append(ModelOverride(function, sync, twin, extra, refused, inherited))
    return overrides


# -- auth ---------------------------------------------------------------------------------------


def ancestor_twin_skips(found: Lineage, sync: str, twin: str, *, super_delegates: bool = False) -> bool | None:
    """When a project ancestor defines `twin`: True if it does not call `self.<sync>` (so an
    override of `sync` here is skipped), False if it does, None when its body is not in this
    file.  Also None when no ancestor defines it.  `super_delegates`: a `super().<twin>()` call
    also reaches `self.<sync>` (Django's model twins are `sync_to_async(self.<sync>)`)."""
    for qualname, names in found.project.items():
        if twin in names:
            local = found.local.get(qualname)
            if local is None:
                return None
            function = methods_of(local).get(twin)
            if function is None or calls_self_method(function, sync):
                return False
            return not (super_delegates and any(super_method(n) == twin for n in ast.walk(function)))
    return None


def auth_twin_findings(
    ctx: Context,
    code: str,
    node: ast.ClassDef,
    found: Lineage,
    methods: dict[str, str],
    super_twins: dict[str, SuperTwin],
    why,
):
    """Findings for each method of `methods` (sync → twin) that the class defines without its
    twin.  `why(sync, twin)` explains what the async path does instead."""
    names = defined_names(node)
    for name, function in methods_of(node).items():
        twin = methods.get(name)
        if twin is None or not isinstance(function, ast.FunctionDef) or twin in names:
            continue
        inherited = ancestor_twin_skips(found, name, twin) if found.defines(twin) else True
        if not inherited:
            continue
        fix = async_twin_fix(
            ctx, node, function, twin, super_twins, exact=Applicability.UNSAFE, delegated=Applicability.UNSAFE
        )
        yield ctx.report_definition(
            code, function, f"`{node.name}.{name}()` has no `{twin}()`: {why(name, twin)}; define `{twin}()` beside it", fix
        )
