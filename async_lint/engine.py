"""One pass per file: parse with `ast`, walk the tree once, and hand each node to the rules
registered for its type: event-loop rules only for nodes inside an `async def` body (not in a
nested sync `def` or `lambda`), module rules for every node.

A file is parsed only when its text contains what some enabled rule needs (`async` for the ASL1
rules), so the cost of a run tracks the code that can matter; the project index, built once per
run, is the only other reader of the tree.
"""

from __future__ import annotations

import ast
import sys
import warnings
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Iterable, Mapping

from .context import Context
from .diagnostics import SYNTAX_ERROR, Diagnostic
from .django_api import Version
from .functions import FunctionRef, ProjectFunctions
from .imports import module_name_for
from .newer_syntax import newer_syntax
from .noqa import suppressed
from .project import ProjectIndex
from .rules.base import EVENT_LOOP, Rule
from .semantic import FileModel, Scope, child_nodes
from .source import SourceFile
from .config import TwinSettings

_FUNCTIONS = (ast.FunctionDef, ast.AsyncFunctionDef)


@dataclass
class LintSettings:
    target: Version
    enabled: frozenset[str]
    twins: TwinSettings = field(default_factory=TwinSettings)
    # The newest Django the code runs on, when the project supports a range (`Django>=3.2`:
    # every later version, `django_api.ANY`); None: the target alone.
    reach: Version | None = None


def parse(source: SourceFile) -> ast.Module | SyntaxError:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # invalid escape sequences in user code are not ours
        try:
            return ast.parse(source.text, filename=source.path)
        except SyntaxError as error:
            return error
        except (ValueError, RecursionError, MemoryError) as error:
            syntax_error = SyntaxError(str(error) or type(error).__name__)
            syntax_error.lineno, syntax_error.offset = 1, 1
            return syntax_error


def syntax_error_diagnostic(source: SourceFile, error: SyntaxError) -> Diagnostic:
    row = min(max(error.lineno or 1, 1), len(source.line_starts))
    column = max((error.offset or 1) - 1, 0)
    offset = min(source.line_starts[row - 1] + column, len(source.text))
    python = f"{sys.version_info.major}.{sys.version_info.minor}"
    newer = newer_syntax(source, error)
    if newer is not None:
        needed = ".".join(map(str, newer.version))
        message = (
            f"SyntaxError: {newer.feature} needs Python {needed}, newer than the Python {python} async-lint "
            "runs on; the file was not checked (run async-lint with the project's Python)"
        )
    else:
        message = f"SyntaxError: {error.msg} (parsed as Python {python}); the file was not checked"
    return Diagnostic(SYNTAX_ERROR, message, source.path, offset, offset)


def too_deep_diagnostic(path: str) -> Diagnostic:
    """For code nested deeper than the checker can follow (a RecursionError while checking):
    one such file must not end the run; like code too deep for `ast.parse`, it is reported
    unchecked."""
    return Diagnostic(SYNTAX_ERROR, "Nested too deeply for async-lint to follow; the file was not checked", path, 0, 0)


RulesByType = dict[type, list[Rule]]


class Dispatch:
    """The enabled rules by where they look and by node type, instantiated once per run."""

    def __init__(self, enabled: Iterable[str], rules: Mapping[str, type[Rule]]):
        """`rules`: every rule by code.  Handed in, not imported: the rules' fixers lint the
        code they generate with this engine, so imports stay one-way."""
        self.event_loop: RulesByType = defaultdict(list)
        self.module: RulesByType = defaultdict(list)
        self.required_texts: set[str] = set()
        for code in enabled:
            rule = rules[code]()
            table = self.event_loop if rule.looks_at == EVENT_LOOP else self.module
            for node_type in rule.node_types:
                table[node_type].append(rule)
            if rule.node_types:
                # Event-loop rules see only async code: a file without `async` has none for them
                # (their own needles narrow nothing further here).
                self.required_texts.update(rule.requires_text if rule.looks_at != EVENT_LOOP else ("async",))
        # What makes a sync helper unsafe to call from async code (ASL117): the event-loop
        # hazards of the rules on by default (enabled here or not; opt-in rules such as ASL203
        # guess, and a guess must not become a default finding).
        self.helper_hazards: RulesByType = defaultdict(list)
        for rule_class in rules.values():
            if rule_class.counts_in_helpers and rule_class.default_enabled and rule_class.looks_at == EVENT_LOOP:
                rule = rule_class()
                for node_type in rule.node_types:
                    self.helper_hazards[node_type].append(rule)

    def wants(self, text: str) -> bool:
        return any(needle in text for needle in self.required_texts)

    def module_rules_for(self, text: str) -> RulesByType:
        """The module rules whose text prefilter matches this file."""
        wanted: RulesByType = defaultdict(list)
        for node_type, rules in self.module.items():
            for rule in rules:
                if any(needle in text for needle in rule.requires_text):
                    wanted[node_type].append(rule)
        return wanted


