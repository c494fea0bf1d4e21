"""The runtime oracle: every fixture case runs under real Django with a SQLite file database.

- the original, without DJANGO_ALLOW_ASYNC_UNSAFE, raises SynchronousOnlyOperation;
- the original, with the variable, returns the intended result (`@returns`);
- the output of the real `async-lint check --fix --unsafe-fixes`, for target 5.2 (async twins) and
  for 4.2 (the `sync_to_async` fallbacks), run on the installed Django without the variable,
  raises nothing and returns the intended result.

The other case kinds (`blocking_case_`, `unawaited_case_`, `anonymous_case_`, `safe_case_`) have
their own expectations: see tests/fixture_oracle.py.  A finding that has no fix at a target
(`# expect: ASL107[5.0]`, `[never]`) must survive `--fix`, and the fixed case must still raise.

All cases run in one Django subprocess (one migrate, a reseed before every run).
"""

from __future__ import annotations

import ast
import json
import os
import shutil
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pytest

from .fixture_oracle import (
    CASES,
    PROJECT,
    KNOWN_BUGS,
    ROOT,
    cli,
    discover_cases,
    enclosing,
    findings_of,
    known_bug,
    parse_expectations,
    parse_version,
    top_level_spans,
)

TARGETS = ("5.2", "4.2")
SOO = "django.core.exceptions.SynchronousOnlyOperation"
ALL_CASES = discover_cases()


@dataclass
class Oracle:
    copies: dict[str, Path]  # target → fixed copy of the fixture project
    remaining: dict[str, list[dict]]  # target → findings left after --fix (CLI JSON)
    results: dict  # variant → "module::case" → run → observation


