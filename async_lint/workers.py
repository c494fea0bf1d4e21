"""Checking files, in this process or on every core.

A cold run over a large tree spends most of its time parsing and walking the files that can
matter (those passing the rules' text prefilter).  When there is enough of that text, they are
checked by worker processes, one per core, each holding the project index built once by the
run: on Linux the workers are forked after the index is built, so they share it (and the trees
the index parsed) without copying or pickling; elsewhere each worker receives it once, pickled.
Workers only compute findings and fixed text; the run writes files and reports, in file order.

`ASYNC_LINT_JOBS` sets the number of workers (1: check in this process), as RAYON_NUM_THREADS
does for ruff; by default, one per core available to the process.
"""

from __future__ import annotations

import gc
import multiprocessing
import os
import signal
import sys
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field, replace
from typing import Callable

from .diagnostics import FIX_FAILED, SYNTAX_ERROR, Diagnostic
from .engine import Dispatch, LintSettings, lint_source, too_deep_diagnostic
from .fixes import FixProducedInvalidCode, fix_text
from .functions import ProjectFunctions
from .project_setup import ProjectModel
from .rules import RULES
from .source import SourceFile

JOBS_VARIABLE = "ASYNC_LINT_JOBS"
# Below this much text to parse, starting workers costs more than they save (a fork and a
# result round trip per batch are a few milliseconds; parsing 100 kB is ~15 ms).
PARALLEL_MIN_CHARS = 500_000
# Batches per worker: enough to even out files of very different sizes.
BATCHES_PER_WORKER = 4


@dataclass
class FileOutcome:
    diagnostics: list[Diagnostic]  # as found in the file as it was read
    fixed_text: str | None = None  # the text after fixes, when some applied
    applied: int = 0
    remaining: list[Diagnostic] = field(default_factory=list)  # what the fixed text still has
    # The other files the findings were drawn from (helpers followed into other modules).
    consulted: frozenset[str] = frozenset()


class Checker:
    """What checking one file needs, built once per run (and received once by each worker)."""

    def __init__(self, model: ProjectModel, settings: LintSettings, fix: bool = False, unsafe_fixes: bool = False):
        self.model, self.index, self.settings = model, model.index, settings
        self.fix, self.unsafe_fixes = fix, unsafe_fixes
        self.dispatch = Dispatch(settings.enabled, RULES)
        self._functions: ProjectFunctions | None = None

    def __getstate__(self):
        # Pickled for a spawned worker: the rule objects are rebuilt there.
        return self.model, self.settings, self.fix, self.unsafe_fixes

    @property
    def functions(self) -> ProjectFunctions:
        """Built on first use, in each worker: what it learns about helpers stays there."""
        if self._functions is None:
            self._functions = self.model.functions(self.settings.target, self.dispatch)
        return self._functions

    def __setstate__(self, state) -> None:
        self.__init__(*state)

    def wants(self, source: SourceFile) -> bool:
        """Whether any enabled rule could find something in this text (else it is not parsed)."""
        return self.dispatch.wants(source.text)

    def check(self, source: SourceFile, enabled: frozenset[str]) -> FileOutcome:
        settings = replace(self.settings, enabled=enabled)
        functions = self.functions
        functions.consulted = set()
        try:
            found = lint_source(source, self.index, settings, self.dispatch, self.model.trees.get(source.path), functions)
            diagnostics = [d for d in found if d.code in enabled]
            if self.fix and any(d.fix for d in diagnostics):
                outcome = self._fix(source, settings, diagnostics)
            else:
                outcome = FileOutcome(diagnostics)
        except RecursionError:
            outcome = FileOutcome([too_deep_diagnostic(source.path)] if SYNTAX_ERROR in enabled else [])
        outcome.consulted = frozenset(functions.consulted - {source.path})
        return outcome

    def _fix(self, source: SourceFile, settings: LintSettings, diagnostics: list[Diagnostic]) -> FileOutcome:
        def lint(text: str) -> list[Diagnostic]:
            edited = SourceFile(source.path, text, source.encoding)
            found = lint_source(edited, self.index, settings, self.dispatch, functions=self.functions)
            return [d for d in found if d.code in settings.enabled]

        try:
            fixed_text, applied, remaining = fix_text(source.text, lint, self.unsafe_fixes, diagnostics)
        except FixProducedInvalidCode:
            failure = Diagnostic(
                FIX_FAILED,
                "A fix would have produced code that does not parse; the file was left unchanged "
                "(please report this as a bug in async-lint)",
                source.path, 0, 0,
            )
            return FileOutcome([failure, *diagnostics])
        if applied == 0:
            return FileOutcome(diagnostics)
        return FileOutcome(diagnostics, fixed_text, applied, remaining)


