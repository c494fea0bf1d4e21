"""The project-wide model index: which classes are models, managers and querysets, which
attributes of a model are relations, and where signals are defined.

Built statically, without importing the user's code.  Only files that can define such classes
are parsed: a regex over class headers finds the names that (transitively) extend a model,
manager or queryset base, so the cost tracks the model code, not the size of the tree.
"""

from __future__ import annotations

import ast
import re
from collections import defaultdict
from dataclasses import dataclass, field
from functools import cached_property
from typing import Callable, Iterable

from . import django_api as api
from .config import DEFAULT_TWIN_PATTERNS
from .imports import import_bindings, qualify

RELATION_FIELDS = {
    **dict.fromkeys(
        (
            "django.db.models.ForeignKey",
            "django.db.models.fields.related.ForeignKey",
            "mptt.fields.TreeForeignKey",
            "modelcluster.fields.ParentalKey",
        ),
        "fk",
    ),
    **dict.fromkeys(
        ("django.db.models.OneToOneField", "django.db.models.fields.related.OneToOneField"), "o2o"
    ),
    **dict.fromkeys(
        (
            "django.db.models.ManyToManyField",
            "django.db.models.fields.related.ManyToManyField",
            "modelcluster.fields.ParentalManyToManyField",
        ),
        "m2m",
    ),
    **dict.fromkeys(
        ("django.contrib.contenttypes.fields.GenericForeignKey",), "gfk"
    ),
    **dict.fromkeys(
        ("django.contrib.contenttypes.fields.GenericRelation",), "generic"
    ),
}

# Abstract model bases from Django and widely used packages, with no project source to read.
EXTERNAL_MODEL_BASES = frozenset(
    {
        api.MODEL_BASE,
        "django.db.models.base.Model",
        "django.contrib.auth.models.AbstractUser",
        "django.contrib.auth.models.AbstractBaseUser",
        "django.contrib.auth.base_user.AbstractBaseUser",
        "django.contrib.auth.models.PermissionsMixin",
        "django.contrib.sessions.base_session.AbstractBaseSession",
        "django_extensions.db.models.TimeStampedModel",
        "django_extensions.db.models.TitleSlugDescriptionModel",
        "model_utils.models.TimeStampedModel",
        "model_utils.models.SoftDeletableModel",
        "model_utils.models.StatusModel",
        "mptt.models.MPTTModel",
        "polymorphic.models.PolymorphicModel",
        "treebeard.mp_tree.MP_Node",
        "treebeard.ns_tree.NS_Node",
        "treebeard.al_tree.AL_Node",
        "wagtail.models.Page",
        "modelcluster.models.ClusterableModel",
    }
)
USER_MODEL_BASES = frozenset(
    {
        "django.contrib.auth.models.AbstractUser",
        "django.contrib.auth.models.AbstractBaseUser",
        "django.contrib.auth.base_user.AbstractBaseUser",
    }
)

MANAGER_BASE = "django.db.models.Manager"
# Where Django's model field classes live (forms and serializers have fields too).
MODEL_FIELD_MODULES = (
    "django.db.models.",
    "django.contrib.postgres.fields",
    "django.contrib.gis.db.models.",
    "django.contrib.contenttypes.fields.",
)
# Model fields whose value on an instance is a FieldFile (django/db/models/fields/files.py).
FILE_FIELDS = frozenset(
    f"django.db.models{module}.{name}"
    for module in ("", ".fields.files")
    for name in ("FileField", "ImageField")
)
_REVERSE_KINDS = {"fk": "reverse_fk", "o2o": "reverse_o2o", "m2m": "reverse_m2m"}
_CLASS_HEADER = re.compile(r"^[ \t]*class[ \t]+(\w+)[ \t]*\(([^)]*)\)", re.MULTILINE)
_ROOT_NAMES = {
    "model": {"Model", *(q.rsplit(".", 1)[1] for q in EXTERNAL_MODEL_BASES)},
    "manager": {"Manager", "BaseManager", "UserManager", "BaseUserManager"},
    "queryset": {"QuerySet"},
}
_MODULE_FUNCTION = re.compile(r"^(async[ \t]+)?def[ \t]+(\w+)", re.MULTILINE)
_IMPORT_FROM = re.compile(r"^[ \t]*(?:from[ \t]+([\w.]+)[ \t]+import|import[ \t]+([\w.]+))", re.MULTILINE)
_ASYNC_DEF = re.compile(r"\basync[ \t]+def[ \t]+(\w+)")
_AUTH_USER_MODEL = re.compile(r"""^AUTH_USER_MODEL\s*=\s*["']([\w.]+)["']""", re.MULTILINE)


