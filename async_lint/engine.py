"""One pass per file: parse with `ast`, find the code that runs on the event loop, and hand each
node to the rules registered for its type.

Files without the text `async` cannot contain an `async def`, so they are never walked; the
project index (built once per run) is the only thing that reads model files.
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
from .rules.base import Rule
from .semantic import FileModel, Scope, iter_scope_nodes
from .source import SourceFile

SYNTAX_ERROR = "ASL901"


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


class Dispatch:
    """Rules by node type, instantiated once per run."""

    def __init__(self, enabled: Iterable[str]):
        self.by_type: dict[type, list[Rule]] = defaultdict(list)
        self.helper_rules: dict[type, list[Rule]] = defaultdict(list)
        for code in enabled:
            rule = RULES[code]()
            for node_type in rule.node_types:
                self.by_type[node_type].append(rule)
        # The hazards that make a sync helper unsafe to call from async code (ASL117) are
        # those of every rule that counts in helpers, enabled or not.
        for rule_class in RULES.values():
            if rule_class.counts_in_helpers:
                rule = rule_class()
                for node_type in rule.node_types:
                    self.helper_rules[node_type].append(rule)


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
                self._found[key] = next(
                    _check_scope(self.source, self.file, scope, self.target, self.dispatch.helper_rules, None),
                    None,
                )
        return self._found[key]


def _is_generator(function: ast.FunctionDef) -> bool:
    return any(isinstance(n, (ast.Yield, ast.YieldFrom)) for n in iter_scope_nodes(function.body))


def _check_scope(
    source: SourceFile,
    file: FileModel,
    scope: Scope,
    target: Version,
    rules: dict[type, list[Rule]],
    helpers: HelperProbe | None,
) -> Iterable[Diagnostic]:
    ctx = Context(source, file, target, scope, (), helpers)
    for rule in rules.get(type(scope.node), ()):
        yield from rule.check(scope.node, ctx)
    stack: list[tuple[ast.AST, tuple[ast.AST, ...]]] = [(n, ()) for n in reversed(scope.node.body)]
    while stack:
        node, parents = stack.pop()
        node_rules = rules.get(type(node))
        if node_rules:
            ctx.parents = parents
            for rule in node_rules:
                yield from rule.check(node, ctx)
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)):
            continue  # their bodies do not run here
        child_parents = (*parents, node)
        stack.extend((child, child_parents) for child in reversed(list(ast.iter_child_nodes(node))))


def async_scopes(file: FileModel) -> Iterable[Scope]:
    """Every `async def` in the file, with its enclosing function scope and owning class."""
    stack: list[tuple[ast.AST, Scope | None, ast.ClassDef | None]] = [(file.tree, None, None)]
    while stack:
        node, scope, owner = stack.pop()
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                child_scope = file.scope_for(child, scope, owner)
                if isinstance(child, ast.AsyncFunctionDef):
                    yield child_scope
                stack.append((child, child_scope, None))
            elif isinstance(child, ast.ClassDef):
                stack.append((child, scope, child))
            else:
                stack.append((child, scope, owner if isinstance(node, ast.ClassDef) else None))


def lint_source(
    source: SourceFile, index: ProjectIndex, settings: LintSettings, dispatch: Dispatch, tree: ast.Module | None = None
) -> list[Diagnostic]:
    if tree is None:
        if "async" not in source.text:
            return []
        parsed = parse(source)
        if isinstance(parsed, SyntaxError):
            return [syntax_error_diagnostic(source, parsed)] if SYNTAX_ERROR in settings.enabled else []
        tree = parsed
    module, is_package = module_name_for(source.path)
    file = FileModel(tree, module, is_package, index)
    helpers = HelperProbe(source, file, settings.target, dispatch)
    diagnostics: list[Diagnostic] = []
    for scope in async_scopes(file):
        diagnostics.extend(_check_scope(source, file, scope, settings.target, dispatch.by_type, helpers))
    unique = {(d.code, d.start, d.end): d for d in diagnostics}
    return sorted(
        (d for d in unique.values() if not suppressed(source, d)), key=lambda d: (d.start, d.code)
    )
