"""Writing the missing half of a sync/async method pair (`save` → `asave`, `asave` → `save`,
`authenticate` → `aauthenticate`, ...) beside the half that exists.

Three ways, tried in this order by the ASL3 rules:

- `async_translation`: the sync body, made async.  `super().<name>(...)` becomes a call of the
  parent's twin, except where the parent's twin is `sync_to_async(self.<name>)` (Model.asave):
  calling it would run the override a second time, so the parent's sync method is run in a
  thread instead.  Every other statement goes through the ASL1/ASL2 rules' own safe fixes (the
  engine lints the generated method and `fixes.fix_text` applies them), so an ORM call becomes
  its `a`-twin for the target version, or `sync_to_async` below it.  The result is *exact* only
  when nothing was left that could now block or query on the event loop (see `_Exactness`).
- `delegating_async_twin`: `return await sync_to_async(self.<name>)(...)`, with the signature of
  the sync method, extra keyword parameters included.
- `sync_translation`: an async body made sync (`await super().asave()` → `super().save()`,
  `await qs.aget()` → `qs.get()`, `await sync_to_async(f)(x)` → `f(x)`, `async for` over a
  QuerySet → `for`); None as soon as one `await` or `async` construct has no known sync form.

The generated method is inserted after the existing one, with its indentation, as one text edit.
"""

from __future__ import annotations

import ast
import builtins
import functools
import io
import re
import tokenize
from dataclasses import dataclass

from .. import django_api as api
from ..context import Context
from ..diagnostics import Edit
from ..imports import import_bindings, module_name_for
from ..semantic import Cache, FileModel, Instance, Manager, QuerySet, Session, Signal, parents_of
from ..twins.translation import CannotTranslate, Names, translate
from ..source import SourceFile
from .expressions import needs_parentheses
from .imports import ensure_import
from .sync_to_async import wrapper_name

SYNC_TO_ASYNC = ("asgiref.sync", "sync_to_async")


@dataclass(frozen=True)
class SuperTwin:
    """How `super().<sync>(...)` is written in the async twin: `await super().<twin>(...)`, or,
    when the parent's twin delegates to `self.<sync>` (and so to the override being translated),
    `await sync_to_async(super().<sync>)(...)`."""

    twin: str
    delegates: bool


@dataclass(frozen=True)
class Generated:
    text: str  # the whole method, indented as the one it sits beside, no trailing line break
    imports: tuple[tuple[str, str], ...]  # (module, name) pairs the text needs
    exact: bool = True


# -- the method as text -----------------------------------------------------------------------


def _line_span(ctx: Context, function: ast.FunctionDef | ast.AsyncFunctionDef) -> tuple[int, int] | None:
    """From the start of the `def` line (decorators excluded) to the end of the last line, when
    nothing but indentation precedes the `def`."""
    source = ctx.source
    if source.indentation(function) is None:
        return None
    return source.line_starts[function.lineno - 1], source.end_of_line(function)


def _indent_of(ctx: Context, function: ast.AST) -> str:
    start = ctx.source.line_starts[function.lineno - 1]
    return ctx.source.text[start : ctx.source.start(function)]


def _body_indent(ctx: Context, function: ast.FunctionDef | ast.AsyncFunctionDef) -> str:
    first = function.body[0]
    if first.lineno != function.lineno:
        return _indent_of(ctx, first)
    return _indent_of(ctx, function) + ctx.source.indent_unit


def _header(ctx: Context, function: ast.FunctionDef | ast.AsyncFunctionDef) -> tuple[int, str, str] | None:
    """(offset just after the function's name, the parameter list with its parentheses, the
    return annotation with its arrow or ''), read with the tokenizer."""
    start = ctx.source.start(function)
    stop = ctx.source.start(function.body[0])
    header = ctx.source.text[start:stop]
    match = re.match(r"(?:async\s+)?def\s+(\w+)\s*", header)
    if match is None or match.group(1) != function.name:
        return None
    name_end = start + match.end(1)
    depth, params_start, params_end, colon = 0, None, None, None
    try:
        for token in tokenize.generate_tokens(io.StringIO(header).readline):
            if token.type != tokenize.OP:
                continue
            if token.string in "([{":
                if depth == 0 and token.string == "(" and params_start is None:
                    params_start = _offset_in(header, token.start)
                depth += 1
            elif token.string in ")]}":
                depth -= 1
                if depth == 0 and params_end is None:
                    params_end = _offset_in(header, token.end)
            elif token.string == ":" and depth == 0 and params_end is not None:
                colon = _offset_in(header, token.start)
                break
    except (tokenize.TokenError, IndentationError, SyntaxError):
        pass
    if params_start is None or params_end is None or colon is None:
        return None
    returns = ""
    if function.returns is not None:
        # From the tree: the text before the colon may hold a line continuation.
        annotation = ctx.text(function.returns)
        returns = f"-> ({annotation})" if "\n" in annotation or "\r" in annotation else f"-> {annotation}"
    return name_end, header[params_start:params_end], returns


