#!/usr/bin/env python
"""What a pre-commit hook or an editor pays: checking one file of a large project.

    python benchmarks/bench_single_file.py PROJECT FILE [--repeat N]

Prints wall times (best and median of N runs, each a fresh `async-lint check FILE` process run
from PROJECT, as a hook runs it):

* warm: the cache holds everything, nothing changed;
* after an edit: a comment appended to FILE before each run (the file's own findings and every
  cache entry keyed on it are void; other files' facts come from the cache);
* ruff check FILE beside them, for scale, when ruff is installed;

and the peak memory (max RSS) of building the model index over the whole project cold, in a
child process.  FILE is restored byte for byte afterwards.  The goals of issue 13, on a
2-core machine and an 850-file project: <= 0.35 s warm, <= 0.6 s after an edit.  This script
prints numbers; it asserts nothing.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

INDEX_MEMORY = """
import resource, sys
from async_lint.config import load_config
from async_lint.discovery import discover
from async_lint.project_setup import ProjectModel
config = load_config([sys.argv[1]])
files = discover([str(config.root)], config)
index = ProjectModel.of_files(files, config.twins.patterns).index
print(len(files), len(index.models), resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


def timed(command: list[str], cwd: Path, before=None, repeat: int = 5) -> list[float]:
    times = []
    for _ in range(repeat):
        if before is not None:
            before()
        started = time.perf_counter()
        subprocess.run(command, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        times.append(time.perf_counter() - started)
    return times


def show(label: str, times: list[float]) -> None:
    print(f"{label:<28} best {min(times):6.3f} s   median {statistics.median(times):6.3f} s")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("project", type=Path)
    parser.add_argument("file", type=Path, help="relative to PROJECT")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    project, target = args.project.resolve(), (args.project / args.file).resolve()
    original = target.read_bytes()
    check = [sys.executable, "-m", "async_lint", "check", str(target)]
    try:
        subprocess.run([*check, "--exit-zero"], cwd=project, capture_output=True)  # fill the cache
        subprocess.run(check, cwd=project, capture_output=True)
        show("async-lint warm", timed(check, project, repeat=args.repeat))

        def edit() -> None:
            with open(target, "ab") as handle:
                handle.write(f"\n# edited {time.time_ns()}\n".encode())

        show("async-lint after an edit", timed(check, project, edit, args.repeat))
    finally:
        target.write_bytes(original)
    ruff = shutil.which("ruff")
    if ruff:
        show("ruff check (for scale)", timed([ruff, "check", "--no-cache", str(target)], project, repeat=args.repeat))
    else:
        print("ruff: not installed")
    result = subprocess.run([sys.executable, "-c", INDEX_MEMORY, str(project)], capture_output=True, text=True)
    if result.returncode == 0:
        files, models, peak = result.stdout.split()
        print(f"index over {files} files ({models} models): peak RSS {int(peak) / 1024:.0f} MiB")
    else:
        print(f"index memory: failed ({result.stderr.strip().splitlines()[-1:]})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
