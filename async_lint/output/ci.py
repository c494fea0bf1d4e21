"""What the CI formats (github, sarif, gitlab) share: paths relative to the repository the CI
job checked out, and fingerprints that survive unrelated edits to a file."""

from __future__ import annotations

import hashlib
import os
from collections import Counter
from pathlib import Path

from ..diagnostics import Diagnostic
from ..source import SourceFile


def repository_root(environment_variable: str | None = None) -> Path:
    """The CI checkout when the CI says where it is (GITHUB_WORKSPACE, CI_PROJECT_DIR), else the
    enclosing git repository of the current folder, else the current folder."""
    given = os.environ.get(environment_variable) if environment_variable else None
    if given and os.path.isdir(given):
        return Path(os.path.abspath(given))
    cwd = Path.cwd()
    for directory in (cwd, *cwd.parents):
        if (directory / ".git").exists():
            return directory
    return cwd


def relative_path(path: str, root: Path) -> str | None:
    """`path` as a `/`-separated path under `root`, or None when it lies outside."""
    absolute = os.path.abspath(path)
    try:
        relative = os.path.relpath(absolute, root)
    except ValueError:  # another drive
        return None
    if relative == os.pardir or relative.startswith(os.pardir + os.sep):
        return None
    return Path(relative).as_posix()


def fingerprints(diagnostics: list[Diagnostic], sources: dict[str, SourceFile], root: Path) -> list[str]:
    """One hex digest per finding, from its code, file, message and the text of its line (not the
    line number, so code moving up or down keeps the fingerprint); equal findings on equal lines
    of one file are told apart by their order."""
    seen: Counter[str] = Counter()
    found = []
    for d in diagnostics:
        source = sources.get(d.path)
        line = source.line_text(source.row_col(d.start)[0]).strip() if source is not None and source.text else ""
        path = relative_path(d.path, root) or os.path.abspath(d.path)
        key = "\0".join((d.code, path, d.message, line))
        seen[key] += 1
        found.append(hashlib.sha256(f"{key}\0{seen[key]}".encode("utf-8", "surrogatepass")).hexdigest()[:32])
    return found