def parameter_text(ctx: Context, function: ast.FunctionDef | ast.AsyncFunctionDef) -> str | None:
    """A function's parameter list as written, with its parentheses."""
    header = _header(ctx, function)
    return None if header is None else header[1]


def _offset_in(text: str, position: tuple[int, int]) -> int:
    row, column = position
    # The lines the tokenizer read (str.splitlines() also breaks at a form feed or U+2028).
    lines = io.StringIO(text).readlines()
    return sum(len(line) for line in lines[: row - 1]) + column


def _without_header_comments(text: str) -> str:
    """The method text without the comments on its header lines (they speak of the original:
    `# noqa`, `# type: ignore`, a note on the override)."""
    lines = text.split("\n")
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(text).readline))
    except (tokenize.TokenError, IndentationError, SyntaxError):
        return text
    depth = 0
    for token in tokens:
        if token.type == tokenize.OP and token.string in "([{":
            depth += 1
        elif token.type == tokenize.OP and token.string in ")]}":
            depth -= 1
        elif token.type == tokenize.COMMENT:
            row, column = token.start
            lines[row - 1] = lines[row - 1][:column].rstrip()
        elif token.type == tokenize.NEWLINE and depth == 0:
            break  # the end of the `def ...:` line
    return "\n".join(lines)


def forwarded_arguments(function: ast.FunctionDef | ast.AsyncFunctionDef, *, skip_first: bool = True) -> str:
    """The call arguments that pass a function's own parameters on (a method's `self` left out)."""
    arguments = function.args
    parts = [a.arg for a in (*arguments.posonlyargs, *arguments.args)][1 if skip_first else 0 :]
    if arguments.vararg is not None:
        parts.append("*" + arguments.vararg.arg)
    parts += [f"{a.arg}={a.arg}" for a in arguments.kwonlyargs]
    if arguments.kwarg is not None:
        parts.append("**" + arguments.kwarg.arg)
    return ", ".join(parts)


def _attribute_statements(ctx: Context, function: ast.FunctionDef | ast.AsyncFunctionDef) -> list[ast.Assign]:
    """The statements right after a method that set attributes on it (`delete.alters_data = True`)."""
    for container in (ctx.file.tree, *ctx.file.module_classes.values()):
        body = container.body
        at = next((i for i, stmt in enumerate(body) if stmt is function), None)
        if at is None:
            continue
        found = []
        for stmt in body[at + 1 :]:
            if not (
                isinstance(stmt, ast.Assign)
                and all(
                    isinstance(t, ast.Attribute) and isinstance(t.value, ast.Name) and t.value.id == function.name
                    for t in stmt.targets
                )
            ):
                break
            found.append(stmt)
        return found
    return []


def insertion(ctx: Context, beside: ast.FunctionDef | ast.AsyncFunctionDef, generated: Generated) -> tuple[Edit, ...] | None:
    """The edits that put `generated` after `beside` (one blank line between) and import what
    it needs; None when an import cannot be added.  Attribute statements that follow `beside`
    (`delete.alters_data = True`) stay with it; the twin gets its own `alters_data`, as
    Django marks `adelete`."""
    span = _line_span(ctx, beside)
    if span is None:
        return None
    newline = ctx.source.newline
    text = generated.text
    end = span[1]
    attributes = _attribute_statements(ctx, beside)
    if attributes:
        end = ctx.source.end_of_line(attributes[-1])
        twin = re.match(r"\s*(?:async\s+)?def\s+(\w+)", text)
        marked = [
            a for a in attributes
            if twin and len(a.targets) == 1 and a.targets[0].attr == "alters_data"
        ]
        if marked:
            text += f"\n{_indent_of(ctx, beside)}{twin.group(1)}.alters_data = {ctx.source.segment(marked[-1].value)}"
    # The line before keeps its own line break (CRLF in a file mixing endings).
    edits = [Edit(end, end, ctx.source.line_break_at(end) + newline + text.replace("\n", newline))]
    for module, name in generated.imports:
        imports = ensure_import(ctx, module, name)
        if imports is None:
            return None
        edits.extend(imports)
    return tuple(sorted(set(edits)))


