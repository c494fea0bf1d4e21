#!/usr/bin/env python
"""How long a full `async-lint check` takes, next to the floor of plain `ast.parse`.

    python benchmarks/bench_django_source.py [TREE] [--repeat N] [--profile] [--with-flake8-async] [--with-fixit]

TREE defaults to the installed `django` package.  The target (from the issue) is that a full run
takes at most 2.5x the time of `ast.parse` over the same files.  This script prints numbers; it
asserts nothing.

What is measured, all side by side in this one process:

* floor: read every .py/.pyi file under TREE (bytes -> decode; the usual virtualenv, cache and
  build folders skipped) and `ast.parse` it, best of N.  How many files async-lint itself checks
  (config excludes, .gitignore files) is read from its report, and a different count is flagged,
  since the ratio only means something when both sides read the same files;
* async-lint in-process: `async_lint.cli.main(["check", TREE, "--output-format", "json",
  "--exit-zero"])` with stdout captured, best of N (no interpreter start, no imports);
* async-lint subprocess: the same command line as a user runs it (what the `async-lint` console
  script runs, with this interpreter and environment), wall time best of N, peak RSS from GNU
  time (see run_child);
* tracemalloc peak of one more in-process run (untimed: tracemalloc slows Python down a lot);
* the same command in one process (ASYNC_LINT_JOBS=1), next to the default (one worker per
  core once there is enough text to parse);
* a table of tools: async-lint, ruff --select ASYNC when installed, and (they take minutes)
  flake8 --select ASYNC (--with-flake8-async) and fixit lint (--with-fixit);
* optionally cProfile of one in-process run (--profile).

Wall times on a shared machine include waiting for a CPU, so CPU times (process_time plus the
finished workers in-process, user+sys from wait4 for a child) are printed next to them, with
their own ratio (no verdict: with workers, CPU is summed over processes and exceeds wall; the
goal is about the wall time a user waits).

Every command runs with the current directory set to TREE, as `async-lint check .` would be run
from a project's root (async-lint's project root, whose files its model index reads, can fall
back to the current directory).
"""

from __future__ import annotations

import argparse
import ast
import contextlib
import cProfile
import gc
import importlib.util
import io
import json
import os
import pstats
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import tracemalloc
import warnings

TARGET_RATIO = 2.5


# -- the files -------------------------------------------------------------------------------


# Folders no Python project wants checked (async-lint's own default excludes, copied so that the
# floor does not depend on async-lint's discovery).
SKIPPED_FOLDERS = frozenset(
    {
        ".git", ".hg", ".svn", ".bzr", ".venv", "venv", ".tox", ".nox", "node_modules",
        "__pycache__", "build", "dist", ".eggs", ".mypy_cache", ".pytest_cache", ".ruff_cache",
        ".async_lint_cache", "site-packages", "__pypackages__", "_build", "buck-out",
    }
)


def python_files(tree: str) -> list[str]:
    """Every .py/.pyi file under the tree: what the floor parses."""
    found = []
    for directory, subdirectories, names in os.walk(tree):
        subdirectories[:] = sorted(
            d for d in subdirectories
            if d not in SKIPPED_FOLDERS and not d.endswith(".egg-info")
            and not os.path.islink(os.path.join(directory, d))
        )
        found.extend(os.path.join(directory, n) for n in names if n.endswith((".py", ".pyi")))
    return sorted(found)


def read_all(paths: list[str]) -> list[tuple[str, str]]:
    texts = []
    for path in paths:
        with open(path, "rb") as handle:
            data = handle.read()
        texts.append((path, data.decode("utf-8", errors="replace")))
    return texts


# -- the floor -------------------------------------------------------------------------------


