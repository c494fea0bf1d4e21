"""A run over files: read, index the project, check, fix, write."""

from __future__ import annotations

import ast
import errno
import gc
import hashlib
import os
import stat
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable

from . import cache as cache_module
from .config import Config
from .diagnostics import FIX_FAILED, UNREADABLE, Diagnostic
from .discovery import discover
from .django_api import Version
from .engine import Dispatch, LintSettings, parse
from .imports import module_name_for
from .project import FileFacts, ProjectIndex, file_facts, files_defining_model_classes
from .project_setup import ProjectModel, enabled_for, installed_models, module_paths
from .source import SourceFile, UnreadableSource

if TYPE_CHECKING:
    from .workers import FileOutcome, Work

@dataclass
class Options:
    paths: list[str]
    target: Version
    enabled: frozenset[str]
    fix: bool = False
    unsafe_fixes: bool = False
    diff: bool = False
    reach: Version | None = None  # the newest Django the project runs on (None: the target)
    # Standard input, linted as `paths[0]` (which need not exist): nothing is written, the cache
    # is not used, and a fix ends in Report.changes.
    stdin: bytes | None = None


@dataclass
class Report:
    diagnostics: list[Diagnostic] = field(default_factory=list)
    sources: dict[str, SourceFile] = field(default_factory=dict)
    changes: dict[str, tuple[str, str]] = field(default_factory=dict)  # path → (before, after)
    fixes_applied: int = 0
    files_checked: int = 0
    fixed: dict[str, Counter] = field(default_factory=dict)  # path → the codes fixed there