# -- delegating ---------------------------------------------------------------------------------


def delegating_async_twin(ctx: Context, function: ast.FunctionDef, twin: str) -> Generated | None:
    """`async def <twin>(<same parameters>): return await sync_to_async(self.<name>)(...)`."""
    header = _header(ctx, function)
    if header is None or not (function.args.posonlyargs or function.args.args):
        return None
    # Generated text ends its lines with "\n" (insertion() writes the file's own line breaks);
    # a header copied from several lines carries the file's.
    parameters, returns = (part.replace("\r\n", "\n").replace("\r", "\n") for part in header[1:])
    wrapper = wrapper_name(ctx)
    indent = _indent_of(ctx, function)
    body = _body_indent(ctx, function)
    text = (
        f"{indent}async def {twin}{parameters}{' ' + returns if returns else ''}:\n"
        f"{body}return await {wrapper}(self.{function.name})({forwarded_arguments(function)})"
    )
    return Generated(text, (SYNC_TO_ASYNC,) if wrapper == "sync_to_async" else (), exact=False)


# -- sync → async -------------------------------------------------------------------------------

# Calls that do no I/O and leave nothing to await: safe to run on the event loop.
PURE_FUNCTIONS = frozenset(
    {
        "django.utils.text.slugify",
        "django.utils.timezone.now",
        "django.utils.timezone.localtime",
        "django.utils.timezone.localdate",
        "django.utils.timezone.make_aware",
        "django.utils.timezone.is_aware",
        "django.utils.translation.gettext",
        "django.utils.translation.gettext_lazy",
        "django.utils.translation.pgettext",
        "django.utils.translation.ngettext",
        "django.utils.crypto.get_random_string",
        "django.core.exceptions.ValidationError",
        "django.core.exceptions.PermissionDenied",
        "uuid.uuid4",
        "uuid.uuid1",
        "datetime.datetime.now",
        "datetime.datetime.utcnow",
        "datetime.date.today",
        "datetime.timedelta",
        "secrets.token_hex",
        "secrets.token_urlsafe",
        "json.dumps",
        "json.loads",
        "re.sub",
        "re.match",
        "re.search",
        "re.fullmatch",
    }
)
PURE_BUILTINS = frozenset(
    "abs all any bool bytes callable chr dict divmod enumerate float format frozenset hash int"
    " isinstance issubclass len list max min ord pow range reversed round set sorted str sum"
    " tuple type zip super".split()
) | frozenset(
    name for name, value in vars(builtins).items() if isinstance(value, type) and issubclass(value, BaseException)
)
# Relations whose read may run a query: the forward and reverse one-to-one and foreign keys.
_LAZY_RELATION_KINDS = frozenset({"fk", "o2o", "reverse_o2o", "gfk"})


def _translatable_shape(function: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    """No decorators, and nothing whose meaning changes when the body moves: nested functions,
    lambdas and classes (they stay sync), generators, context managers."""
    if function.decorator_list:
        return False
    for node in _own_nodes(function):
        if isinstance(
            node,
            (
                ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef, ast.Yield,
                ast.YieldFrom, ast.With, ast.AsyncWith, ast.Global, ast.Nonlocal,
            ),
        ):
            return False
    return True


def _own_nodes(function: ast.AST):
    """Every node of the function's body, nested function bodies not entered."""
    stack = list(reversed(function.body))
    while stack:
        node = stack.pop()
        yield node
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)):
            stack.extend(reversed(list(ast.iter_child_nodes(node))))