@dataclass(frozen=True)
class Relation:
    """A relation attribute of a model instance, seen from that model."""

    name: str
    kind: str  # fk, o2o, m2m, gfk, generic; reverse_fk, reverse_o2o, reverse_m2m
    target: str | None  # the model at the other end (qualname), None when unresolved
    nullable: bool = False

    @property
    def is_manager(self) -> bool:
        """Whether reading the attribute gives a related manager (lazy) rather than an instance."""
        return self.kind in ("m2m", "generic", "reverse_fk", "reverse_m2m")


@dataclass
class ManagerSpec:
    manager_class: str | None = None  # None: plain models.Manager
    queryset_class: str | None = None


@dataclass
class ClassInfo:
    qualname: str
    name: str
    module: str
    path: str
    line: int
    bases: tuple[str, ...]
    abstract: bool = False
    methods: frozenset[str] = frozenset()
    # For QuerySet/Manager classes: methods that only chain lazy QuerySet methods.
    lazy_methods: frozenset[str] = frozenset()
    # For Manager classes built with `Manager.from_queryset(QS)`.
    queryset_class: str | None = None
    # For models: declared relation fields as (name, kind, raw target reference, null, related_name).
    declared_relations: list[tuple[str, str, str | None, bool, str | None]] = field(
        default_factory=list
    )
    managers: dict[str, ManagerSpec] = field(default_factory=dict)
    # For models: names of the concrete (non-relation) fields declared in the body.
    field_names: frozenset[str] = frozenset()
    # For models: the FileField/ImageField fields among them (a FieldFile on the instance).
    file_fields: frozenset[str] = frozenset()
    # The body declares fields of Django's model API (`models.CharField(...)`, a relation).
    declares_model_fields: bool = False


@dataclass
class Model:
    qualname: str
    name: str
    app_label: str
    abstract: bool
    is_user: bool
    relations: dict[str, Relation]
    managers: dict[str, ManagerSpec]
    methods: frozenset[str]
    # Concrete fields, relations to one object included: what only()/defer() can leave unloaded.
    field_names: frozenset[str] = frozenset()
    file_fields: frozenset[str] = frozenset()  # FileField/ImageField: a FieldFile on the instance


@dataclass
class FileFacts:
    """What one file gives the index, read from its text alone, so it is kept by the text's
    hash and read again only when the file changes.  Its classes are read only when the file
    turns out to define model, manager or queryset classes (which depends on other files)."""

    headers: tuple[tuple[str, frozenset[str]], ...]  # class name, the names in its bases
    declares_fields: bool  # "Field(" in the text
    from_queryset: bool  # ".from_queryset(" in the text
    user_model_ref: str | None  # AUTH_USER_MODEL = "app.Model" (a settings file)
    signals: tuple[str, ...]  # qualified names of the signals it defines
    twins: tuple[str, tuple[tuple[str, tuple[str, bool]], ...]] | None  # module, its twin pairs
    # `models` modules it imports by absolute name (`corelib.plugin.models`), which an
    # installed package may provide.
    imported_models: tuple[str, ...] = ()
    classes: tuple[ClassInfo, ...] | None = None
    # The names of its `async def`s, methods included: which sync methods could have a twin.
    async_names: tuple[str, ...] = ()

    def summary(self) -> tuple:
        """What other files' findings can depend on, besides its classes (in a fixed order:
        it is fingerprinted, and a set's order changes with each process's string hashing)."""
        headers = tuple((name, tuple(sorted(bases))) for name, bases in self.headers)
        return (
            headers, self.declares_fields, self.from_queryset, self.user_model_ref, self.signals, self.twins,
            self.imported_models, self.async_names,
        )


