#!/usr/bin/env python
"""What the async-lint flake8 plugin adds to a plain flake8 run.

    python benchmarks/bench_flake8.py [TREE] [--repeat N] [--jobs J]

TREE defaults to the installed `django` package.  The issue's goal: the plugin adds at most
30 % to a plain `flake8` run over Django's source.  This script prints numbers; it asserts
nothing.

"Plain flake8" is flake8 with its own checkers (pyflakes, pycodestyle, mccabe) and default
selection; the runs differ only in whether the async-lint plugin is loaded, and with it its
codes are selected (`--extend-select ASL`).  Other third-party plugins installed next to flake8
(flake8-async, ...) are left out of both runs, since they would dominate the time: flake8 is
started through a small launcher that filters its plugin list by package, then runs flake8's own
`main()` exactly as the `flake8` script does.

Each configuration runs in a subprocess (with the current folder set to TREE, as a project's
flake8 is run from its root), best of N, for wall time and for CPU time of the process and its
workers (user+sys from wait4), with --jobs J (default: flake8's own, one worker per CPU) and
with --jobs 1.  The number of ASL findings is printed next to `async-lint check` over the same
tree: Django's installed tree sits in a folder pyenv's .gitignore excludes, so the check runs
with --no-respect-gitignore (flake8 does not read .gitignore files).
"""

from __future__ import annotations

import argparse
import functools
import importlib.util
import json
import os
import subprocess
import sys
import time

TARGET_ADDED = 0.30
print = functools.partial(print, flush=True)  # noqa: A001 (progress shows while it runs)

LAUNCHER = """
import sys
from flake8.plugins import finder

dropped = set(sys.argv[1].split(","))
del sys.argv[1]
_find_plugins = finder.find_plugins


def find_plugins(cfg, opts):
    return [p for p in _find_plugins(cfg, opts) if p.package not in dropped]


finder.find_plugins = find_plugins
from flake8.main.cli import main

sys.exit(main())
"""

# Packages whose checkers a plain flake8 run has.
FLAKE8_OWN = {"flake8", "pyflakes", "pycodestyle", "mccabe"}


def installed_plugin_packages() -> set[str]:
    from importlib.metadata import distributions

    packages = set()
    for distribution in distributions():
        if any(ep.group in ("flake8.extension", "flake8.report") for ep in distribution.entry_points):
            packages.add(distribution.metadata["Name"])
    return packages


def best_of(repeat: int, command: list[str], cwd: str) -> tuple[float, float, str]:
    import resource

    walls, cpus, out = [], [], ""
    for _ in range(repeat):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        process = subprocess.run(command, cwd=cwd, capture_output=True)
        walls.append(time.perf_counter() - start)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append((after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime))
        if process.returncode not in (0, 1):
            raise SystemExit(f"{' '.join(command)} failed ({process.returncode}):\n{process.stderr.decode()[-2000:]}")
        out = process.stdout.decode("utf-8", "replace")
    return min(walls), min(cpus), out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("tree", nargs="?", help="default: the installed django package")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--jobs", default="auto", help="flake8 --jobs for the parallel runs (default: auto)")
    args = parser.parse_args()
    tree = os.path.abspath(args.tree or os.path.dirname(importlib.util.find_spec("django").origin))

    others = installed_plugin_packages() - FLAKE8_OWN - {"async-lint"}
    plain_drop = ",".join(sorted(others | {"async-lint"})) or "-"
    with_drop = ",".join(sorted(others)) or "-"
    launcher = [sys.executable, "-c", LAUNCHER]
    files = sum(1 for _, _, names in os.walk(tree) for n in names if n.endswith(".py"))
    print(f"tree: {tree} ({files} .py files)")
    print(f"left out of both runs: {', '.join(sorted(others)) or 'nothing'}")
    print(f"best of {args.repeat}; CPU = user+sys of flake8 and its workers\n")

    rows = []
    for jobs in (args.jobs, "1"):
        plain = best_of(args.repeat, [*launcher, plain_drop, f"--jobs={jobs}", "."], tree)
        plugin = best_of(
            args.repeat, [*launcher, with_drop, f"--jobs={jobs}", "--extend-select", "ASL", "."], tree
        )
        asl = sum(1 for line in plugin[2].splitlines() if ": ASL" in line)
        for label, (wall, cpu, _) in (("plain flake8", plain), ("flake8 + async-lint", plugin)):
            rows.append((f"--jobs {jobs}", label, wall, cpu))
        added_wall = plugin[0] / plain[0] - 1
        added_cpu = plugin[1] / plain[1] - 1
        rows.append((f"--jobs {jobs}", "added by the plugin", added_wall, added_cpu))
        print(f"--jobs {jobs:>4}  plain flake8         wall {plain[0]:7.2f} s   CPU {plain[1]:7.2f} s")
        print(f"            flake8 + async-lint  wall {plugin[0]:7.2f} s   CPU {plugin[1]:7.2f} s   ({asl} ASL findings)")
        verdict = "within" if max(added_wall, added_cpu) <= TARGET_ADDED else "OVER"
        print(f"            added                wall {added_wall:+7.1%}     CPU {added_cpu:+7.1%}     "
              f"({verdict} the {TARGET_ADDED:.0%} goal)\n")

    check = subprocess.run(
        [sys.executable, "-m", "async_lint", "check", "--no-respect-gitignore", "--output-format", "json", "--exit-zero", "."],
        cwd=tree, capture_output=True, text=True,
    )
    found = [d for d in json.loads(check.stdout) if not d["code"].startswith("ASL9")] if check.returncode == 0 else None
    print(f"async-lint check --no-respect-gitignore over the same tree: {len(found) if found is not None else 'failed'} findings")


if __name__ == "__main__":
    main()
