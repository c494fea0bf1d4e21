"""One pass per file: parse with `ast`, walk the tree once, and hand each node to the rules
registered for its type: event-loop rules only for nodes inside an `async def` body (not in a
nested sync `def` or `lambda`), module rules for every node.

A file is parsed only when its text contains what some enabled rule needs (`async` for the ASL1
rules), so the cost of a run tracks the code that can matter; the project index, built once per
run, is the only other reader of the tree.
"""

from __future__ import annotations

import ast
import warnings
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Iterable

from .context import Context
from .diagnostics import Diagnostic
from .django_api import Version
from .imports import module_name_for
from .noqa import suppressed
from .project import ProjectIndex
from .rules import RULES
from .rules.base import EVENT_LOOP, Rule
from .semantic import FileModel, Scope, iter_scope_nodes
from .source import SourceFile

SYNTAX_ERROR = "ASL901"
_FUNCTIONS = (ast.FunctionDef, ast.AsyncFunctionDef)


@dataclass
class LintSettings:
    target: Version
    enabled: frozenset[str] = field(default_factory=lambda: frozenset(RULES))


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
    message = f"SyntaxError: {error.msg}; the file was not checked"
    return Diagnostic(SYNTAX_ERROR, message, source.path, offset, offset)


RulesByType = dict[type, list[Rule]]


class Dispatch:
    """The enabled rules by where they look and by node type, instantiated once per run."""

    def __init__(self, enabled: Iterable[str]):
        self.event_loop: RulesByType = defaultdict(list)
        self.module: RulesByType = defaultdict(list)
        self.required_texts: set[str] = set()
        for code in enabled:
            rule = RULES[code]()
            table = self.event_loop if rule.looks_at == EVENT_LOOP else self.module
            for node_type in rule.node_types:
                table[node_type].append(rule)
            if rule.node_types:
                self.required_texts.update(rule.requires_text)
        # What makes a sync helper unsafe to call from async code (ASL117): the event-loop
        # hazards of every rule that counts in helpers, enabled or not.
        self.helper_hazards: RulesByType = defaultdict(list)
        for rule_class in RULES.values():
            if rule_class.counts_in_helpers and rule_class.looks_at == EVENT_LOOP:
                rule = rule_class()
                for node_type in rule.node_types:
                    self.helper_hazards[node_type].append(rule)

    def wants(self, text: str) -> bool:
        return any(needle in text for needle in self.required_texts)


class HelperProbe:
    """Whether a sync function, called from async code, does something unsafe itself."""

    def __init__(self, source: SourceFile, file: FileModel, target: Version, dispatch: Dispatch):
        self.source, self.file, self.target, self.dispatch = source, file, target, dispatch
        self._found: dict[int, Diagnostic | None] = {}

    def first_hazard(
        self, function: ast.FunctionDef, owner: ast.ClassDef | None, parent: Scope | None
    ) -> Diagnostic | None:
        key = id(function)
        if key not in self._found:
            self._found[key] = None  # recursion guard
            if not _is_generator(function):
                scope = self.file.scope_for(function, parent, owner)
                ctx = Context(self.source, self.file, self.target, scope)
                self._found[key] = next(_walk_body(scope, ctx, self.dispatch.helper_hazards), None)
        return self._found[key]


def _is_generator(function: ast.FunctionDef) -> bool:
    return any(isinstance(n, (ast.Yield, ast.YieldFrom)) for n in iter_scope_nodes(function.body))


def _walk_body(scope: Scope, ctx: Context, rules: RulesByType) -> Iterable[Diagnostic]:
    """Event-loop rules over one function body, as if it ran on the loop (helper probes)."""
    stack: list[tuple[ast.AST, tuple[ast.AST, ...]]] = [(n, ()) for n in reversed(scope.node.body)]
    while stack:
        node, parents = stack.pop()
        for rule in rules.get(type(node), ()):
            ctx.parents = parents
            yield from rule.check(node, ctx)
        if not isinstance(node, (*_FUNCTIONS, ast.Lambda, ast.ClassDef)):
            child_parents = (*parents, node)
            stack.extend((child, child_parents) for child in reversed(list(ast.iter_child_nodes(node))))


def _walk_module(file: FileModel, ctx: Context, dispatch: Dispatch) -> Iterable[Diagnostic]:
    """The single traversal: each node once, with its parents, the innermost function scope,
    and whether it runs on the event loop."""
    # (node, parents, scope, owner class, on the event loop)
    stack: list[tuple[ast.AST, tuple[ast.AST, ...], Scope | None, ast.ClassDef | None, bool]] = [
        (file.tree, (), None, None, False)
    ]
    while stack:
        node, parents, scope, owner, in_loop = stack.pop()
        ctx.parents = parents
        ctx.scope = scope
        if in_loop:
            for rule in dispatch.event_loop.get(type(node), ()):
                yield from rule.check(node, ctx)
        for rule in dispatch.module.get(type(node), ()):
            yield from rule.check(node, ctx)
        child_scope, child_owner, child_in_loop = scope, None, in_loop
        if isinstance(node, _FUNCTIONS):
            child_scope = file.scope_for(node, scope, owner)
            child_in_loop = isinstance(node, ast.AsyncFunctionDef)
            if child_in_loop:
                # The `async def` itself, for what its decorators do to it.
                ctx.scope = child_scope
                for rule in dispatch.event_loop.get(ast.AsyncFunctionDef, ()):
                    yield from rule.check(node, ctx)
        elif isinstance(node, ast.Lambda):
            child_in_loop = False
        elif isinstance(node, ast.ClassDef):
            child_owner, child_in_loop = node, False
        child_parents = (*parents, node)
        for child in reversed(list(ast.iter_child_nodes(node))):
            if isinstance(node, _FUNCTIONS) and (child in node.decorator_list or child is node.returns):
                # Decorators and annotations run where the function is defined.
                stack.append((child, child_parents, scope, owner, in_loop))
            elif isinstance(node, _FUNCTIONS) and child is node.args:
                stack.append((child, child_parents, scope, owner, in_loop))
            else:
                stack.append((child, child_parents, child_scope, child_owner, child_in_loop))


def lint_source(
    source: SourceFile,
    index: ProjectIndex,
    settings: LintSettings,
    dispatch: Dispatch,
    tree: ast.Module | None = None,
) -> list[Diagnostic]:
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
    file = FileModel(tree, module, is_package, index)
    helpers = HelperProbe(source, file, settings.target, dispatch)
    ctx = Context(source, file, settings.target, None, (), helpers)
    unique = {(d.code, d.start, d.end): d for d in _walk_module(file, ctx, dispatch)}
    return sorted(
        (d for d in unique.values() if not suppressed(source, d)), key=lambda d: (d.start, d.code)
    )