def floor_once(paths: list[str]) -> tuple[float, float]:
    """Read (bytes -> decode) and ast.parse every file; the trees are dropped as we go.
    (wall seconds, CPU seconds of this process)."""
    start, cpu = time.perf_counter(), time.process_time()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # invalid escape sequences
        for path in paths:
            with open(path, "rb") as handle:
                text = handle.read().decode("utf-8", errors="replace")
            try:
                ast.parse(text, filename=path)
            except (SyntaxError, ValueError, RecursionError):
                pass
    return time.perf_counter() - start, time.process_time() - cpu


# -- async-lint ------------------------------------------------------------------------------


LINT_ARGS: list[str] = []  # --lint-arg: extra options for async-lint


def lint_argv(tree: str, cache: bool = False) -> list[str]:
    """Cold runs by default (--no-cache); `cache=True` for the warm runs of the persistent cache."""
    return ["check", tree, "--output-format", "json", "--exit-zero", *([] if cache else ["--no-cache"]), *LINT_ARGS]


class InProcessResult:
    def __init__(self, seconds: float, cpu: float, gc_cpu: float, code: int, stdout: str, stderr: str):
        self.seconds, self.cpu, self.gc, self.code = seconds, cpu, gc_cpu, code
        self.stdout, self.stderr = stdout, stderr


def lint_in_process(tree: str, profiler: cProfile.Profile | None = None, cache: bool = False) -> InProcessResult:
    from async_lint.cli import main

    out, err = io.StringIO(), io.StringIO()
    gc_cpu, gc_start = [0.0], [0.0]

    def on_gc(phase: str, _info: dict) -> None:  # CPU spent in the cyclic garbage collector
        if phase == "start":
            gc_start[0] = time.process_time()
        else:
            gc_cpu[0] += time.process_time() - gc_start[0]

    gc.collect()
    gc.callbacks.append(on_gc)
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        start, cpu = time.perf_counter(), _cpu_with_workers()
        if profiler is not None:
            profiler.enable()
        try:
            code = main(lint_argv(tree, cache))
        finally:
            if profiler is not None:
                profiler.disable()
        seconds, cpu = time.perf_counter() - start, _cpu_with_workers() - cpu
    gc.callbacks.remove(on_gc)
    return InProcessResult(seconds, cpu, gc_cpu[0], code, out.getvalue(), err.getvalue())


def _cpu_with_workers() -> float:
    """CPU seconds of this process and of its finished children (async-lint's workers)."""
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + children.ru_utime + children.ru_stime


@contextlib.contextmanager
def counting_files_checked():
    """Collects how many files async-lint itself checks (its config, excludes and .gitignore
    rules) from the report of each in-process run; nothing if its internals no longer say."""
    seen: list[int] = []
    try:
        from async_lint import runner
    except ImportError:
        yield seen
        return
    execute = getattr(getattr(runner, "Run", None), "execute", None)
    if execute is None:
        yield seen
        return

    def counting(self):
        report = execute(self)
        count = getattr(report, "files_checked", None)
        if isinstance(count, int):
            seen.append(count)
        return report

    runner.Run.execute = counting
    try:
        yield seen
    finally:
        runner.Run.execute = execute


GNU_TIME = "/usr/bin/time"


def _has_gnu_time() -> bool:
    if not os.access(GNU_TIME, os.X_OK):
        return False
    probe = subprocess.run(
        [GNU_TIME, "-f", "%M", "true"], capture_output=True, text=True, stdin=subprocess.DEVNULL
    )
    return probe.returncode == 0 and probe.stderr.strip().isdigit()


HAS_GNU_TIME = _has_gnu_time()


