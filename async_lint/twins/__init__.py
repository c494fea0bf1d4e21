"""Sync/async twins: `x` and `ax` (or a configured naming pattern) defined side by side in one
class or module, and whether they still do the same thing (ASL501, ASL502, `async-lint twins`).

- `pairs`: which functions are twins, and which pairs are not compared (delegating, stubs, tests);
- `translation`: async code in its sync form, as text edits (also used to write a twin);
- `normal_form`: both twins without what only says how the work is done;
- `comparison`: what is left that changes behaviour, and the verdict;
- `presentation`: the finding's words, and both twins in compared form.

A pair is judged once: *delegating* (one twin calls the other), *stub* (an interface body),
*test* (test code), *equal* (nothing that changes behaviour differs), *marked* (it differs, and
`# async-lint: twin-differs: <reason>` says why), or *diverges*.
"""

from __future__ import annotations

import ast
from functools import cached_property

from ..config import CANONICAL_SIDES, TwinSettings
from ..source import SourceFile
from .comparison import DELEGATING, DIVERGES, EQUAL, MARKED, STUB, Comparison, differences
from .normal_form import SUPER, normal_forms, reached_functions
from .pairs import (
    TwinPair,
    all_pairs,
    canonical_side,
    delegates,
    delegates_to_sync,
    find_pairs,
    is_generator,
    is_stub,
    is_test_code,
    iter_containers,
    marker_reason,
    twin_name,
)
from .translation import Evidence, Names, sync_text, translate

TEST = "test"

__all__ = [
    "DELEGATING", "DIVERGES", "EQUAL", "MARKED", "STUB", "TEST", "Comparison", "FileTwins", "TwinPair",
    "all_pairs", "compare", "delegates_to_sync", "find_pairs", "is_generator", "iter_containers", "twin_name",
]


def compare(
    pair: TwinPair, source: SourceFile, names: Names, lines: list[str], relations: frozenset[str] = frozenset()
) -> Comparison:
    """The verdict on one pair (see the package doc).  `relations`: the names of the project's
    model relations to one object (an async twin sets them to load them before they are read)."""
    if is_test_code(source.path, pair):
        return Comparison(pair, TEST)
    if delegates(pair):
        return Comparison(pair, DELEGATING)
    if is_stub(pair.sync) or is_stub(pair.async_):
        return Comparison(pair, STUB)
    evidence = Evidence.of(pair.sync, names)
    in_sync_form = _in_sync_form(pair.async_, pair, source, names, evidence)
    if in_sync_form is None:
        return Comparison(pair, EQUAL)  # nothing to compare it with
    translated: dict[str, ast.FunctionDef | None] = {}

    def callee(name: str, method: bool) -> ast.FunctionDef | None:
        """A function of the class or module, or (`super().name`) of the class's base defined in
        the module, in sync form (an async one translated)."""
        if name.startswith(SUPER):
            function = _base_method(pair.owner, name[len(SUPER) :], names)
        elif method and pair.owner is not None:
            function = pair.siblings.get(name) or _base_method(pair.owner, name, names)  # inherited
        else:
            function = names.module_functions.get(name)
        if isinstance(function, ast.AsyncFunctionDef):
            if name not in translated:
                translated[name] = _in_sync_form(function, pair, source, names, evidence)
            return translated[name]
        return function

    sync_form, async_form, machinery = normal_forms(pair.sync, in_sync_form, names, pair.siblings, callee)
    # What the functions each twin calls call in turn: a write made there is not missing.
    helper_calls = {
        side: frozenset().union(*(_called_names(f) for f in reached_functions(function, callee)))
        for side, function in (("sync", pair.sync), ("async", in_sync_form))
    }
    found = differences(pair, sync_form, async_form, machinery, helper_calls, relations)
    if not found:
        return Comparison(pair, EQUAL, forms=(sync_form, async_form))
    reason = marker_reason(pair, lines)
    return Comparison(pair, MARKED if reason else DIVERGES, found, reason or "", (sync_form, async_form))


def _in_sync_form(
    function: ast.AsyncFunctionDef, pair: TwinPair, source: SourceFile, names: Names, evidence: Evidence
) -> ast.FunctionDef | None:
    """An async function read through the translator, as a tree whose lines are the file's."""
    translation = translate(source, function, names, evidence, owner=pair.owner, siblings=pair.siblings)
    try:
        tree = ast.parse(sync_text(source, function, translation.edits))
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    translated = tree.body[0] if tree.body else None
    if not isinstance(translated, ast.FunctionDef):
        return None
    ast.increment_lineno(translated, function.lineno - 1)
    return translated


def _base_method(owner: ast.ClassDef | None, name: str, names: Names) -> ast.AST | None:
    """`name` as the class's first base defined in this module defines it."""
    for base in owner.bases if owner is not None else ():
        if isinstance(base, ast.Name) and base.id in names.module_classes:
            methods = {s.name: s for s in names.module_classes[base.id].body if isinstance(s, (ast.FunctionDef, ast.AsyncFunctionDef))}
            return methods.get(name)
    return None


def _called_names(function: ast.AST) -> frozenset[tuple[str, str]]:
    """(method or function name, the object it is called on as written) of each call."""
    found = set()
    for node in ast.walk(function):
        if isinstance(node, ast.Call):
            func = node.func
            if isinstance(func, ast.Attribute):
                found.add((func.attr, ast.unparse(func.value)))
            elif isinstance(func, ast.Name):
                found.add((func.id, ""))
    return frozenset(found)


class FileTwins:
    """Every pair of one file, by container, each judged on first use."""

    def __init__(
        self,
        source: SourceFile,
        tree: ast.Module,
        imports: dict[str, str],
        settings: TwinSettings,
        relations: frozenset[str] = frozenset(),
    ):
        self.source, self.tree, self.settings, self.relations = source, tree, settings, relations
        self.names = Names.of(tree, imports, settings.patterns)
        self._comparisons: dict[int, Comparison] = {}
        self._pairs: dict[int, list[TwinPair]] = {}
        for body, owner, path in iter_containers(tree):
            container = owner if owner is not None else tree
            self._pairs[id(container)] = find_pairs(body, owner, settings.patterns, path)

    @cached_property
    def lines(self) -> list[str]:
        return [self.source.line_text(row) for row in range(1, len(self.source.line_starts) + 1)]

    def pairs_in(self, container: ast.Module | ast.ClassDef) -> list[TwinPair]:
        return self._pairs.get(id(container), [])

    @property
    def pairs(self) -> list[TwinPair]:
        return [pair for pairs in self._pairs.values() for pair in pairs]

    def comparison(self, pair: TwinPair) -> Comparison:
        key = id(pair.async_)
        if key not in self._comparisons:
            self._comparisons[key] = compare(pair, self.source, self.names, self.lines, self.relations)
        return self._comparisons[key]

    def canonical(self, pair: TwinPair) -> str | None:
        return canonical_side(pair, self.lines, self.settings.canonical, CANONICAL_SIDES)