def super_method(call: ast.AST) -> str | None:
    """`m` for `super().m(...)` or `super(Class, self).m(...)`."""
    if (
        isinstance(call, ast.Call)
        and isinstance(call.func, ast.Attribute)
        and isinstance(call.func.value, ast.Call)
        and isinstance(call.func.value.func, ast.Name)
        and call.func.value.func.id == "super"
    ):
        return call.func.attr
    return None


def async_translation(
    ctx: Context,
    function: ast.FunctionDef,
    owner: ast.ClassDef,
    twin: str,
    super_twins: dict[str, SuperTwin],
) -> Generated | None:
    """The sync method's body made async, or None when it cannot be (then delegate)."""
    if not _translatable_shape(function) or not isinstance(ctx.parent, ast.Module):
        return None
    span = _line_span(ctx, function)
    header = _header(ctx, function)
    if span is None or header is None:
        return None
    start, end = span
    wrapper = wrapper_name(ctx)
    edits = [Edit(ctx.source.start(function), header[0], f"async def {twin}")]
    parents = parents_of(function)
    needs_wrapper = False
    for node in _own_nodes(function):
        name = super_method(node)
        if name is None or name not in super_twins:
            continue
        parent_twin = super_twins[name]
        call_start, call_end = ctx.source.start(node), ctx.source.end(node)
        opening, closing = "await ", ""
        if needs_parentheses(node, parents.get(id(node))):
            opening, closing = "(await ", ")"
        if parent_twin.delegates:
            needs_wrapper = True
            func_end = ctx.source.end(node.func)
            edits += [Edit(call_start, call_start, f"{opening}{wrapper}("), Edit(func_end, func_end, ")")]
        else:
            attr_end = ctx.source.end(node.func)
            edits += [
                Edit(call_start, call_start, opening),
                Edit(attr_end - len(name), attr_end, parent_twin.twin),
            ]
        if closing:
            edits.append(Edit(call_end, call_end, closing))
    method = _apply(ctx.source.text[start:end], start, edits)
    inserted = ctx.source.text[:end] + "\n\n" + method + ctx.source.text[end:]
    result = _fix_in_method(ctx, owner, twin, inserted)
    if result is None:
        return None
    source, tree, node, remaining = result
    imports = set(_new_imports(ctx, tree))
    if needs_wrapper and wrapper == "sync_to_async":
        imports.add(SYNC_TO_ASYNC)
    exact = not remaining and _Exactness(ctx, tree, node, owner).holds()
    return Generated(_without_header_comments(_method_text(source, node)), tuple(sorted(imports)), exact)


def _apply(text: str, base: int, edits: list[Edit]) -> str:
    parts, position = [], 0
    for edit in sorted(edits, key=lambda e: (e.start, e.end)):
        parts.append(text[position : edit.start - base])
        parts.append(edit.content)
        position = edit.end - base
    parts.append(text[position:])
    return "".join(parts)


@functools.cache
def _translation_dispatch():
    from ..engine import Dispatch
    from ..rules import RULES

    codes = frozenset(c for c, r in RULES.items() if c[:4] in ("ASL1", "ASL2") and r.node_types)
    return codes, Dispatch(codes, RULES)


def _find_twin(tree: ast.Module, owner: str, occurrence: int, twin: str) -> ast.AsyncFunctionDef | None:
    classes = [s for s in tree.body if isinstance(s, ast.ClassDef) and s.name == owner]
    if occurrence >= len(classes):
        return None
    for stmt in classes[occurrence].body:
        if isinstance(stmt, ast.AsyncFunctionDef) and stmt.name == twin:
            return stmt
    return None