class Run:
    def __init__(
        self,
        options: Options,
        config: Config,
        progress: Callable[[int, int], None] | None = None,
        cache: "cache_module.Cache | None" = None,
    ):
        self.options = options
        self.config = config
        # The persistent cache is used only by a plain check: --fix and --diff compute afresh.
        self.cache = cache if not (options.fix or options.diff) else None
        self.hashes: dict[str, bytes] = {}  # path → hash of its text, for the cache keys
        self.settings_key = ""
        self.progress = progress  # called with (files checked, files in the run)
        self.trees: dict[str, ast.Module | None] = {}
        self.sources: dict[str, SourceFile] = {}
        self.read_hashes: dict[str, bytes] = {}  # under --fix: path → hash of the bytes read
        self.module_paths: dict[str, str] = {}  # the project's modules by dotted name
        self._index_sources: dict[str, SourceFile] = {}  # files read only for the index
        self._index_key = ""
        # Each file's facts for the cache: (stamp, text hash, module name, FileFacts), those
        # computed by this run and those it took from the cache unchanged.
        self._fresh_facts: dict[str, tuple] = {}
        self._stored_facts: dict[str, tuple] = {}
        self.report = Report()

    def execute(self) -> Report:
        # Parsed trees stay alive for the whole run and hold no reference cycles: the cyclic
        # collector would only walk millions of AST nodes again and again (20-26% of the CPU).
        collecting = gc.isenabled()
        gc.disable()
        try:
            return self._execute()
        finally:
            if collecting:
                gc.enable()

    def _execute(self) -> Report:
        if self.options.stdin is not None:
            files = [os.path.abspath(self.options.paths[0])]
            try:
                self.sources[files[0]] = SourceFile.from_bytes(files[0], self.options.stdin)
            except UnreadableSource as error:
                self._unreadable(files[0], str(error))
        else:
            files = discover(self.options.paths, self.config)
            self._read(files)
        facts = self._facts(files)
        settings = LintSettings(self.options.target, self.options.enabled, self.config.twins, self.options.reach)
        # Rules and workers are imported only by a run that has files to check.
        dispatch = None
        found: dict[str, list[Diagnostic]] = {}
        work: Work = []
        keys: dict[str, str] = {}  # cache keys of the files not found in the cache
        for path in files:
            source = self.sources.get(path)
            if source is None:
                continue
            enabled = self._enabled_for(path)
            if self.cache is not None:
                key = self._file_key(source, enabled)
                cached = self.cache.get(path, key, self.hashes)
                if cached is not None:
                    found[path] = cached
                    continue
                keys[path] = key  # to store what is found
            if dispatch is None:
                from .rules import RULES

                dispatch = Dispatch(self.options.enabled, RULES)
            if dispatch.wants(source.text):
                work.append((source, enabled))
            else:
                found[path] = []  # nothing any enabled rule looks for: not parsed
        done = len(files) - len(work)

        def advance(count: int) -> None:
            nonlocal done
            done += count
            if self.progress is not None:
                self.progress(done, len(files))

        consulted: dict[str, frozenset[str]] = {}
        if work:
            # The index, the rules and the workers are needed only when some file is checked:
            # a warm run does without them.
            from .workers import Checker, check_files

            model = ProjectModel(self._index(facts), self.module_paths, trees=self.trees)
            checker = Checker(model, settings, self.options.fix or self.options.diff, self.options.unsafe_fixes)
            for (source, _), outcome in zip(work, check_files(checker, work, advance)):
                found[source.path] = self._settle(source, outcome)
                consulted[source.path] = outcome.consulted
        for path in files:
            diagnostics = found.get(path, [])
            if path in keys:
                depends_on = {p: cache_module.current_hash(p, self.hashes) for p in consulted.get(path, ())}
                self.cache.put(path, keys[path], diagnostics, depends_on)
            self.report.diagnostics.extend(diagnostics)
        if self.cache is not None:
            self.cache.save()
        self.report.files_checked = len(files)
        self.report.sources = self.sources
        return self.report

    def project_model(self) -> ProjectModel:
        """The project model of the paths alone, built as a check builds it: each file's facts
        and the index taken from the cache when unchanged, the cache then updated (the flake8
        plugin's, so that a warm flake8 run does not rebuild the index)."""
        model = ProjectModel(self._index(self._facts(discover(self.options.paths, self.config))), self.module_paths)
        if self.cache is not None:
            self.cache.save()
        return model

    def _read(self, files: list[str]) -> None:
        writing = self.options.fix and not self.options.diff
        for path in files:
            try:
                with open(path, "rb") as handle:
                    data = handle.read()
                self.sources[path] = SourceFile.from_bytes(path, data)
                if writing:
                    self.read_hashes[path] = _bytes_hash(data)
            except UnreadableSource as error:
                self._unreadable(path, str(error))
            except OSError as error:
                if error.errno != errno.ELOOP and os.path.islink(path) and not os.path.exists(path):
                    self._unreadable(path, f"a broken symbolic link (to {os.readlink(path)}, which does not exist)")
                else:
                    self._unreadable(path, error.strerror or str(error))

    def _unreadable(self, path: str, why: str) -> None:
        if UNREADABLE in self.options.enabled:
            self.report.diagnostics.append(Diagnostic(UNREADABLE, f"Cannot read file: {why}", path, 0, 0))
            self.sources.setdefault(path, SourceFile(path, ""))

    def _parse(self, path: str):
        if path not in self.trees:
            # A file whose facts came from the cache was not read: read it now.
            source = self.sources.get(path) or self._index_sources.get(path) or self._read_for_index(path)
            tree = parse(source) if source is not None else None
            self.trees[path] = tree if isinstance(tree, ast.Module) else None
        tree = self.trees[path]
        return (tree, *module_name_for(path)) if tree is not None else None

    def _facts(self, files: list[str]) -> dict[str, FileFacts]:
        """Every project file's facts for the model index.  The index covers the whole project
        root, not only the paths being checked: `async-lint check app/views.py` still needs
        `app/models.py`.  With the cache, a file whose size and modification time are those
        stored is not even read; one whose text is unchanged is not parsed again."""
        project_files = set(files)
        root = str(self.config.root)
        checked_whole_root = any(os.path.abspath(p) == root for p in self.options.paths)
        if not checked_whole_root and any(os.path.commonpath([root, f]) == root for f in files):
            project_files.update(discover([root], self.config))
        self.module_paths = module_paths(project_files)
        patterns = self.config.twins.patterns
        stored = self.cache.facts(patterns) if self.cache is not None else {}
        facts: dict[str, FileFacts] = {}

        def imported_by(paths: list[str]) -> set[str]:
            self._add_facts([p for p in paths if p not in facts], facts, stored)
            return {m for p in paths if p in facts for m in facts[p].imported_models}

        # With the models of installed packages the project imports (`from corelib.models
        # import Artifact`), located without importing them.
        installed = installed_models(sorted(project_files), imported_by, self.module_paths)
        self.module_paths.update(module_paths(installed))
        self._stored_facts = {p: stored[p] for p in facts if p in stored and p not in self._fresh_facts}
        selected = set(files_defining_model_classes(facts))
        # What the index is built from: each file's module name and facts, and the whole text of
        # the files whose classes it reads.
        self._index_key = cache_module.fingerprint(
            [patterns, *((p, module_name_for(p), facts[p].summary(), p in selected and self.hashes[p]) for p in sorted(facts))]
        )
        self.settings_key = cache_module.fingerprint(
            (self._index_key, self.options.target, self.options.reach, sorted(self.options.enabled), self.config.twins)
        )
        return facts

    def _add_facts(self, paths: list[str], facts: dict[str, FileFacts], stored: dict[str, tuple]) -> None:
        patterns = self.config.twins.patterns
        for path in paths:
            module = module_name_for(path)
            entry = stored.get(path)
            stamp = _stamp(path)
            if entry is not None and entry[0] == stamp and entry[2] == module and path not in self.sources:
                self.hashes[path], facts[path] = entry[1], entry[3]
                continue
            source = self.sources.get(path) or self._read_for_index(path)
            if source is None:
                continue
            text_hash = cache_module.text_hash(source.text)
            if entry is not None and entry[1] == text_hash and entry[2] == module:
                file = entry[3]
            else:
                file = file_facts(source.text, lambda p=path: self._parse(p), patterns)
            self.hashes[path], facts[path] = text_hash, file
            self._fresh_facts[path] = (stamp, text_hash, module, file)

    def _read_for_index(self, path: str) -> SourceFile | None:
        """A file read only for the index: kept for parsing, never reported on."""
        try:
            with open(path, "rb") as handle:
                source = SourceFile.from_bytes(path, handle.read())
        except (OSError, UnreadableSource):
            return None
        self._index_sources[path] = source
        return source

    def _index(self, facts: dict[str, FileFacts]) -> ProjectIndex:
        index = self.cache.index(self._index_key) if self.cache is not None else None
        if index is None:
            index = ProjectIndex.assemble(facts, self._parse)
            if self.cache is not None:
                self.cache.put_index(self._index_key, index)
        if self.cache is not None:
            # Classes read while assembling are kept with the facts.
            self.cache.put_facts(self.config.twins.patterns, {**self._stored_facts, **self._fresh_facts})
        return index

    def _file_key(self, source: SourceFile, enabled: frozenset[str]) -> str:
        text_hash = self.hashes.get(source.path) or cache_module.text_hash(source.text)
        return cache_module.fingerprint(
            (self.settings_key, source.path, module_name_for(source.path), source.encoding, sorted(enabled), text_hash)
        )

    def _enabled_for(self, path: str) -> frozenset[str]:
        return enabled_for(path, self.options.enabled, self.config)

    def _settle(self, source: SourceFile, outcome: FileOutcome) -> list[Diagnostic]:
        """Write what the checker fixed (unless only showing a diff); the findings to report."""
        if outcome.fixed_text is None:
            return outcome.diagnostics
        if self.options.diff or self.options.stdin is not None:
            self.report.changes[source.path] = (source.text, outcome.fixed_text)
            self.report.fixes_applied += outcome.applied
            return outcome.remaining if self.options.stdin is not None and not self.options.diff else outcome.diagnostics
        try:
            write_atomic(source.path, source.to_bytes(outcome.fixed_text), self.read_hashes.get(source.path))
        except (OSError, UnicodeEncodeError) as error:
            why = getattr(error, "strerror", None) or str(error)
            left = "" if isinstance(error, FileNotFoundError) else "; it was left unchanged"
            failure = Diagnostic(FIX_FAILED, f"Cannot write the fixed file: {why}{left}", source.path, 0, 0)
            return [failure, *outcome.diagnostics]
        self.sources[source.path] = SourceFile(source.path, outcome.fixed_text, source.encoding)
        self.report.fixed[source.path] = Counter(d.code for d in outcome.diagnostics) - Counter(d.code for d in outcome.remaining)
        self.report.changes[source.path] = (source.text, outcome.fixed_text)
        self.report.fixes_applied += outcome.applied
        return outcome.remaining