def file_facts(
    text: str, parse: Callable[[], tuple[ast.Module, str, bool] | None], twin_patterns: tuple[str, ...]
) -> FileFacts:
    """A file's facts; `parse()` gives its tree, asked for only when a fact needs it."""
    headers = ()
    if "class" in text:
        headers = tuple(
            (m.group(1), frozenset(re.findall(r"(\w+)\s*(?:[,\[(]|$)", m.group(2).strip() + ",")))
            for m in _CLASS_HEADER.finditer(text)
        )
    user_model_ref = None
    if "AUTH_USER_MODEL" in text:
        match = _AUTH_USER_MODEL.search(text)
        user_model_ref = match.group(1) if match else None
    signals: tuple[str, ...] = ()
    if "Signal(" in text:
        parsed = parse()
        if parsed is not None:
            try:
                signals = tuple(_signals_of(*parsed))
            except RecursionError:
                pass
    twins = _module_twins(text, parse, twin_patterns) if "async def" in text else None
    async_names = tuple(sorted(set(_ASYNC_DEF.findall(text)))) if "async" in text else ()
    return FileFacts(
        headers, "Field(" in text, ".from_queryset(" in text, user_model_ref, signals, twins,
        imported_models(text) if "models" in text else (), async_names=async_names,
    )


def imported_models(text: str) -> tuple[str, ...]:
    """Modules named `models` (or inside one) that the text imports, Django's own left out:
    its models the index knows already."""
    found = set()
    for match in _IMPORT_FROM.finditer(text):
        parts = (match.group(1) or match.group(2)).split(".")
        if "models" in parts[1:] and parts[0] not in ("", "django"):  # "": a relative import
            found.add(".".join(parts[: parts.index("models", 1) + 1]))
    return tuple(sorted(found))


def _signals_of(tree: ast.Module, module: str, is_package: bool) -> Iterable[str]:
    bindings = import_bindings(tree, module, is_package)
    for stmt in tree.body:
        if (
            isinstance(stmt, ast.Assign)
            and isinstance(stmt.value, ast.Call)
            and qualify(stmt.value.func, bindings) in api.SIGNAL_CLASSES
        ):
            for target in stmt.targets:
                if isinstance(target, ast.Name):
                    yield f"{module}.{target.id}"


def _module_twins(text: str, parse, patterns: tuple[str, ...]):
    """A module's twin pairs of module-level functions: (module, ((sync, (twin, whether the twin
    only runs the sync function)), ...)), or None.  Found by name first (a regex over `def`
    lines), so only a module that has a pair is parsed."""
    from .twins.pairs import twin_name

    sync, coroutines = set(), set()
    for match in _MODULE_FUNCTION.finditer(text):
        (coroutines if match.group(1) else sync).add(match.group(2))
    named = {}
    for name in sync:
        twin = next((twin_name(name, p) for p in patterns if twin_name(name, p) in coroutines), None)
        if twin is not None:
            named[name] = twin
    if not named:
        return None
    parsed = parse()
    if parsed is None:
        return None
    tree, module, _ = parsed
    functions = {s.name: s for s in tree.body if isinstance(s, (ast.FunctionDef, ast.AsyncFunctionDef))}
    found = []
    for name, twin in sorted(named.items()):
        function, coroutine = functions.get(name), functions.get(twin)
        if not (isinstance(function, ast.FunctionDef) and isinstance(coroutine, ast.AsyncFunctionDef)):
            continue
        if any(isinstance(n, (ast.Yield, ast.YieldFrom)) for n in ast.walk(function)):
            continue  # calling a generator runs nothing: choosing the sync one is deliberate
        delegates = any(isinstance(n, ast.Name) and n.id == name for n in ast.walk(coroutine))
        found.append((name, (twin, delegates)))
    return (module, tuple(found)) if found else None