@pytest.fixture(scope="session")
def oracle(tmp_path_factory) -> Oracle:
    base = tmp_path_factory.mktemp("oracle")
    copies, processes = {}, {}
    for target in TARGETS:
        copy = base / f"fixed-{target}"
        for name in ("library", "fixtureproject", "cases"):
            shutil.copytree(PROJECT / name, copy / name, ignore=shutil.ignore_patterns("__pycache__"))
        # The copy is a project of its own, like fixtures/project (its config, its model index).
        config = PROJECT / "pyproject.toml"
        (copy / "pyproject.toml").write_text(config.read_text() if config.exists() else "[tool.async-lint]\n")
        copies[target] = copy
        processes[target] = cli(["cases"], "--fix", "--unsafe-fixes", "--target-version", target, cwd=copy)
    remaining = {target: findings_of(process) for target, process in processes.items()}

    spec = {
        "project": str(PROJECT),
        "db": str(base / "oracle.sqlite3"),
        "variants": {"original": str(CASES), **{t: str(copies[t] / "cases") for t in TARGETS}},
    }
    (base / "spec.json").write_text(json.dumps(spec))
    out = base / "results.json"
    run = subprocess.run(
        [sys.executable, "-m", "tests.fixture_oracle", "run", str(base / "spec.json"), str(out)],
        cwd=ROOT,
        env={k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"} | {"PYTHONDONTWRITEBYTECODE": "1"},
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert run.returncode == 0, f"the case runner failed:\n{run.stdout}\n{run.stderr}"
    return Oracle(copies, remaining, json.loads(out.read_text()))


def _observation(oracle: Oracle, variant: str, case, run: str | None = None) -> dict:
    runs = oracle.results.get(variant, {}).get(case.id)
    assert runs is not None, f"{case.id} was not run for {variant}"
    return runs[run or variant]


def _intended(oracle: Oracle, case):
    marker = oracle.results["original"][case.id]["intended"]
    assert marker["marked"], f"{case.id} has no @returns"
    return marker["value"]


def _returned(observation: dict) -> object:
    assert observation["outcome"] == "returned", f"raised {observation.get('type')}: {observation.get('message')}"
    return observation["value"]


def _params(test: str):
    return [pytest.param(c, id=c.id, marks=known_bug(c.id, test)) for c in ALL_CASES]


def _fixed_params():
    return [
        pytest.param(c, t, id=f"{t}-{c.id}", marks=known_bug(c.id, f"fixed-{t}")) for t in TARGETS for c in ALL_CASES
    ]


def test_every_case_ran_in_every_variant(oracle):
    ids = {c.id for c in ALL_CASES}
    assert len(ids) >= 150
    for variant in ("original", *TARGETS):
        assert set(oracle.results[variant]) == ids, variant


@pytest.mark.parametrize("case", _params("original"))
def test_original(oracle, case):
    intended = _intended(oracle, case)
    plain = _observation(oracle, "original", case, "original")
    unsafe = _observation(oracle, "original", case, "original_unsafe")
    if case.kind == "case_":
        assert plain["outcome"] == "raised" and plain["type"] == SOO, plain
        assert _returned(unsafe) == intended
    elif case.kind == "blocking_case_":
        # Django does not guard these: the result is right, but the I/O ran on the loop's thread.
        assert _returned(plain) == intended
        assert plain["loop_calls"] >= 1, plain
        assert _returned(unsafe) == intended
    elif case.kind == "unawaited_case_":
        assert intended is True
        assert _returned(plain) is False, "the effect happened although the coroutine was never awaited"
        assert plain["never_awaited"], "Python did not warn about a never-awaited coroutine"
    else:  # anonymous_case_, safe_case_: nothing to load, nothing raises
        assert _returned(plain) == intended
        assert _returned(unsafe) == intended
        assert not plain["never_awaited"]


@pytest.mark.parametrize("case, target", _fixed_params())
def test_fixed(oracle, case, target):
    intended = _intended(oracle, case)
    fixed = _observation(oracle, target, case)
    if case.kind == "case_" and not case.fixed_at(parse_version(target)):
        # A finding with no fix at this target stays, and so does the error.
        assert fixed["outcome"] == "raised" and fixed["type"] == SOO, fixed
        return
    assert _returned(fixed) == intended
    assert not fixed["never_awaited"], "the fixed code leaves a coroutine unawaited"
    if case.kind == "blocking_case_":
        assert fixed["loop_calls"] == 0, "the fixed code still does blocking I/O on the event loop"
        assert fixed["thread_calls"] >= 1, "the fixed code no longer does the I/O at all"


def _remaining_by_definition(oracle: Oracle, target: str) -> Counter:
    """(module, top-level definition, code) of the findings left in the fixed copy."""
    cases_dir = oracle.copies[target] / "cases"
    spans = {p.stem: top_level_spans(ast.parse(p.read_text())) for p in cases_dir.glob("*.py")}
    found = Counter()
    for item in oracle.remaining[target]:
        path = Path(item["filename"])
        found[(path.stem, enclosing(spans[path.stem], item["location"]["row"]), item["code"])] += 1
    return found


@pytest.mark.parametrize("target", TARGETS)
def test_fix_leaves_only_findings_without_a_fix(oracle, target):
    version = parse_version(target)
    undetected = {case_id for case_id, (tests, _) in KNOWN_BUGS.items() if "findings" in tests}
    expected = Counter(
        (path.stem, e.function, e.code)
        for path in sorted(CASES.glob("*.py"))
        if not path.name.startswith("_")
        for e in parse_expectations(path)
        if not e.fixed_at(version) and f"{path.stem}::{e.function}" not in undetected
    )
    found = _remaining_by_definition(oracle, target)
    assert found == expected, {"left but fixable": sorted((found - expected).elements()), "should be left": sorted((expected - found).elements())}


@pytest.mark.parametrize("target", TARGETS)
def test_fix_changes_only_flagged_modules(oracle, target):
    for path in sorted(CASES.glob("*.py")):
        fixed = (oracle.copies[target] / "cases" / path.name).read_text()
        if path.name.startswith("_") or path.stem == "lookalikes":
            assert fixed == path.read_text(), f"{path.name} has no finding but --fix changed it"
        else:
            assert fixed != path.read_text(), f"--fix changed nothing in {path.name}"
            compile(fixed, path.name, "exec")


@pytest.mark.parametrize("target", TARGETS)
def test_second_fix_pass_changes_nothing(oracle, target, tmp_path):
    """Fixing the fixed copy again is a no-op, with the same findings left."""
    copy = tmp_path / "again"
    shutil.copytree(oracle.copies[target], copy, ignore=shutil.ignore_patterns("__pycache__"))
    before = {p.name: p.read_text() for p in (copy / "cases").glob("*.py")}
    items = findings_of(cli(["cases"], "--fix", "--unsafe-fixes", "--target-version", target, cwd=copy))
    assert {p.name: p.read_text() for p in (copy / "cases").glob("*.py")} == before
    key = lambda i: (Path(i["filename"]).name, i["location"]["row"], i["code"])  # noqa: E731
    assert sorted(map(key, items)) == sorted(map(key, oracle.remaining[target]))
