"""A persistent cache, as ruff's: `.async_lint_cache/` in the project root, ignored by itself.

A file's findings depend on its own text, on the project's model index, and on the other files
whose functions it calls.  So the key of a file's findings covers the tool (version and the hash
of its own source), the settings that change findings, the file (path, module name, encoding,
text) and a fingerprint of what the index is built from (each file's facts: its class headers,
signals, twins; the whole text of the files defining model classes); each entry also records
the hash of every other file its findings were drawn from, and is void once one changed.  The
built index is stored too, keyed by that fingerprint, and each file's facts, keyed by its text
hash (and found without reading the file when its size and modification time are unchanged),
so after an edit only the edited file is read again.

Nothing about the cache may break a run: an unreadable or corrupt cache is ignored, a cache that
cannot be written is not written, and writes go through a temporary file and a rename.  The
cache is loaded with an unpickler that only builds plain data and the index's own classes, so a
cache folder planted in a checked-out repository cannot run code.
"""

from __future__ import annotations

import hashlib
import io
import os
import pickle
import shutil
import sys
import tempfile
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterable

from . import __version__
from .diagnostics import Applicability, Diagnostic, Edit, Fix

CACHE_DIR = ".async_lint_cache"
_RESULTS = "results.pickle"
_INDEX = "index.pickle"
_FACTS = "facts.pickle"


@lru_cache(maxsize=1)
def tool_hash() -> str:
    """async-lint's version, the Python version (it parses) and the hash of every source file
    of the package: editing a rule invalidates the cache."""
    digest = hashlib.blake2b(digest_size=16)
    digest.update(f"{__version__}\0{sys.version}\0".encode())
    package = os.path.dirname(os.path.abspath(__file__))
    for directory, folders, files in os.walk(package):
        folders[:] = sorted(f for f in folders if f != "__pycache__")
        for name in sorted(files):
            if name.endswith(".py"):
                path = os.path.join(directory, name)
                digest.update(os.path.relpath(path, package).encode() + b"\0")
                with open(path, "rb") as handle:
                    digest.update(handle.read())
    return digest.hexdigest()


def text_hash(text: str) -> bytes:
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).digest()


def current_hash(path: str, hashes: dict[str, bytes]) -> bytes | None:
    """The hash of a file findings were drawn from: a project module's from the run's hashes,
    another file's (a template, read by the template rules) from the disk."""
    if path in hashes:
        return hashes[path]
    try:
        with open(path, encoding="utf-8") as handle:
            return text_hash(handle.read())
    except (OSError, UnicodeDecodeError):
        return None


def fingerprint(parts: Iterable[Any]) -> str:
    digest = hashlib.blake2b(digest_size=16)
    for part in parts:
        digest.update(repr(part).encode("utf-8", "surrogatepass"))
        digest.update(b"\0")
    return digest.hexdigest()


# -- findings as plain data -------------------------------------------------------------------


def dump_diagnostics(diagnostics: list[Diagnostic]) -> tuple:
    return tuple(
        (
            d.code, d.message, d.start, d.end,
            None if d.fix is None else (
                d.fix.message, tuple((e.start, e.end, e.content) for e in d.fix.edits), d.fix.applicability.value
            ),
            d.notes,
        )
        for d in diagnostics
    )


def load_diagnostics(data: tuple, path: str) -> list[Diagnostic]:
    return [
        Diagnostic(
            code, message, path, start, end,
            None if fix is None else Fix(fix[0], tuple(Edit(*e) for e in fix[1]), Applicability(fix[2])),
            notes,
        )
        for code, message, start, end, fix, notes in data
    ]


# -- safe loading -----------------------------------------------------------------------------

_ALLOWED = {
    ("collections", "defaultdict"),
    ("builtins", "list"),
    ("builtins", "set"),
    ("builtins", "frozenset"),
    ("copyreg", "_reconstructor"),
    ("builtins", "object"),
    *(
        ("async_lint.project", name)
        for name in ("ProjectIndex", "ClassInfo", "Model", "Relation", "ManagerSpec", "FileFacts")
    ),
}


