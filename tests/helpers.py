"""Linting snippets against the fixture project's model index, in-process."""

from __future__ import annotations

import functools
from pathlib import Path

from async_lint.config import DEFAULT_TWIN_PATTERNS
from async_lint.django_api import parse_version
from async_lint.engine import Dispatch, LintSettings, lint_source
from async_lint.fixes import fix_text
from async_lint.project_setup import ProjectModel
from async_lint.rules import RULES
from async_lint.source import SourceFile

ROOT = Path(__file__).resolve().parent.parent
FIXTURE_PROJECT = ROOT / "fixtures" / "project"
# Snippets are linted as if they were a module of the fixture app.
SNIPPET_PATH = str(FIXTURE_PROJECT / "library" / "snippet.py")
DEFAULT_TARGET = "5.2"


@functools.cache
def _fixture_texts() -> dict[str, str]:
    return {str(p): p.read_text() for p in FIXTURE_PROJECT.rglob("*.py") if "cases" not in p.parts}


def lint(code: str, codes: frozenset[str] | None = None, target: str | None = None, path: str = SNIPPET_PATH):
    enabled = frozenset(codes) if codes else frozenset(RULES)
    settings = LintSettings(parse_version(target or DEFAULT_TARGET), enabled)
    # The fixture project with the snippet as one of its modules; helpers in its other modules
    # are followed, as in a real run.
    model = ProjectModel.of_texts({**_fixture_texts(), path: code}, DEFAULT_TWIN_PATTERNS)
    dispatch = Dispatch(enabled, RULES)

    def run(text: str):
        functions = model.functions(settings.target, dispatch)
        return [d for d in lint_source(SourceFile(path, text), model.index, settings, dispatch, functions=functions) if d.code in enabled]

    return run


def findings(code: str, codes=None, target=None) -> list:
    return lint(code, codes, target)(code)


def fixed(code: str, codes=None, target=None, unsafe: bool = False) -> str:
    new_text, _, _ = fix_text(code, lint(code, codes, target), unsafe)
    return new_text