def _fix_in_method(ctx: Context, owner: ast.ClassDef, twin: str, text: str):
    """Lint the module with the generated method in place and apply the ASL1/ASL2 safe fixes
    that fall inside it.  Returns (text, tree, the method, findings left in it) or None."""
    from ..engine import LintSettings, lint_source, parse
    from ..fixes import FixProducedInvalidCode, fix_text

    codes, dispatch = _translation_dispatch()
    settings = LintSettings(ctx.target, codes)
    occurrence = [s for s in ctx.file.tree.body if isinstance(s, ast.ClassDef) and s.name == owner.name].index(owner)
    path = ctx.source.path

    def locate(current: str):
        source = SourceFile(path, current)
        tree = parse(source)
        if isinstance(tree, SyntaxError):
            return None
        node = _find_twin(tree, owner.name, occurrence, twin)
        return (source, tree, node) if node is not None else None

    def lint(current: str):
        found = locate(current)
        if found is None:
            return []
        source, tree, node = found
        low, high = source.start(node), source.end(node)
        return [
            d
            for d in lint_source(source, ctx.file.index, settings, dispatch, tree)
            if d.code in codes and low <= d.start and d.end <= high
        ]

    try:
        fixed, _, remaining = fix_text(text, lint, unsafe=False)
    except FixProducedInvalidCode:
        return None
    found = locate(fixed)
    if found is None:
        return None
    source, tree, node = found
    return source, tree, node, remaining


def _method_text(source: SourceFile, node: ast.AST) -> str:
    start = source.line_starts[node.lineno - 1]
    end = source.line_starts[node.end_lineno] if node.end_lineno < len(source.line_starts) else len(source.text)
    return source.text[start:end].rstrip("\r\n").replace("\r\n", "\n").replace("\r", "\n")


def _new_imports(ctx: Context, tree: ast.Module) -> list[tuple[str, str]]:
    module, is_package = module_name_for(ctx.source.path)
    before = ctx.file.imports
    after = import_bindings(tree, module, is_package)
    found = []
    for name, qualname in after.items():
        if before.get(name) != qualname and "." in qualname:
            module_part, _, attribute = qualname.rpartition(".")
            if attribute == name:
                found.append((module_part, name))
    return found


class _Exactness:
    """Whether the translated body does, on the event loop, only what is known to be safe there:
    every call is awaited (a twin or `sync_to_async`, written by the rewrite), builds a lazy
    QuerySet, is `super()`, or is a pure function (builtins, `slugify`, `timezone.now`, ...);
    no relation of `self` that may load lazily is read; and, on a model, `self.<name>` is only
    read for a field, a related manager or what the body assigned (not a property)."""

    def __init__(self, ctx: Context, tree: ast.Module, node: ast.AsyncFunctionDef, owner: ast.ClassDef):
        module, is_package = module_name_for(ctx.source.path)
        self.file = FileModel(tree, module, is_package, ctx.file.index)
        self.node = node
        owner_node = next(
            (n for n in tree.body if isinstance(n, ast.ClassDef) and any(s is node for s in n.body)), None
        )
        self.scope = self.file.scope_for(node, None, owner_node)
        # `*args` / `**kwargs`, when never rebound: a tuple and a dict, whose methods do no I/O.
        packed = {a.arg for a in (node.args.vararg, node.args.kwarg) if a is not None}
        rebound = {
            n.id for n in ast.walk(node) if isinstance(n, ast.Name) and isinstance(n.ctx, (ast.Store, ast.Del))
        }
        self.packed = packed - rebound
        model = ctx.file.index.model(f"{module}.{owner.name}")
        self.relations = (
            {name for name, r in model.relations.items() if r.kind in _LAZY_RELATION_KINDS} if model else set()
        )
        # On a model, what `self.<name>` may be read without running anything: its concrete
        # fields, `<fk>_id`, related managers (their calls are checked), the instance state, and
        # what the body itself assigns.  Anything else may be a property that queries.
        self.readable: set[str] | None = None
        if model is not None:
            self.readable = {
                *model.field_names, "pk", "id", "_state", "_meta",
                *(f"{n}_id" for n, r in model.relations.items() if r.kind in ("fk", "o2o")),
                *(n for n, r in model.relations.items() if r.is_manager),
                *(
                    n.attr for n in ast.walk(node)
                    if isinstance(n, ast.Attribute) and isinstance(n.ctx, ast.Store)
                    and isinstance(n.value, ast.Name) and n.value.id == "self"
                ),
            } - self.relations

    def holds(self) -> bool:
        parents = parents_of(self.node)
        for node in _own_nodes(self.node):
            if isinstance(node, ast.Call) and not self._call_is_safe(node, parents):
                return False
            if (
                isinstance(node, ast.Attribute)
                and isinstance(node.ctx, ast.Load)
                and isinstance(node.value, ast.Name)
                and node.value.id == "self"
            ):
                if node.attr in self.relations:
                    return False
                parent = parents.get(id(node))
                called = isinstance(parent, ast.Call) and (
                    parent.func is node or (node in parent.args and self._is_wrapper(parent.func))
                )
                if self.readable is not None and not called and node.attr not in self.readable:
                    return False  # perhaps a property that queries
        return True

    def _is_wrapper(self, func: ast.expr) -> bool:
        """`sync_to_async` (its import comes with the twin when the file lacks it)."""
        unbound = isinstance(func, ast.Name) and func.id == SYNC_TO_ASYNC[1] and func.id not in self.file.imports
        return unbound or self.file.qualname_of(func) in api.SYNC_TO_ASYNC

    def _call_is_safe(self, call: ast.Call, parents: dict[int, ast.AST]) -> bool:
        parent = parents.get(id(call))
        if isinstance(parent, ast.Await):
            return True
        if isinstance(parent, ast.Call) and parent.func is call and isinstance(parents.get(id(parent)), ast.Await):
            return self._is_wrapper(call.func)  # `sync_to_async(f)` in `await sync_to_async(f)(...)`
        if isinstance(call.func, ast.Name) and call.func.id == "super":
            return True
        value = self.file.infer(call, self.scope)
        if isinstance(value, QuerySet):
            return True  # a lazy QuerySet method: no query until it is evaluated
        func = call.func
        if isinstance(func, ast.Attribute) and isinstance(func.value, (ast.Constant, ast.JoinedStr)):
            return True  # "…".format(...), ", ".join(...)
        if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and func.value.id in self.packed:
            return True  # kwargs.pop(...), kwargs.setdefault(...): the method's own *args / **kwargs
        if isinstance(func, ast.Name) and func.id in PURE_BUILTINS and not self._shadowed(func.id):
            return True
        qualname = None if self._shadowed_root(func) else self.file.qualname_of(func)
        return qualname in PURE_FUNCTIONS

    def _shadowed(self, name: str) -> bool:
        file = self.file
        return self.scope.binds(name) or any(
            name in names for names in (file.imports, file.module_functions, file.module_classes)
        )

    def _shadowed_root(self, func: ast.expr) -> bool:
        root = func
        while isinstance(root, ast.Attribute):
            root = root.value
        return isinstance(root, ast.Name) and self.scope.binds(root.id)