def _app_label(module: str) -> str:
    parts = module.split(".")
    if parts[-1] == "models" and len(parts) > 1:
        return parts[-2]
    if "models" in parts:
        return parts[parts.index("models") - 1] if parts.index("models") else parts[0]
    return parts[-2] if len(parts) > 1 else parts[0]


class ProjectIndex:
    def __init__(self) -> None:
        self.classes: dict[str, ClassInfo] = {}
        self._by_name: dict[str, list[str]] = defaultdict(list)
        self._kinds: dict[str, str | None] = {}
        self.models: dict[str, Model] = {}
        self.signals: set[str] = set()
        # Module-level twin pairs: module → sync function → (its async twin, whether the twin
        # only runs the sync function).  ASL502 finds an imported function's twin here.
        self.module_twins: dict[str, dict[str, tuple[str, bool]]] = {}
        self.user_model_ref: str | None = None
        self.user_model: str | None = None
        # Every `async def` name in the project (ASL307 asks whether a twin can exist there).
        self.async_names: set[str] = set()
        for info in _builtin_classes():
            self._add(info)

    # -- building ---------------------------------------------------------------------------

    @classmethod
    def build(
        cls,
        texts: dict[str, str],
        parse: Callable[[str], tuple[ast.Module, str, bool] | None],
        twin_patterns: tuple[str, ...] = DEFAULT_TWIN_PATTERNS,
    ) -> "ProjectIndex":
        """`texts` maps paths to source; `parse(path)` returns (tree, module name, is_package);
        `twin_patterns` names async twins (`twins.patterns`)."""
        facts = {path: file_facts(text, lambda p=path: parse(p), twin_patterns) for path, text in texts.items()}
        return cls.assemble(facts, parse)

    @classmethod
    def assemble(
        cls, facts: dict[str, "FileFacts"], parse: Callable[[str], tuple[ast.Module, str, bool] | None]
    ) -> "ProjectIndex":
        """The index from each file's facts.  The classes of the files that define model,
        manager or queryset classes are read here, once per text: they are kept in the facts."""
        index = cls()
        for path in files_defining_model_classes(facts):
            file = facts[path]
            if file.classes is None:
                parsed = parse(path)
                try:
                    file.classes = tuple(_classes_of(path, *parsed)) if parsed is not None else ()
                except RecursionError:
                    file.classes = ()  # nested deeper than we follow: its classes stay unknown
            for info in file.classes:
                index._add(info)
        for file in facts.values():
            index.user_model_ref = index.user_model_ref or file.user_model_ref
            index.signals.update(file.signals)
            index.async_names.update(file.async_names)
            if file.twins:
                index.module_twins[file.twins[0]] = dict(file.twins[1])
        index.finish()
        return index

    def _add(self, info: ClassInfo) -> None:
        self.classes[info.qualname] = info
        self._by_name[info.name].append(info.qualname)

    def finish(self) -> None:
        # First: relations to settings.AUTH_USER_MODEL resolve through it.
        self.user_model = self.resolve_model_ref(self.user_model_ref or "auth.User", None)
        for qualname in self.classes:
            if self.kind(qualname) == "model":
                self.models[qualname] = self._model(qualname)
        self._add_reverse_relations()

    # -- queries ----------------------------------------------------------------------------

    @cached_property
    def reverse_managers(self) -> dict[str, Relation]:
        """`<model>_set` accessors (reverse foreign keys and many-to-many without a
        related_name) that lead to one model whichever model they are read on."""
        found: dict[str, set[Relation]] = defaultdict(set)
        for model in self.models.values():
            for name, relation in model.relations.items():
                if name.endswith("_set") and relation.kind in ("reverse_fk", "reverse_m2m"):
                    found[name].add(relation)
        return {
            name: next(iter(relations))
            for name, relations in found.items()
            if len({r.target for r in relations}) == 1 and next(iter(relations)).target is not None
        }

    @cached_property
    def relation_names(self) -> frozenset[str]:
        """The attributes through which a model reads one related object (a foreign key, a
        one-to-one, either way)."""
        return frozenset(
            name
            for model in self.models.values()
            for name, relation in model.relations.items()
            if relation.kind in ("fk", "o2o", "reverse_o2o")
        )

    def resolve_class(self, qualname: str | None) -> str | None:
        """A project or built-in class for a qualified name, following package re-exports."""
        if qualname is None:
            return None
        if qualname in self.classes:
            return qualname
        module, _, name = qualname.rpartition(".")
        candidates = [q for q in self._by_name.get(name, ()) if q.startswith(module + ".")]
        return candidates[0] if len(candidates) == 1 else None

    def kind(self, qualname: str | None) -> str | None:
        """'model', 'manager', 'queryset' or None for a class qualified name."""
        if qualname is None:
            return None
        if qualname in self._kinds:
            return self._kinds[qualname]
        self._kinds[qualname] = None  # cycles in bad code end here
        if qualname in EXTERNAL_MODEL_BASES:
            kind = "model"
        elif qualname in api.MANAGER_BASES:
            kind = "manager"
        elif qualname in api.QUERYSET_BASES:
            kind = "queryset"
        else:
            info = self.classes.get(self.resolve_class(qualname) or "")
            kind = None
            if info is not None:
                if info.queryset_class is not None:
                    kind = "manager"
                for base in info.bases:
                    kind = kind or self.kind(self.resolve_class(base) or base)
                if kind is None and info.declares_model_fields:
                    kind = "model"
        self._kinds[qualname] = kind
        return kind

    def ancestors(self, qualname: str) -> Iterable[ClassInfo]:
        """The class and its project/built-in ancestors, nearest first."""
        seen: set[str] = set()
        stack = [qualname]
        while stack:
            current = self.resolve_class(stack.pop(0))
            if current is None or current in seen:
                continue
            seen.add(current)
            info = self.classes[current]
            yield info
            stack.extend(info.bases)

    def model(self, qualname: str | None) -> Model | None:
        return self.models.get(self.resolve_class(qualname) or "")

    def lazy_methods(self, *class_names: str | None) -> frozenset[str]:
        """Lazy (SQL-free) methods that custom managers/querysets add, across their ancestors."""
        methods: set[str] = set()
        for name in class_names:
            for info in self.ancestors(name) if name else ():
                methods |= info.lazy_methods
                if info.queryset_class:
                    methods |= self.lazy_methods(info.queryset_class)
        return frozenset(methods)

    def is_user_manager(self, manager_class: str | None) -> bool:
        return manager_class is not None and any(
            info.qualname in api.USER_MANAGER_BASES for info in self.ancestors(manager_class)
        )

    def resolve_model_ref(self, ref: str | None, from_model: ClassInfo | None) -> str | None:
        """A model from a field's `to`: a qualified name, "self", "Model" or "app_label.Model"."""
        if ref is None:
            return None
        if ref == "self":
            return from_model.qualname if from_model else None
        if ref == "settings.AUTH_USER_MODEL":
            return self.user_model
        resolved = self.resolve_class(ref)
        if resolved is not None and self.kind(resolved) == "model":
            return resolved
        app_label, _, name = ref.rpartition(".")
        candidates = [q for q in self._by_name.get(name, ()) if self.kind(q) == "model"]
        if app_label:
            candidates = [q for q in candidates if _app_label(self.classes[q].module) == app_label]
        elif from_model is not None and len(candidates) > 1:
            candidates = [q for q in candidates if self.classes[q].module == from_model.module]
        return candidates[0] if len(candidates) == 1 else None

    # -- models -----------------------------------------------------------------------------

    def _model(self, qualname: str) -> Model:
        info = self.classes[qualname]
        relations: dict[str, Relation] = {}
        managers: dict[str, ManagerSpec] = {}
        methods: set[str] = set()
        field_names: set[str] = set()
        file_fields: set[str] = set()
        is_user = False
        for ancestor in reversed(list(self.ancestors(qualname))):
            methods |= ancestor.methods
            field_names |= ancestor.field_names
            file_fields |= ancestor.file_fields
            managers.update(ancestor.managers)
            is_user = is_user or bool(USER_MODEL_BASES.intersection((ancestor.qualname, *ancestor.bases)))
            for name, kind, ref, null, _ in ancestor.declared_relations:
                relations[name] = Relation(name, kind, self.resolve_model_ref(ref, info), null)
                if kind in ("fk", "o2o"):
                    field_names.add(name)
        managers.setdefault("objects", ManagerSpec())
        for name in ("_default_manager", "_base_manager"):
            managers.setdefault(name, managers["objects"])
        return Model(
            qualname, info.name, _app_label(info.module), info.abstract, is_user, relations,
            managers, frozenset(methods), frozenset(field_names), frozenset(file_fields),
        )

    def _add_reverse_relations(self) -> None:
        for model in list(self.models.values()):
            if model.abstract:
                continue
            declaring = {
                name: related_name
                for ancestor in self.ancestors(model.qualname)
                for name, _, _, _, related_name in ancestor.declared_relations
            }
            for relation in list(model.relations.values()):
                target = self.models.get(relation.target or "")
                related_name = declaring.get(relation.name)
                if target is None or relation.kind not in _REVERSE_KINDS or (
                    related_name or ""
                ).endswith("+"):
                    continue
                lower = model.name.lower()
                if related_name:
                    accessor = related_name.replace("%(class)s", lower).replace(
                        "%(app_label)s", model.app_label
                    )
                elif relation.kind == "o2o":
                    accessor = lower
                else:
                    accessor = f"{lower}_set"
                kind = _REVERSE_KINDS[relation.kind]
                target.relations.setdefault(
                    accessor, Relation(accessor, kind, model.qualname, relation.nullable)
                )