def run_child(argv: list[str], cwd: str, env: dict[str, str] | None = None) -> tuple[float, int, int, str, str, float]:
    """(wall seconds, exit code, peak RSS in KiB, stdout, stderr, CPU seconds) of one child.

    The peak RSS comes from GNU time when there is one: Linux carries a process's peak RSS across
    fork and exec, so wait4()'s ru_maxrss of a child of this (large) process reports at least
    this process's own peak.  Without GNU time that overstated number is all there is."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err, \
            tempfile.NamedTemporaryFile("r", suffix=".rss") as rss_file:
        if HAS_GNU_TIME:
            argv = [GNU_TIME, "-f", "%M", "-o", rss_file.name, *argv]
        start = time.perf_counter()
        process = subprocess.Popen(argv, cwd=cwd, env=env, stdout=out, stderr=err, stdin=subprocess.DEVNULL)
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - start
        process.returncode = os.waitstatus_to_exitcode(status)
        peak = usage.ru_maxrss  # KiB on Linux
        if HAS_GNU_TIME:
            # "Command exited with non-zero status N" may come first; the number is last.
            words = rss_file.read().split()
            peak = int(words[-1]) if words and words[-1].isdigit() else peak
        out.seek(0)
        err.seek(0)
        return (
            seconds,
            process.returncode,
            peak,
            out.read().decode("utf-8", "replace"),
            err.read().decode("utf-8", "replace"),
            usage.ru_utime + usage.ru_stime,
        )


def count_findings(stdout: str) -> int | None:
    try:
        return len(json.loads(stdout))
    except ValueError:
        return None


def failure(code: int, stderr: str) -> str | None:
    """async-lint exits 0 with --exit-zero; anything else (2: usage or internal error) means the
    run was not a full run and its time is not comparable."""
    if code == 0:
        return None
    lines = [line for line in stderr.strip().splitlines() if line.strip()]
    return f"exit {code}: {lines[0] if lines else '(no message)'}"


# -- other tools ---------------------------------------------------------------------------
# Each: (wall seconds, findings, peak RSS MB) or a reason it was not run.  Their own parallelism
# and defaults, no cache; they check other things, so these are costs, not a contest of results.


def ruff(tree: str) -> tuple[float, int, float] | str:
    executable = shutil.which("ruff")
    if executable is None:
        return "not installed"
    argv = [executable, "check", "--isolated", "--no-cache", "--select", "ASYNC", "--exit-zero", "--output-format", "json", "."]
    seconds, code, rss, stdout, stderr, _ = run_child(argv, cwd=tree)
    if code != 0:
        return f"failed (exit {code}): {stderr.strip()[:200]}"
    return seconds, len(json.loads(stdout or "[]")), rss / 1024


def flake8_async(tree: str) -> tuple[float, int, float] | str:
    if importlib.util.find_spec("flake8") is None or importlib.util.find_spec("flake8_async") is None:
        return "not installed"
    seconds, code, rss, stdout, stderr, _ = run_child([sys.executable, "-m", "flake8", "--select", "ASYNC", "."], cwd=tree)
    if code not in (0, 1):
        return f"failed (exit {code}) after {seconds:.1f} s: {stderr.strip()[:200]}"
    return seconds, sum(1 for line in stdout.splitlines() if line.strip()), rss / 1024


def fixit(tree: str) -> tuple[float, int, float] | str:
    executable = shutil.which("fixit")
    if executable is None:
        return "not installed"
    seconds, code, rss, stdout, stderr, _ = run_child([executable, "lint", "."], cwd=tree)
    if code not in (0, 1):
        return f"failed (exit {code}) after {seconds:.1f} s: {stderr.strip()[:200]}"
    return seconds, sum(1 for line in stdout.splitlines() if "@" in line.split(" ", 1)[0]), rss / 1024


# -- the report ------------------------------------------------------------------------------


def verdict(ratio: float, problem: str | None) -> str:
    if problem:
        return "NOT COMPARABLE (see below)"
    return f"{'OK' if ratio <= TARGET_RATIO else 'OVER'} (target <= {TARGET_RATIO}x)"


def _commit(module_file: str) -> str:
    """` @ <commit>` (`+dirty` with local changes to the package) when async_lint is in a git checkout."""
    package = os.path.dirname(os.path.abspath(module_file))
    try:
        head = subprocess.run(
            ["git", "-C", package, "rev-parse", "--short", "HEAD"], capture_output=True, text=True, timeout=10
        )
        if head.returncode != 0:
            return ""
        dirty = subprocess.run(
            ["git", "-C", package, "status", "--porcelain", "--", "."], capture_output=True, text=True, timeout=10
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""
    return f" @ {head.stdout.strip()}{'+dirty' if dirty else ''}"


def _work_chars(tree: str) -> int:
    """How much text the run parses for its rules (what decides whether workers start)."""
    from async_lint.engine import Dispatch
    from async_lint.project_setup import resolve_codes
    from async_lint.rules import RULES

    dispatch = Dispatch(resolve_codes(["ASL"], []), RULES)
    return sum(len(text) for _, text in read_all(python_files(tree)) if dispatch.wants(text))


def rate(lines: int, seconds: float) -> str:
    return f"{lines / seconds:,.0f} lines/s" if seconds > 0 else "-"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("tree", nargs="?", help="folder to check (default: the installed django package)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per measurement; the best is kept (default 3)")
    parser.add_argument("--profile", action="store_true", help="print a cProfile of one in-process run")
    parser.add_argument("--with-flake8-async", action="store_true", help="also time flake8 --select ASYNC (minutes)")
    parser.add_argument("--with-fixit", action="store_true", help="also time `fixit lint` (minutes)")
    parser.add_argument(
        "--lint-arg", action="append", default=[], metavar="ARG",
        help="an extra option for async-lint, repeatable (e.g. --lint-arg=--no-respect-gitignore)",
    )
    args = parser.parse_args(argv)
    LINT_ARGS[:] = args.lint_arg

    if args.tree is None:
        import django

        tree = os.path.dirname(os.path.abspath(django.__file__))
    else:
        tree = os.path.abspath(args.tree)
    if not os.path.isdir(tree):
        parser.error(f"not a folder: {tree}")
    repeat = max(args.repeat, 1)
    began = time.perf_counter()
    os.chdir(tree)  # as `async-lint check .` from the project root (see the module docstring)

    import async_lint

    import async_lint.cli  # noqa: F401  (imported before anything is timed)
    from async_lint import workers

    paths = python_files(tree)
    texts = read_all(paths)
    lines = sum(t.count("\n") + (not t.endswith("\n") and bool(t)) for _, t in texts)
    with_async = sum("async" in t for _, t in texts)
    del texts

    print(f"tree:               {tree}")
    print(f"python:             {sys.version.split()[0]}  async-lint {async_lint.__version__} "
          f"({os.path.dirname(async_lint.__file__)}{_commit(async_lint.__file__)})  cpus {os.cpu_count()}")
    print(f"files:              {len(paths)}  ({with_async} contain \"async\")")
    print(f"lines:              {lines:,}")
    # Rounds: the floor, async-lint in-process, async-lint as a process, python start-up, one of
    # each per round, so that a busy machine slows all of them alike; the best of each is kept.
    command = [sys.executable, "-c", _CONSOLE_SCRIPT, *lint_argv(tree)]
    start_command = [sys.executable, "-c", "import sys; sys.path.pop(0); import async_lint.cli"]
    floor_once(paths)  # warm the page cache for everyone
    floors, runs, children, starts = [], [], [], []
    with counting_files_checked() as checked:
        for _ in range(repeat):
            floors.append(floor_once(paths))
            runs.append(lint_in_process(tree))
            children.append(run_child(command, tree))
            starts.append(run_child(start_command, tree))
    coverage = None
    if checked:
        print(f"async-lint checks:  {checked[0]} of these files")
        if checked[0] != len(paths):
            coverage = (
                f"async-lint checks {checked[0]} of the {len(paths)} files the floor parses "
                "(excluded by its config, or by a .gitignore in or above the tree?)"
            )

    floor = min(wall for wall, _ in floors)
    floor_cpu = min(cpu for _, cpu in floors)
    print(f"ast.parse floor:    {floor:.3f} s  best of {repeat}  ({rate(lines, floor)});  CPU {floor_cpu:.3f} s")

    best = min(runs, key=lambda r: r.seconds)
    problem = next((failure(r.code, r.stderr) for r in runs if failure(r.code, r.stderr)), None) or coverage
    findings = count_findings(runs[0].stdout)
    ratio = best.seconds / floor
    best_cpu = min(r.cpu for r in runs)
    print(f"async-lint in-proc: {best.seconds:.3f} s  best of {repeat}, first {runs[0].seconds:.3f} s  "
          f"({rate(lines, best.seconds)})  ratio {ratio:.2f}x  {verdict(ratio, problem)}")
    print(f"  CPU:              {best_cpu:.3f} s best of {repeat}  ratio to floor CPU {best_cpu / floor_cpu:.2f}x")
    gc_seconds = min(r.gc for r in runs)
    print(f"  of which cyclic garbage collection: {gc_seconds:.3f} s CPU")

    child = min(children, key=lambda c: c[0])
    child_problem = next((failure(c[1], c[4]) for c in children if failure(c[1], c[4])), None) or coverage
    child_findings = count_findings(children[0][3])
    child_ratio = child[0] / floor
    peak_rss = max(c[2] for c in children) / 1024
    child_cpu = min(c[5] for c in children)
    print(f"async-lint process: {child[0]:.3f} s  best of {repeat}, wall incl. interpreter start  "
          f"({rate(lines, child[0])})  ratio {child_ratio:.2f}x  {verdict(child_ratio, child_problem)}")
    print(f"  CPU (user+sys):   {child_cpu:.3f} s best of {repeat}  ratio to floor CPU {child_cpu / floor_cpu:.2f}x")
    print(f"  of which python start + `import async_lint.cli`: {min(c[0] for c in starts):.3f} s wall, "
          f"{min(c[5] for c in starts):.3f} s CPU, best of {repeat}")
    print(f"  command:          async-lint {' '.join(lint_argv(tree))}  (the console script's code, run by {sys.executable})")
    one_job = [run_child(command, tree, {**os.environ, "ASYNC_LINT_JOBS": "1"}) for _ in range(repeat)]
    one = min(one_job, key=lambda c: c[0])
    print(f"  in one process:   {one[0]:.3f} s  best of {repeat} (ASYNC_LINT_JOBS=1)  ratio {one[0] / floor:.2f}x;  "
          f"CPU {one[5]:.3f} s;  the default runs {workers.worker_count(_work_chars(tree))} worker(s)")

    # Warm: nothing changed since the run that filled the persistent cache (`.async_lint_cache/`).
    with contextlib.redirect_stdout(io.StringIO()):
        from async_lint.cli import main as cli_main

        cli_main(["clean", tree])
    filled = lint_in_process(tree, cache=True)
    warm = [lint_in_process(tree, cache=True) for _ in range(repeat)]
    warm_command = [sys.executable, "-c", _CONSOLE_SCRIPT, *lint_argv(tree, cache=True)]
    warm_children = [run_child(warm_command, tree) for _ in range(repeat)]
    best_warm = min(r.seconds for r in warm)
    warm_same = all(r.stdout == runs[0].stdout for r in (filled, *warm))
    print(f"warm (cached) run:  {best_warm:.3f} s in-process best of {repeat}  ratio to floor {best_warm / floor:.2f}x  "
          f"(goal <= 0.5x);  CPU {min(r.cpu for r in warm):.3f} s;  filling run {filled.seconds:.3f} s")
    print(f"  process:          {min(c[0] for c in warm_children):.3f} s wall incl. interpreter start, best of {repeat};  "
          f"output {'identical to' if warm_same else 'DIFFERENT FROM'} the cold run")

    # Memory.
    gc.collect()
    tracemalloc.start()
    traced = lint_in_process(tree)
    _, traced_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    del traced
    how = "GNU time" if HAS_GNU_TIME else "wait4, overstated: includes this script's own peak"
    print(f"peak memory:        {peak_rss:.0f} MB max RSS of the async-lint process ({how}); "
          f"{traced_peak / 2**20:.0f} MB tracemalloc peak in-process")
    floor_child = run_child([sys.executable, "-c", _FLOOR_CHILD, tree], tree)
    print(f"  (a process that only reads and ast.parses the same files: "
          f"{floor_child[2] / 1024:.0f} MB max RSS, {floor_child[0]:.3f} s wall, {floor_child[5]:.3f} s CPU)")

    print(f"findings:           {findings if findings is not None else 'n/a (no JSON output)'}"
          + ("" if child_findings == findings else f"  (subprocess: {child_findings})"))
    for label, message in (("in-process", problem), ("subprocess", child_problem)):
        if message:
            print(f"NOT COMPARABLE ({label}): {message};")
            print("                    the async-lint times above are not for a full run over the same files")

    tools = [("async-lint", (child[0], child_findings or 0, peak_rss)), ("ruff --select ASYNC", ruff(tree))]
    tools.append(("flake8 --select ASYNC", flake8_async(tree) if args.with_flake8_async else "skipped (--with-flake8-async)"))
    tools.append(("fixit lint", fixit(tree) if args.with_fixit else "skipped (--with-fixit)"))
    print(f"\n{'tool':<22} {'wall s':>8} {'x floor':>8} {'findings':>9} {'peak MB':>8}")
    for name, result in tools:
        if isinstance(result, str):
            print(f"{name:<22} {result}")
        else:
            seconds, found, rss = result
            print(f"{name:<22} {seconds:>8.2f} {seconds / floor:>8.2f} {found:>9} {rss:>8.0f}")
    print()
    print(f"benchmark took:     {time.perf_counter() - began:.0f} s")

    if args.profile:
        profiler = cProfile.Profile()
        lint_in_process(tree, profiler)
        for sort in ("cumulative", "tottime"):
            print(f"\nprofile of one in-process run, top 15 by {sort}:")
            stream = io.StringIO()
            stats = pstats.Stats(profiler, stream=stream)
            stats.sort_stats(sort).print_stats(15)
            print(_trim_profile(stream.getvalue()))
    return 0


# What the `async-lint` console script runs.  `python -m async_lint` would put the current
# directory first on sys.path, and inside the django package `http` would then be django.http.
_CONSOLE_SCRIPT = "import sys; sys.path.pop(0); from async_lint.cli import main; sys.exit(main())"

# The floor again, in a fresh process, for the memory (and start-up) baseline.
_FLOOR_CHILD = r"""
import ast, os, sys, warnings
sys.path.pop(0)  # not the tree itself: django/http would shadow the standard library's http
warnings.simplefilter("ignore")
SKIPPED = %r
paths = []
for directory, subdirectories, names in os.walk(sys.argv[1]):
    subdirectories[:] = sorted(
        d for d in subdirectories
        if d not in SKIPPED and not d.endswith(".egg-info") and not os.path.islink(os.path.join(directory, d))
    )
    paths.extend(os.path.join(directory, n) for n in names if n.endswith((".py", ".pyi")))
for path in sorted(paths):
    with open(path, "rb") as handle:
        text = handle.read().decode("utf-8", "replace")
    try:
        ast.parse(text, filename=path)
    except (SyntaxError, ValueError, RecursionError):
        pass
""" % (sorted(SKIPPED_FOLDERS),)


def _trim_profile(text: str) -> str:
    """pstats output from its column header on, with long paths shortened."""
    lines = text.splitlines()
    start = next((i for i, line in enumerate(lines) if line.lstrip().startswith("ncalls")), 0)
    out = "\n".join(lines[start:]).rstrip()
    spec = importlib.util.find_spec("async_lint")
    prefixes = {os.path.dirname(os.path.dirname(ast.__file__)) + os.sep}
    if spec and spec.origin:
        prefixes.add(os.path.dirname(os.path.dirname(spec.origin)) + os.sep)
    for prefix in sorted(prefixes, key=len, reverse=True):
        out = out.replace(prefix, "")
    return out


if __name__ == "__main__":
    sys.exit(main())
