"""Checking on several cores gives exactly what checking in one process gives."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from async_lint import workers
from async_lint.config import load_config
from async_lint.django_api import parse_version
from async_lint.project_setup import resolve_codes
from async_lint.runner import Options, Run

from .helpers import FIXTURE_PROJECT

# Every rule, the default-off ones included, so that every rule's findings and fixes cross the
# process boundary.
SELECT = ["--select", "ASL", "--extend-select", "ASL203,ASL301"]


def run_cli(folder: Path, jobs: int, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, workers.JOBS_VARIABLE: str(jobs)}
    return subprocess.run(
        [sys.executable, "-m", "async_lint", "check", ".", "--no-cache", "--target-version", "5.2", *SELECT, *args],
        cwd=folder, env=env, capture_output=True, text=True, timeout=300,
    )


def tree_bytes(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*.py"))}


@pytest.mark.parametrize("output", [["--output-format", "json"], ["--diff"], ["--statistics", "--unsafe-fixes"]])
def test_two_workers_report_what_one_process_reports(output):
    alone, parallel = (run_cli(FIXTURE_PROJECT, jobs, *output) for jobs in (1, 2))
    assert alone.returncode == 1 and alone.stdout
    assert (parallel.returncode, parallel.stdout, parallel.stderr) == (alone.returncode, alone.stdout, alone.stderr)


def test_two_workers_fix_files_as_one_process_does(tmp_path: Path):
    fixed = {}
    for jobs in (1, 2):
        copy = tmp_path / f"jobs{jobs}"
        shutil.copytree(FIXTURE_PROJECT, copy)
        result = run_cli(copy, jobs, "--fix", "--unsafe-fixes", "--output-format", "concise")
        fixed[jobs] = (result.stdout, tree_bytes(copy))
    assert fixed[2] == fixed[1]
    assert fixed[1][1] != tree_bytes(FIXTURE_PROJECT)  # something was fixed


def in_process_run(monkeypatch, jobs: int):
    monkeypatch.setenv(workers.JOBS_VARIABLE, str(jobs))
    monkeypatch.chdir(FIXTURE_PROJECT)
    config = load_config(["."], None)
    options = Options(["."], parse_version("5.2"), resolve_codes(["ASL"], []))
    report = Run(options, config).execute()
    return sorted((d.path, d.start, d.code, d.message, d.fix) for d in report.diagnostics)


def test_spawned_workers_receive_the_index_pickled(monkeypatch):
    # What macOS and Windows do: no fork, so the checker (index, settings) is pickled once per
    # worker and its rules rebuilt there.
    expected = in_process_run(monkeypatch, 1)
    monkeypatch.setattr(workers, "_context", lambda: workers.multiprocessing.get_context("spawn"))
    assert in_process_run(monkeypatch, 2) == expected


def test_a_run_goes_on_alone_when_no_process_can_start(monkeypatch):
    expected = in_process_run(monkeypatch, 1)

    def no_processes(*args, **kwargs):
        raise OSError(38, "Function not implemented")

    monkeypatch.setattr(workers, "ProcessPoolExecutor", no_processes)
    assert in_process_run(monkeypatch, 2) == expected


def die(batch):
    os._exit(1)


def test_a_run_goes_on_alone_when_a_worker_dies(monkeypatch):
    expected = in_process_run(monkeypatch, 1)
    monkeypatch.setattr(workers, "_check_batch", die)  # every batch kills its worker
    assert in_process_run(monkeypatch, 2) == expected


def test_batches_even_out_file_sizes():
    sizes = [900, 500, 400, 300, 300, 100, 100, 100]
    work = [(workers.SourceFile(f"{i}.py", "x" * size), frozenset()) for i, size in enumerate(sizes)]
    batches = workers._batches(work, 2)
    assert sorted(position for batch in batches for position in batch) == list(range(len(sizes)))
    assert [sum(sizes[i] for i in batch) for batch in batches] == [1400, 1300]


def test_small_runs_stay_in_one_process(monkeypatch):
    monkeypatch.delenv(workers.JOBS_VARIABLE, raising=False)
    assert workers.worker_count(workers.PARALLEL_MIN_CHARS - 1) == 1
    monkeypatch.setenv(workers.JOBS_VARIABLE, "3")
    assert workers.worker_count(10) == 3