# -- reading class bodies ---------------------------------------------------------------------


def files_defining_model_classes(facts: dict[str, FileFacts]) -> list[str]:
    """The files whose classes (transitively) extend a model, manager or queryset base, found
    from their class headers alone."""
    known = set().union(*_ROOT_NAMES.values())
    # A class declaring model fields is a model whatever its base (an abstract model from a
    # package we cannot read): its file is read, and its subclasses with it.
    selected: set[str] = {p for p, f in facts.items() if f.headers and f.declares_fields}
    known.update(name for p in selected for name, _ in facts[p].headers)
    changed = True
    while changed:
        changed = False
        for path, file in facts.items():
            for name, bases in file.headers:
                if bases & known and (name not in known or path not in selected):
                    changed = changed or name not in known or path not in selected
                    known.add(name)
                    selected.add(path)
    # Files that define managers through `Manager.from_queryset(...)` at module level.
    selected |= {p for p, f in facts.items() if f.from_queryset}
    return sorted(selected)


def _classes_of(path: str, tree: ast.Module, module: str, is_package: bool) -> Iterable[ClassInfo]:
    bindings = import_bindings(tree, module, is_package)
    local = {s.name for s in tree.body if isinstance(s, ast.ClassDef)}

    def resolve(node: ast.expr) -> str | None:
        if isinstance(node, ast.Name) and node.id in local:
            return f"{module}.{node.id}"
        return qualify(node, bindings)

    for stmt in tree.body:
        if isinstance(stmt, ast.ClassDef):
            yield _class_info(stmt, path, module, resolve)
        elif isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name):
            # BookManager = models.Manager.from_queryset(BookQuerySet)
            spec = _manager_spec(stmt.value, resolve, called=False)
            if spec is not None:
                name = stmt.targets[0].id
                yield ClassInfo(
                    f"{module}.{name}", name, module, path, stmt.lineno, (MANAGER_BASE,),
                    queryset_class=spec.queryset_class,
                )


