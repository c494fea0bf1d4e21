"""Which files a run reads: Python files under the given paths, minus virtualenvs, caches,
`.gitignore`d paths and the configured excludes.  A file named explicitly is always checked."""

from __future__ import annotations

import os
from pathlib import Path

import pathspec

from .config import Config, glob_match

DEFAULT_EXCLUDE = frozenset(
    {
        ".git", ".hg", ".svn", ".bzr", ".venv", "venv", ".tox", ".nox", "node_modules",
        "__pycache__", "build", "dist", ".eggs", ".mypy_cache", ".pytest_cache", ".ruff_cache",
        ".async_lint_cache", "site-packages", "__pypackages__", "_build", "buck-out",
    }
)
PYTHON_SUFFIXES = (".py", ".pyi")


class MissingPath(Exception):
    pass


def _excluded(relative: str, name: str, patterns: list[str]) -> bool:
    return any(
        glob_match(relative, p) or glob_match(name, p) or glob_match(relative, p.rstrip("/") + "/*")
        for p in patterns
    )


def discover(paths: list[str], config: Config) -> list[str]:
    """Absolute paths of the files to check, sorted; MissingPath for a path that does not exist."""
    patterns = config.exclude + config.extend_exclude
    found: set[str] = set()
    for given in paths:
        if not os.path.lexists(given):
            raise MissingPath(given)
        path = os.path.abspath(given)
        if not os.path.isdir(path):
            # Named, and not a folder: checked, as ruff does.  A broken symlink or a symlink loop
            # is then reported as unreadable (ASL902) instead of leaving an empty run.
            found.add(path)
            continue
        gitignores = _enclosing_gitignores(path, config.root) if config.respect_gitignore else {}
        for directory, subdirectories, files in os.walk(path):
            spec = _gitignore(directory) if config.respect_gitignore else None
            if spec is not None:
                gitignores[directory] = spec
            kept = []
            for name in sorted(subdirectories):
                full = os.path.join(directory, name)
                if (
                    name in DEFAULT_EXCLUDE
                    or name.endswith(".egg-info")
                    or os.path.isfile(os.path.join(full, "pyvenv.cfg"))
                    or _excluded(_relative(full, config.root), name, patterns)
                    or _ignored(full + "/", gitignores)
                    or os.path.islink(full)
                ):
                    continue
                kept.append(name)
            subdirectories[:] = kept
            for name in files:
                full = os.path.join(directory, name)
                if (
                    name.endswith(PYTHON_SUFFIXES)
                    and _checkable(full)
                    and not _excluded(_relative(full, config.root), name, patterns)
                    and not _ignored(full, gitignores)
                ):
                    found.add(full)
    return sorted(found)


def _checkable(path: str) -> bool:
    """A regular file, or a symlink that leads nowhere (broken, or a loop: reported unreadable,
    as ruff does).  A named pipe, socket or device found in a folder is skipped: reading a pipe
    would wait for a writer forever."""
    return os.path.isfile(path) or (os.path.islink(path) and not os.path.exists(path))


def _relative(path: str, root: Path) -> str:
    prefix = str(root).rstrip(os.sep) + os.sep
    relative = path[len(prefix):] if path.startswith(prefix) else path
    return relative.replace(os.sep, "/") if os.sep != "/" else relative


def _gitignore(directory: str) -> pathspec.PathSpec | None:
    path = os.path.join(directory, ".gitignore")
    if not os.path.isfile(path):
        return None
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            return pathspec.PathSpec.from_lines("gitwildmatch", handle)
    except OSError:
        return None


def _enclosing_gitignores(path: str, root: Path) -> dict[str, pathspec.PathSpec]:
    """The `.gitignore` files above a folder, up to its repository or the project root, so that
    checking `app/` honours the project's top-level `.gitignore` too."""
    found: dict[str, pathspec.PathSpec] = {}
    directory = path
    while directory != str(root) and not os.path.exists(os.path.join(directory, ".git")):
        parent = os.path.dirname(directory)
        if parent == directory:
            return {}  # in no repository and not under the project root
        directory = parent
        spec = _gitignore(directory)
        if spec is not None:
            found[directory] = spec
    return found


def _ignored(path: str, gitignores: dict[str, pathspec.PathSpec]) -> bool:
    for directory, spec in gitignores.items():
        if path.startswith(directory + os.sep):
            # `path` is absolute and under `directory`: its relative form is a slice.
            if spec.match_file(path[len(directory) + 1 :]):
                return True
    return False