# -- async → sync -------------------------------------------------------------------------------


def sync_translation(
    ctx: Context, function: ast.AsyncFunctionDef, owner: ast.ClassDef, twin: str, super_twins: dict[str, str]
) -> Generated | None:
    """The async method's body made sync by the one translator (`twins.translation`, writing
    mode): `await super().asave()` → `super().save()` for the parent's methods in
    `super_twins`, `await qs.aget()` → `qs.get()` where the receiver is Django's,
    `await sync_to_async(f)(x)` → `f(x)`, `async for` over a QuerySet → `for`.  None as soon as
    one `await` or `async` construct has no known sync form."""
    if not _translatable_shape(function):
        return None
    span = _line_span(ctx, function)
    header = _header(ctx, function)
    if span is None or header is None:
        return None
    scope = ctx.file.scope_for(function, None, owner)

    def django_receiver(node: ast.expr) -> bool:
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "super":
            return True  # only the parent's methods in `super_twins` are awaited through it
        return isinstance(ctx.file.infer(node, scope), (Manager, QuerySet, Instance, Cache, Session, Signal))

    for node in _own_nodes(function):
        name = super_method(node)
        if name is not None and name.startswith("a") and name not in super_twins:
            return None  # a parent coroutine with no sync twin Django knows of
    names = Names(ctx.file.imports, ctx.twins.patterns)
    try:
        translation = translate(ctx.source, function, names, writing=True, django_receiver=django_receiver)
    except CannotTranslate:
        return None
    start, end = span
    edits = [e for e in translation.edits if start <= e.start and e.end <= end]
    edits.append(Edit(header[0] - len(function.name), header[0], twin))
    text = _apply(ctx.source.text[start:end], start, edits)
    text = _without_header_comments(text.replace("\r\n", "\n").replace("\r", "\n"))
    return Generated(text, tuple(sorted(translation.imports)), exact=True)