Work = list[tuple[SourceFile, frozenset[str]]]  # each file with the codes enabled for it


def check_files(
    checker: Checker, work: Work, progress: Callable[[int], None] | None = None
) -> list[FileOutcome]:
    """Outcomes in the order of `work`; `progress(n)` is told each time n more files are done."""
    workers = min(worker_count(sum(len(source.text) for source, _ in work)), len(work))
    if workers > 1:
        try:
            return _check_in_workers(checker, work, workers, progress)
        except (OSError, BrokenProcessPool):
            pass  # no processes here (a sandbox without semaphores, a killed worker): go on alone
    outcomes = []
    for source, enabled in work:
        outcomes.append(checker.check(source, enabled))
        if progress is not None:
            progress(1)
    return outcomes


def worker_count(chars: int) -> int:
    requested = os.environ.get(JOBS_VARIABLE, "").strip()
    if requested.isdigit() and int(requested) > 0:
        return int(requested)
    if chars < PARALLEL_MIN_CHARS:
        return 1
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return max(1, cores or 1)


def _check_in_workers(checker: Checker, work: Work, workers: int, progress) -> list[FileOutcome]:
    batches = _batches(work, workers * BATCHES_PER_WORKER)
    outcomes: list[FileOutcome | None] = [None] * len(work)
    pool = ProcessPoolExecutor(
        workers, mp_context=_context(), initializer=_start_worker, initargs=(checker, sys.getrecursionlimit())
    )
    try:
        pending = {pool.submit(_check_batch, [work[i] for i in batch]): batch for batch in batches}
        for future in as_completed(pending):
            batch = pending[future]
            for position, outcome in zip(batch, future.result()):
                outcomes[position] = outcome
            if progress is not None:
                progress(len(batch))
    except BaseException:
        # Interrupted or failed: do not wait for the batches still running.
        pool.shutdown(wait=False, cancel_futures=True)
        for child in multiprocessing.active_children():
            child.terminate()
        raise
    pool.shutdown()
    return outcomes


def _batches(work: Work, count: int) -> list[list[int]]:
    """Positions in `work`, in `count` batches of about equal text size (largest files first,
    each to the lightest batch), so no worker is left with all the big files."""
    batches: list[list[int]] = [[] for _ in range(min(count, len(work)))]
    sizes = [0] * len(batches)
    for position in sorted(range(len(work)), key=lambda i: -len(work[i][0].text)):
        lightest = sizes.index(min(sizes))
        batches[lightest].append(position)
        sizes[lightest] += len(work[position][0].text)
    return [b for b in batches if b]


def _context():
    # Forking shares the index and the parsed trees for free.  It is the safe default only on
    # Linux (macOS system libraries are not fork-safe); the run has no threads when it forks.
    if sys.platform.startswith("linux"):
        return multiprocessing.get_context("fork")
    return multiprocessing.get_context("spawn")


_worker_checker: Checker | None = None


def _start_worker(checker: Checker, recursion_limit: int) -> None:
    global _worker_checker
    _worker_checker = checker
    sys.setrecursionlimit(recursion_limit)
    gc.disable()  # as in the run: many long-lived trees, no cycles
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the run's to handle


def _check_batch(batch: Work) -> list[FileOutcome]:
    return [_worker_checker.check(source, enabled) for source, enabled in batch]