def helper_hazards(target: Version, dispatch: Dispatch):
    """What a sync function's own body does that is unsafe on the loop, in source order: the
    event-loop rules that count in helpers, run over the body as if it ran on the loop."""

    def find(function: FunctionRef) -> list[Diagnostic]:
        scope = function.scope()
        ctx = Context(function.source, function.file, target, scope)
        return sorted(_walk_body(scope, ctx, dispatch.helper_hazards), key=lambda d: d.start)

    return find


def _walk_body(scope: Scope, ctx: Context, rules: RulesByType) -> Iterable[Diagnostic]:
    """Event-loop rules over one function body, as if it ran on the loop (helper probes)."""
    yield from _walk(scope.node.body, (), ctx, scope, in_loop=True, owner=None, loop_rules=rules, module_rules={}, file=None)


_EXIT = object()  # marks the end of a node's children on the walk stack
# Nodes that hold statements (what a walk through statements only descends into).
_STRUCTURE = (ast.stmt, ast.ExceptHandler, ast.match_case, ast.Module)


def _walk(
    nodes: list[ast.AST],
    parents: tuple[ast.AST, ...],
    ctx: Context,
    scope: Scope | None,
    *,
    in_loop: bool,
    owner: ast.ClassDef | None,
    loop_rules: RulesByType,
    module_rules: RulesByType,
    file: FileModel | None,
    statements_only: bool = False,
) -> Iterable[Diagnostic]:
    """Depth-first over `nodes` and their children, each node once.  The path from the root is
    kept as a list; a tuple of it is made only for nodes some rule looks at.  Entering a function
    opens its scope (sync or async); its decorators, defaults and annotations stay outside.
    With `statements_only`, code off the event loop is walked through statements only (what the
    module rules asked for), expressions being visited only inside `async def` bodies."""
    path = list(parents)
    # Stack entries: (node, scope, owner, in_loop), or _EXIT to pop the path.
    stack: list = [(n, scope, owner, in_loop) for n in reversed(nodes)]
    while stack:
        entry = stack.pop()
        if entry is _EXIT:
            path.pop()
            continue
        node, node_scope, node_owner, node_in_loop = entry
        rules = module_rules.get(type(node))
        if node_in_loop:
            loop = loop_rules.get(type(node))
            rules = (*loop, *rules) if loop and rules else loop or rules
        if rules:
            ctx.parents = tuple(path)
            ctx.scope = node_scope
            for rule in rules:
                yield from rule.check(node, ctx)
        if type(node) is ast.Call and (
            (type(node.func) is ast.Name and node.func.id == "getattr") or type(node.func) is ast.Call
        ):
            # `getattr(x, "name")` is `x.name` for every rule, and `getattr(x, "name")(...)` is
            # `x.name(...)`: the rules see them as that attribute and that call.
            if type(node.func) is ast.Name:
                stand_in, node_type = ctx.file.getattr_attribute(node, node_scope), ast.Attribute
            else:
                stand_in, node_type = ctx.file.getattr_call(node, node_scope), ast.Call
            stand_in_rules = _rules_for(node_type, node_in_loop, loop_rules, module_rules)
            if stand_in is not None and stand_in_rules:
                ctx.parents = tuple(path)
                ctx.scope = node_scope
                for rule in stand_in_rules:
                    yield from rule.check(stand_in, ctx)
        if file is None and isinstance(node, (*_FUNCTIONS, ast.Lambda, ast.ClassDef)):
            continue  # a helper probe stays in the helper's own frame
        child_scope, child_owner, child_in_loop = node_scope, None, node_in_loop
        outside: list[ast.AST] = []
        if isinstance(node, _FUNCTIONS):
            child_scope = file.scope_for(node, node_scope, node_owner)
            child_in_loop = isinstance(node, ast.AsyncFunctionDef)
            outside = [*node.decorator_list, node.args, *([node.returns] if node.returns else [])]
            if child_in_loop:
                # The `async def` itself, for what its decorators do to it.
                ctx.parents, ctx.scope = tuple(path), child_scope
                for rule in loop_rules.get(ast.AsyncFunctionDef, ()):
                    yield from rule.check(node, ctx)
        elif isinstance(node, ast.Lambda):
            child_in_loop = False
        elif isinstance(node, ast.ClassDef):
            child_owner, child_in_loop = node, False
        path.append(node)
        stack.append(_EXIT)
        annotated = isinstance(node, _ANNOTATED)
        for child in reversed(child_nodes(node)):
            if outside and any(child is o for o in outside):
                entry = (child, node_scope, node_owner, node_in_loop)
            else:
                entry = (child, child_scope, child_owner, child_in_loop)
            if entry[3] and annotated and _never_evaluated(node, child, ctx.file):
                entry = (*entry[:3], False)
            if entry[3] or not statements_only or isinstance(child, _STRUCTURE):
                stack.append(entry)