def write_atomic(path: str, data: bytes, read_hash: bytes | None = None) -> None:
    """Write through a temporary file in the same folder and rename, keeping the mode.  A
    symlink is written through, not replaced.  With `read_hash` (of the bytes the new text was
    computed from), a file deleted or edited since it was read is left as it is now: checked
    just before the rename, which leaves a window of microseconds rather than the whole run."""
    path = os.path.realpath(path)
    mode = stat.S_IMODE(os.stat(path).st_mode)
    # The rename needs only the folder to be writable, and root passes os.access() anyway: a
    # file without any write bit is read-only on purpose.
    if not os.access(path, os.W_OK) or not mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH):
        raise PermissionError(errno.EACCES, "Permission denied (read-only file)")
    directory = os.path.dirname(path) or "."
    handle, temporary = tempfile.mkstemp(dir=directory, prefix=".async-lint-", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as output:
            output.write(data)
        os.chmod(temporary, mode)
        if read_hash is not None:
            try:
                with open(path, "rb") as current:
                    unchanged = _bytes_hash(current.read()) == read_hash
            except FileNotFoundError:
                raise FileNotFoundError(errno.ENOENT, "it was deleted during the run") from None
            if not unchanged:
                raise OSError(errno.EAGAIN, "it was edited after async-lint read it (run async-lint again to fix it)")
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise


def _stamp(path: str) -> tuple[int, int, int] | None:
    """What tells a file changed without reading it: size, modification time, inode."""
    try:
        status = os.stat(path)
    except OSError:
        return None
    return status.st_size, status.st_mtime_ns, status.st_ino


def _bytes_hash(data: bytes) -> bytes:
    return hashlib.blake2b(data, digest_size=16).digest()