class _Unpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str):
        if (module, name) not in _ALLOWED:
            raise pickle.UnpicklingError(f"{module}.{name} is not allowed in the cache")
        return super().find_class(module, name)


def _load(path: Path) -> Any:
    try:
        with open(path, "rb") as handle:
            return _Unpickler(io.BytesIO(handle.read())).load()
    except Exception:  # missing, unreadable, corrupt, from another version: no cache
        return None


def _write_atomic(path: Path, value: Any) -> None:
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".pickle")
    try:
        with os.fdopen(handle, "wb") as output:
            pickle.dump(value, output, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise


class Cache:
    """Findings per file and the last project index, under `<root>/.async_lint_cache/<tool hash>/`."""

    def __init__(self, root: Path):
        self.folder = Path(root) / CACHE_DIR
        self.tool = tool_hash()
        self.directory = self.folder / self.tool
        results = _load(self.directory / _RESULTS)
        self.results: dict[str, tuple[str, tuple]] = results if isinstance(results, dict) else {}
        self.changed = False
        self._new_index: tuple[str, Any] | None = None
        self._new_facts: tuple[tuple[str, ...], dict] | None = None

    # Findings

    def get(self, path: str, key: str, hashes: dict[str, bytes]) -> list[Diagnostic] | None:
        """The findings stored under `key`, unless one of the other files they were drawn from
        (`hashes`: every project file's current text hash) changed since."""
        entry = self.results.get(path)
        if not isinstance(entry, tuple) or len(entry) != 3 or entry[0] != key:
            return None
        try:
            if any(current_hash(other, hashes) != digest for other, digest in entry[2].items()):
                return None
            return load_diagnostics(entry[1], path)
        except Exception:
            return None

    def put(self, path: str, key: str, diagnostics: list[Diagnostic], depends_on: dict[str, bytes | None]) -> None:
        self.results[path] = (key, dump_diagnostics(diagnostics), depends_on)
        self.changed = True

    # The project index

    def index(self, key: str):
        from .project import ProjectIndex

        entry = _load(self.directory / _INDEX)
        if isinstance(entry, tuple) and len(entry) == 2 and entry[0] == key and isinstance(entry[1], ProjectIndex):
            return entry[1]
        return None

    def put_index(self, key: str, index) -> None:
        self._new_index = (key, index)

    # Each file's facts for the index

    def facts(self, twin_patterns: tuple[str, ...]) -> dict[str, tuple]:
        """path → (stamp, text hash, module name, FileFacts), as stored by the last run with
        these twin patterns."""
        entry = _load(self.directory / _FACTS)
        if isinstance(entry, tuple) and len(entry) == 2 and entry[0] == twin_patterns and isinstance(entry[1], dict):
            return entry[1]
        return {}

    def put_facts(self, twin_patterns: tuple[str, ...], facts: dict[str, tuple]) -> None:
        self._new_facts = (twin_patterns, facts)

    def save(self) -> None:
        """Write what changed; never raise."""
        if not self.changed and self._new_index is None and self._new_facts is None:
            return
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            gitignore = self.folder / ".gitignore"
            if not gitignore.exists():
                gitignore.write_text("# Automatically created by async-lint.\n*\n", encoding="utf-8")
            # Caches of other async-lint versions are of no more use.
            for other in self.folder.iterdir():
                if other.is_dir() and other.name != self.tool:
                    shutil.rmtree(other, ignore_errors=True)
            if self.changed:
                # Entries of files deleted since are dropped, so the cache does not only grow.
                self.results = {p: entry for p, entry in self.results.items() if os.path.exists(p)}
                _write_atomic(self.directory / _RESULTS, self.results)
            if self._new_index is not None:
                _write_atomic(self.directory / _INDEX, self._new_index)
            if self._new_facts is not None:
                _write_atomic(self.directory / _FACTS, self._new_facts)
        except Exception:
            pass


def clean(root: Path) -> Path | None:
    """Remove the cache folder; the folder removed, or None when there was none."""
    folder = Path(root) / CACHE_DIR
    if not folder.exists():
        return None
    shutil.rmtree(folder)
    return folder
