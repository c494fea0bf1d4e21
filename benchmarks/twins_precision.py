"""How often is a twin finding right?  ASL501/ASL502 on real projects, against judged verdicts.

Runs this checkout's `async-lint check --select ASL501,ASL502` on every project listed in
benchmarks/twins/projects.toml (each pinned to a commit) and looks every finding up in
benchmarks/twins/triage.csv, where each was read and judged by hand:

- real: the twins behave differently and one of them is wrong; the maintainers would fix it;
- intended: the twins behave differently on purpose; a `twin-differs` marker would document it;
- false: no difference that matters.

It prints, per project and in total, the findings by verdict, then precision (real / judged) and
the share of findings that are not false alarms ((real + intended) / judged).  Findings with no
verdict are listed for triage; real divergences judged earlier that are no longer reported are
listed as misses (the triage also holds every finding of the rule's first version, commit
6709142, so a figure for that version is one `pip install` away).

    python benchmarks/twins_precision.py CHECKOUTS [--clone] [--project NAME ...]

The same projects judge other rules with their own verdicts, e.g. what following helpers
across modules added (ASL117; benchmarks/project_model/triage.csv):

    python benchmarks/twins_precision.py CHECKOUTS --rules ASL117 --triage benchmarks/project_model/triage.csv

and other projects with `--projects` (the template, form and serializer rules:
benchmarks/implicit_orm/).

CHECKOUTS holds one directory per project, named as in projects.toml; `--clone` fetches the
missing ones at their pinned commit (shallow, with git).  Fetched code is never committed.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

HERE = Path(__file__).resolve().parent
PROJECTS = HERE / "twins" / "projects.toml"
TRIAGE = HERE / "twins" / "triage.csv"
RULES = "ASL501,ASL502"
VERDICTS = ("real", "intended", "false")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("checkouts", type=Path, help="one directory per project, named as in projects.toml")
    parser.add_argument("--clone", action="store_true", help="fetch missing projects at their pinned commit")
    parser.add_argument("--project", action="append", help="only this project (repeatable)")
    parser.add_argument(
        "--projects", type=Path, default=PROJECTS, help="the projects, pinned (default: benchmarks/twins/projects.toml)"
    )
    parser.add_argument("--rules", default=RULES, help=f"the rules judged (default: {RULES})")
    parser.add_argument(
        "--triage", type=Path, default=TRIAGE, help="their verdicts (default: benchmarks/twins/triage.csv)"
    )
    args = parser.parse_args()

    projects = tomllib.loads(args.projects.read_text(encoding="utf-8"))["project"]
    if args.project:
        projects = [p for p in projects if p["name"] in args.project]
    verdicts = {
        (row["project"], row["path"], int(row["line"]), row["code"]): row
        for row in csv.DictReader(args.triage.open(encoding="utf-8"))
    }

    totals: Counter[str] = Counter()
    reported: set[tuple[str, str, int, str]] = set()
    untriaged: list[str] = []
    checked: list[str] = []
    print(f"{'project':<24} {'findings':>8} {'real':>5} {'intended':>8} {'false':>5} {'untriaged':>9} {'seconds':>8}")
    for project in projects:
        root = args.checkouts / project["name"]
        if not root.is_dir():
            if not args.clone:
                print(f"{project['name']:<24} not checked out (--clone fetches it)")
                continue
            clone(project, root)
        started = time.perf_counter()
        findings = run_async_lint(root, project.get("paths", ["."]), args.rules)
        seconds = time.perf_counter() - started
        checked.append(project["name"])
        counts: Counter[str] = Counter()
        for finding in findings:
            path = os.path.relpath(os.path.realpath(finding["filename"]), os.path.realpath(root))
            key = (project["name"], Path(path).as_posix(), finding["location"]["row"], finding["code"])
            row = verdicts.get(key)
            if row is None:
                counts["untriaged"] += 1
                untriaged.append(f"{project['name']}/{key[1]}:{key[2]} {key[3]} {finding['message']}")
                continue
            reported.add(key)
            counts[row["verdict"]] += 1
        counts["findings"] = len(findings)
        totals.update(counts)
        print(
            f"{project['name']:<24} {counts['findings']:>8} {counts['real']:>5} {counts['intended']:>8}"
            f" {counts['false']:>5} {counts['untriaged']:>9} {seconds:>8.1f}"
        )

    judged = sum(totals[v] for v in VERDICTS)
    print(
        f"{'total':<24} {totals['findings']:>8} {totals['real']:>5} {totals['intended']:>8}"
        f" {totals['false']:>5} {totals['untriaged']:>9}"
    )
    if judged:
        print(f"\nprecision (real / judged): {totals['real']}/{judged} = {totals['real'] / judged:.0%}")
        print(
            f"not a false alarm ((real + intended) / judged): {totals['real'] + totals['intended']}/{judged}"
            f" = {(totals['real'] + totals['intended']) / judged:.0%}"
        )
    if untriaged:
        print(f"\n{len(untriaged)} findings have no verdict yet (add them to {args.triage}):")
        print("\n".join(f"  {line}" for line in untriaged))
    misses = [
        row
        for key, row in verdicts.items()
        if row["verdict"] == "real" and key[0] in checked and key not in reported
    ]
    if misses:
        print(f"\n{len(misses)} real divergences judged before are not reported:")
        for row in misses:
            print(f"  {row['project']}/{row['path']}:{row['line']} {row['code']} {row['kind']}: {row['reason']}")
    return 0


def run_async_lint(root: Path, paths: list[str], rules: str) -> list[dict]:
    command = [sys.executable, "-m", "async_lint", "check", *paths, "--select", rules]
    command += ["--output-format", "json", "--no-cache", "--exit-zero"]
    result = subprocess.run(command, cwd=root, capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit(f"async-lint failed on {root} (exit {result.returncode}):\n{result.stderr}")
    return json.loads(result.stdout)


def clone(project: dict, root: Path) -> None:
    """The project at its pinned commit (or tag), without history."""
    print(f"fetching {project['repo']} at {project['ref']} ...", file=sys.stderr)
    root.mkdir(parents=True)
    for command in (
        ["git", "init", "--quiet"],
        ["git", "fetch", "--quiet", "--depth", "1", project["repo"], project["ref"]],
        ["git", "checkout", "--quiet", "FETCH_HEAD"],
    ):
        subprocess.run(command, cwd=root, check=True)


if __name__ == "__main__":
    sys.exit(main())