def _class_info(node: ast.ClassDef, path: str, module: str, resolve) -> ClassInfo:
    bases = tuple(
        b
        for b in (
            resolve(base) or _from_queryset_base(base, resolve) or ast.unparse(base)
            for base in node.bases
        )
        if b
    )
    info = ClassInfo(f"{module}.{node.name}", node.name, module, path, node.lineno, bases)
    for base in node.bases:
        spec = _manager_spec(base, resolve, called=False)
        if spec is not None:
            info.queryset_class = spec.queryset_class
    methods: set[str] = set()
    field_names: set[str] = set()
    file_fields: set[str] = set()
    for stmt in node.body:
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
            methods.add(stmt.name)
        elif isinstance(stmt, ast.ClassDef) and stmt.name == "Meta":
            info.abstract = any(
                isinstance(s, ast.Assign)
                and any(isinstance(t, ast.Name) and t.id == "abstract" for t in s.targets)
                and isinstance(s.value, ast.Constant)
                and s.value.value is True
                for s in stmt.body
            )
        elif isinstance(stmt, (ast.Assign, ast.AnnAssign)) and stmt.value is not None:
            targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
            names = [t.id for t in targets if isinstance(t, ast.Name)]
            if not names or not isinstance(stmt.value, ast.Call):
                continue
            relation = _relation(stmt.value, resolve)
            manager = _manager_spec(stmt.value, resolve, called=True)
            field_class = resolve(stmt.value.func) or ""
            is_field = (field_class or ast.unparse(stmt.value.func)).endswith("Field")
            if relation is not None or (is_field and field_class.startswith(MODEL_FIELD_MODULES)):
                info.declares_model_fields = True
            for name in names:
                if relation is not None:
                    info.declared_relations.append((name, *relation))
                elif manager is not None:
                    info.managers[name] = manager
                elif is_field:
                    field_names.add(name)
                    if field_class in FILE_FIELDS:
                        file_fields.add(name)
    info.methods = frozenset(methods)
    info.field_names = frozenset(field_names)
    info.file_fields = frozenset(file_fields)
    info.lazy_methods = _lazy_methods(node)
    return info


