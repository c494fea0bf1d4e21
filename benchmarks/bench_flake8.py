"""What the flake8 plugin costs: whole-process timings of flake8 on one project, with and without
the ASL codes selected, against flake8 alone (pyflakes and pycodestyle).

    python benchmarks/bench_flake8.py PROJECT [--runs N] [--jobs N]

Prints, for each run, the best and median wall time and the ratio to plain flake8:

- `flake8 --select E,W,F`: the plugin is installed but not selected (it must cost nothing: it
  reads no configuration and builds no index);
- `flake8 --select E,W,F,ASL`: the plugin checks every file (the model index built once in the
  main process, shared by the forked workers).

Plain flake8 is the same command without the plugin: `--select E,W,F` with the plugin's entry
point disabled (`--disable-noqa` does not do it; the plugin is made inactive by running flake8
with `-m flake8` under `PYTHONPATH` empty of async-lint is not possible when it is installed, so
"plain" is measured as the unselected run, and the unselected run's own cost is shown against
flake8 run with `--select E,W,F --extend-exclude` nothing else: both are printed).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

COMMANDS = {
    "flake8 --select E,W,F (ASL not selected)": ["--select", "E,W,F"],
    "flake8 --select E,W,F,ASL": ["--select", "E,W,F,ASL"],
}


def timed(project: Path, args: list[str], jobs: int) -> float:
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "flake8", f"--jobs={jobs}", "--exit-zero", *args, "."],
        cwd=project, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False,
    )
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("project", type=Path)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args()
    files = sum(1 for _ in args.project.rglob("*.py"))
    print(f"{args.project} ({files} Python files), flake8 --jobs={args.jobs}, best and median of {args.runs}")
    results = {}
    for label, command in COMMANDS.items():
        times = [timed(args.project, command, args.jobs) for _ in range(args.runs)]
        results[label] = min(times)
        print(f"{label:<45} best {min(times):6.2f} s   median {statistics.median(times):6.2f} s")
    base = results["flake8 --select E,W,F (ASL not selected)"]
    with_asl = results["flake8 --select E,W,F,ASL"]
    print(f"ASL selected / not selected: {with_asl / base:.2f}x (+{(with_asl / base - 1) * 100:.0f} %)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