def _rules_for(node_type: type, in_loop: bool, loop_rules: RulesByType, module_rules: RulesByType):
    rules = module_rules.get(node_type)
    loop = loop_rules.get(node_type) if in_loop else None
    return (*loop, *rules) if loop and rules else loop or rules


_ANNOTATED = (ast.AnnAssign, ast.arg, *_FUNCTIONS)


def _never_evaluated(node: ast.AST, child: ast.AST, file: FileModel) -> bool:
    """Annotations that do not run: a variable's in a function body, never (PEP 526); a
    parameter's or a return's, with `from __future__ import annotations`."""
    if isinstance(node, ast.AnnAssign):
        return child is node.annotation
    if isinstance(node, ast.arg):
        return child is node.annotation and file.postponed_annotations
    return isinstance(node, _FUNCTIONS) and child is node.returns and file.postponed_annotations


def _async_functions(body: list[ast.stmt], owner: ast.ClassDef | None, file: FileModel, scope: Scope | None):
    """(async def, enclosing scope, owner class), found through statements only: an `async def`
    is always a statement, so expressions need not be visited to find them."""
    for stmt in body:
        if isinstance(stmt, ast.AsyncFunctionDef):
            yield stmt, scope, owner
        elif isinstance(stmt, ast.FunctionDef):
            yield from _async_functions(stmt.body, None, file, file.scope_for(stmt, scope, owner))
        elif isinstance(stmt, ast.ClassDef):
            yield from _async_functions(stmt.body, stmt, file, scope)
        else:
            for field in ("body", "orelse", "finalbody", "handlers", "cases"):
                block = getattr(stmt, field, None)
                if block:
                    yield from _async_functions(block, owner, file, scope)


def _walk_module(file: FileModel, ctx: Context, dispatch: Dispatch, module_rules: RulesByType) -> Iterable[Diagnostic]:
    """The single traversal.  With no module rule wanting this file, only the `async def`s are
    walked (found through statements); otherwise every node, once."""
    common = dict(loop_rules=dispatch.event_loop, module_rules=module_rules, file=file)
    if module_rules:
        statements_only = all(issubclass(t, _STRUCTURE) for t in module_rules)
        yield from _walk(
            [file.tree], (), ctx, None, in_loop=False, owner=None, statements_only=statements_only, **common
        )
        return
    for function, scope, owner in _async_functions(file.tree.body, None, file, None):
        yield from _walk([function], (), ctx, scope, in_loop=False, owner=owner, **common)


def lint_source(
    source: SourceFile,
    index: ProjectIndex,
    settings: LintSettings,
    dispatch: Dispatch,
    tree: ast.Module | None = None,
    functions: ProjectFunctions | None = None,
) -> list[Diagnostic]:
    """The findings of one file.  `functions` follows calls into the project's other modules;
    without it, only this file's functions are followed."""
    if tree is None:
        if not dispatch.wants(source.text):
            return []
        parsed = parse(source)
        if isinstance(parsed, SyntaxError):
            return [syntax_error_diagnostic(source, parsed)] if SYNTAX_ERROR in settings.enabled else []
        tree = parsed
    elif not dispatch.wants(source.text):
        return []
    module, is_package = module_name_for(source.path)
    if functions is None:
        functions = ProjectFunctions(index, {}, lambda path: None, lambda source: None, helper_hazards(settings.target, dispatch))
    file = FileModel(tree, module, is_package, index, functions, source.text)
    functions.add_file(source, file)
    ctx = Context(source, file, settings.target, None, (), functions, settings.twins, settings.reach)
    module_rules = dispatch.module_rules_for(source.text)
    unique = {(d.code, d.start, d.end): d for d in _walk_module(file, ctx, dispatch, module_rules)}
    return sorted(
        (d for d in unique.values() if not suppressed(source, d)), key=lambda d: (d.start, d.code)
    )