def _from_queryset_base(base: ast.expr, resolve) -> str | None:
    spec = _manager_spec(base, resolve, called=False)
    return spec.manager_class if spec else None


def _manager_spec(value: ast.expr, resolve, *, called: bool) -> ManagerSpec | None:
    """The manager an expression builds: `BookManager()`, `QS.as_manager()`,
    `Manager.from_queryset(QS)` (a class; instantiated when `called`)."""
    if called:
        if not isinstance(value, ast.Call):
            return None
        func = value.func
        if isinstance(func, ast.Attribute) and func.attr == "as_manager":
            return ManagerSpec(None, resolve(func.value))
        if isinstance(func, ast.Call):
            return _manager_spec(func, resolve, called=False)
        target = resolve(func)
        # A class we cannot see may still be a manager: the model index decides later.
        if target is not None and (target.rsplit(".", 1)[-1].endswith("Manager")):
            return ManagerSpec(target, None)
        return None
    if (
        isinstance(value, ast.Call)
        and isinstance(value.func, ast.Attribute)
        and value.func.attr == "from_queryset"
        and value.args
    ):
        return ManagerSpec(resolve(value.func.value), resolve(value.args[0]))
    return None


def _relation(call: ast.Call, resolve) -> tuple[str, str | None, bool, str | None] | None:
    kind = RELATION_FIELDS.get(resolve(call.func) or "")
    if kind is None:
        return None
    keywords = {k.arg: k.value for k in call.keywords if k.arg}
    to = call.args[0] if call.args else keywords.get("to")
    ref: str | None = None
    if isinstance(to, ast.Constant) and isinstance(to.value, str):
        ref = to.value
    elif isinstance(to, ast.Attribute) and ast.unparse(to) == "settings.AUTH_USER_MODEL":
        ref = "settings.AUTH_USER_MODEL"
    elif to is not None:
        ref = resolve(to)
    null = keywords.get("null")
    related_name = keywords.get("related_name")
    return (
        kind,
        ref,
        isinstance(null, ast.Constant) and null.value is True,
        related_name.value
        if isinstance(related_name, ast.Constant) and isinstance(related_name.value, str)
        else None,
    )


