"""Output formats: `full` (rich, for people), `concise` (one line each), `json` (ruff's fields),
and for CI: `github` (workflow annotations), `sarif` (code scanning), `gitlab` (Code Quality)."""

from __future__ import annotations

import os

from ..diagnostics import Applicability, Diagnostic
from ..fixes import applicable
from ..source import SourceFile

FORMATS = ("full", "concise", "json", "json-lines", "junit", "github", "sarif", "gitlab")


def display_path(path: str) -> str:
    try:
        relative = os.path.relpath(path)
    except ValueError:
        return path
    return path if relative.startswith("..") else relative


def location(source: SourceFile | None, offset: int) -> dict[str, int]:
    if source is None or not source.text:
        return {"row": 1, "column": 1}
    row, column = source.row_col(offset)
    return {"row": row, "column": column}


def fix_marker(diagnostic: Diagnostic, unsafe: bool) -> str:
    return "[*] " if applicable(diagnostic.fix, unsafe) else ""


def summary_lines(diagnostics: list[Diagnostic], fixed: int, unsafe: bool) -> list[str]:
    remaining = len(diagnostics)
    if remaining == 0:
        return [f"Found {fixed} error{'s' * (fixed != 1)} ({fixed} fixed, 0 remaining)."] if fixed else ["All checks passed!"]
    head = (
        f"Found {remaining + fixed} errors ({fixed} fixed, {remaining} remaining)."
        if fixed
        else f"Found {remaining} error{'s' * (remaining != 1)}."
    )
    lines = [head]
    fixable = sum(applicable(d.fix, unsafe) for d in diagnostics)
    hidden = sum(
        d.fix is not None and d.fix.applicability is Applicability.UNSAFE and not unsafe for d in diagnostics
    )
    if fixable:
        lines.append(f"[*] {fixable} fixable with the `--fix` option.")
    if hidden:
        lines.append(f"({hidden} hidden fix{'es' * (hidden != 1)} can be enabled with the `--unsafe-fixes` option.)")
    return lines
