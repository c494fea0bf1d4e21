"""What the flake8 plugin costs: whole-process timings of flake8 on one project, with and without
the ASL codes selected, and against flake8 without the plugin installed.

    python benchmarks/bench_flake8.py PROJECT [--plain-flake8 PATH] [--runs N] [--jobs N]

The runs alternate (so that a slower minute of the machine is shared by all), and for each
command the best and median wall time are printed:

- `flake8 --select E,W,F` with the plugin installed but not selected: it must cost nothing (it
  imports neither the engine nor the rules, reads no configuration, builds no index);
- `flake8 --select E,W,F,ASL`: the plugin checks every file;
- with `--plain-flake8`, the flake8 executable of an environment without async-lint (the same
  flake8, pyflakes and pycodestyle versions), run with `--select E,W,F`: the baseline the
  issue's "≤ 30 % over plain flake8" is measured against.  Without it, the unselected run is
  the baseline.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

UNSELECTED = "plugin installed, ASL not selected"
SELECTED = "plugin installed, ASL selected"
PLAIN = "flake8 without the plugin"


def timed(project: Path, command: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(command, cwd=project, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("project", type=Path)
    parser.add_argument("--plain-flake8", type=Path, help="flake8 of an environment without async-lint")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args()
    common = [f"--jobs={args.jobs}", "--exit-zero", "."]
    installed = [sys.executable, "-m", "flake8"]
    commands = {
        UNSELECTED: [*installed, "--select", "E,W,F", *common],
        SELECTED: [*installed, "--select", "E,W,F,ASL", *common],
    }
    if args.plain_flake8:
        commands[PLAIN] = [str(args.plain_flake8), "--select", "E,W,F", *common]
    files = sum(1 for _ in args.project.rglob("*.py"))
    print(f"{args.project} ({files} Python files), flake8 --jobs={args.jobs}, best and median of {args.runs}")
    times: dict[str, list[float]] = {label: [] for label in commands}
    for _ in range(args.runs):
        for label, command in commands.items():
            times[label].append(timed(args.project, command))
    for label, measured in times.items():
        print(f"{label:<40} best {min(measured):6.2f} s   median {statistics.median(measured):6.2f} s")
    base_label = PLAIN if args.plain_flake8 else UNSELECTED
    base = min(times[base_label])
    for label in commands:
        if label != base_label:
            ratio = min(times[label]) / base
            print(f"{label} / {base_label}: {ratio:.2f}x ({(ratio - 1) * 100:+.0f} %, best against best)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