def _lazy_methods(node: ast.ClassDef) -> frozenset[str]:
    """Methods whose every return chains only lazy QuerySet calls on `self`/`super()`."""
    functions = {s.name: s for s in node.body if isinstance(s, ast.FunctionDef)}
    lazy: set[str] = set()
    chainable = set(api.LAZY_QUERYSET_METHODS) | {"get_queryset"}

    def is_lazy_chain(expr: ast.expr | None) -> bool:
        if not isinstance(expr, ast.Call) or not isinstance(expr.func, ast.Attribute):
            return False
        if expr.func.attr not in chainable and expr.func.attr not in lazy:
            return False
        root = expr.func.value
        if isinstance(root, ast.Name) and root.id == "self":
            return True
        if isinstance(root, ast.Call) and isinstance(root.func, ast.Name) and root.func.id == "super":
            return True
        return is_lazy_chain(root)

    returned = {
        name: [r.value for r in own_returns(function.body)]
        for name, function in functions.items()
        if not name.startswith("__")
    }
    changed = True
    while changed:
        changed = False
        for name, values in returned.items():
            if name not in lazy and values and all(is_lazy_chain(value) for value in values):
                lazy.add(name)
                changed = True
    return frozenset(lazy)


def own_returns(body: list[ast.stmt]) -> Iterable[ast.Return]:
    """The function's `return` statements, found through statements only (a return is never
    inside an expression), not those of functions defined in it."""
    for stmt in body:
        if isinstance(stmt, ast.Return):
            yield stmt
        elif not isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            for field in ("body", "orelse", "finalbody", "handlers", "cases"):
                block = getattr(stmt, field, None)
                if block:
                    yield from own_returns(block)


def _builtin_classes() -> list[ClassInfo]:
    """django.contrib models and managers that projects use without their source."""
    auth = "django.contrib.auth.models"

    def model(name, module, bases, relations=(), managers=None, abstract=False):
        info = ClassInfo(f"{module}.{name}", name, module, "<django>", 0, bases, abstract)
        info.declared_relations = list(relations)
        info.managers = managers or {}
        return info

    user_manager = {"objects": ManagerSpec(f"{auth}.UserManager")}
    return [
        ClassInfo(f"{auth}.UserManager", "UserManager", auth, "<django>", 0, (MANAGER_BASE,)),
        model("PermissionsMixin", auth, (api.MODEL_BASE,), [
            ("groups", "m2m", f"{auth}.Group", False, "user_set"),
            ("user_permissions", "m2m", f"{auth}.Permission", False, "user_set"),
        ], abstract=True),
        model("AbstractUser", auth, (f"{auth}.AbstractBaseUser", f"{auth}.PermissionsMixin"), managers=user_manager, abstract=True),
        model("User", auth, (f"{auth}.AbstractUser",), managers=user_manager),
        model("Group", auth, (api.MODEL_BASE,), [("permissions", "m2m", f"{auth}.Permission", False, None)]),
        model("Permission", auth, (api.MODEL_BASE,), [
            ("content_type", "fk", "django.contrib.contenttypes.models.ContentType", False, None),
        ]),
        model("ContentType", "django.contrib.contenttypes.models", (api.MODEL_BASE,)),
        model("Session", "django.contrib.sessions.models", (api.MODEL_BASE,)),
        model("Site", "django.contrib.sites.models", (api.MODEL_BASE,)),
    ]


def external_model(qualname: str) -> Model:
    """A model of an installed package whose source the index has not read (`from
    corelib.models import Artifact`): it has managers and can be saved, but no relation of it
    is known, so reading one is never flagged."""
    module, _, name = qualname.rpartition(".")
    managers = dict.fromkeys(("objects", "_default_manager", "_base_manager"), ManagerSpec())
    return Model(qualname, name, _app_label(module), False, False, {}, managers, frozenset())
