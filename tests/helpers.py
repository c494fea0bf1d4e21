"""Linting snippets against the fixture project's model index, in-process."""

from __future__ import annotations

import functools
from pathlib import Path

from async_lint.django_api import parse_version
from async_lint.engine import Dispatch, LintSettings, helper_hazards, lint_source, parse
from async_lint.fixes import fix_text
from async_lint.functions import ProjectFunctions
from async_lint.imports import module_name_for
from async_lint.project import ProjectIndex
from async_lint.runner import module_paths
from async_lint.source import SourceFile

ROOT = Path(__file__).resolve().parent.parent
FIXTURE_PROJECT = ROOT / "fixtures" / "project"
# Snippets are linted as if they were a module of the fixture app.
SNIPPET_PATH = str(FIXTURE_PROJECT / "library" / "snippet.py")
DEFAULT_TARGET = "5.2"


@functools.cache
def _fixture_texts() -> dict[str, str]:
    return {str(p): p.read_text() for p in FIXTURE_PROJECT.rglob("*.py") if "cases" not in p.parts}


def _index_with(path: str, code: str) -> ProjectIndex:
    texts = {**_fixture_texts(), path: code}

    def parse_path(p: str):
        tree = parse(SourceFile(p, texts[p]))
        return None if isinstance(tree, SyntaxError) else (tree, *module_name_for(p))

    return ProjectIndex.build(texts, parse_path)


def lint(code: str, codes: frozenset[str] | None = None, target: str | None = None, path: str = SNIPPET_PATH):
    from async_lint.rules import RULES

    enabled = frozenset(codes) if codes else frozenset(RULES)
    settings = LintSettings(parse_version(target or DEFAULT_TARGET), enabled)
    index = _index_with(path, code)
    dispatch = Dispatch(enabled)
    texts = {**_fixture_texts(), path: code}

    def read(other: str):
        return SourceFile(other, texts[other]) if other in texts else None

    def parse_tree(source: SourceFile):
        tree = parse(source)
        return None if isinstance(tree, SyntaxError) else tree

    def run(text: str):
        # Helpers in the fixture project's other modules are followed, as in a real run.
        functions = ProjectFunctions(index, module_paths(texts), read, parse_tree, helper_hazards(settings.target, dispatch))
        return [d for d in lint_source(SourceFile(path, text), index, settings, dispatch, functions=functions) if d.code in enabled]

    return run


def findings(code: str, codes=None, target=None) -> list:
    return lint(code, codes, target)(code)


def fixed(code: str, codes=None, target=None, unsafe: bool = False) -> str:
    new_text, _, _ = fix_text(code, lint(code, codes, target), unsafe)
    return new_text
