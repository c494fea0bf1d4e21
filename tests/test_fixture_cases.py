"""The fixture cases' findings, from the real CLI, equal the `# expect:` comments beside them:
nothing missing, nothing extra, and nothing at all in the look-alikes."""

from __future__ import annotations

import ast
import functools
from collections import Counter

import pytest

from async_lint.rules import RULES

from .fixture_oracle import (
    CASES,
    KINDS,
    KNOWN_BUGS,
    case_files,
    cli,
    discover_cases,
    enclosing,
    finding_key,
    findings_of,
    known_bug,
    parse_expectations,
    top_level_spans,
)

TARGET = "5.2"
ALL_CASES = discover_cases()
CASE_RULES = sorted(code for code in RULES if code.startswith("ASL1"))


def _definitions():
    for path in case_files():
        for _, _, name in top_level_spans(ast.parse(path.read_text())):
            yield path.stem, name


DEFINITIONS = list(_definitions())


@pytest.fixture(scope="module")
def reported() -> dict[str, Counter]:
    """{target: Counter of (module, row, code)} from the CLI over the cases folder."""
    processes = {t: cli([str(CASES)], "--target-version", t) for t in (TARGET, "4.2")}
    result = {}
    for target, process in processes.items():
        items = findings_of(process)
        result[target] = Counter(
            (key[0].removesuffix(".py"), key[1], key[2]) for key in (finding_key(i, CASES) for i in items)
        )
    return result


@functools.cache
def _spans() -> dict[str, list]:
    return {path.stem: top_level_spans(ast.parse(path.read_text())) for path in case_files()}


def _by_definition(found: Counter) -> dict[tuple[str, str | None], Counter]:
    spans = _spans()
    grouped: dict[tuple[str, str | None], Counter] = {}
    for (module, row, code), count in found.items():
        owner = enclosing(spans.get(module, []), row)
        grouped.setdefault((module, owner), Counter())[(row, code)] += count
    return grouped


@functools.cache
def _expected() -> Counter:
    return Counter((path.stem, e.row, e.code) for path in case_files() for e in parse_expectations(path))


def test_cases_are_well_formed():
    assert len(case_files()) >= 10
    names = Counter(c.name for c in ALL_CASES)
    assert not [n for n, k in names.items() if k > 1], "case names must be unique across modules"
    for case in ALL_CASES:
        assert case.kind in KINDS, f"{case.id}: a module-level async def must be a case ({', '.join(KINDS)})"
        if case.kind == "safe_case_":
            assert not case.expected, f"{case.id}: a look-alike cannot expect findings"
        else:
            assert case.expected, f"{case.id}: a flagged case needs `# expect:` comments"
        unfixable = [e for e in case.expected if e.fix_since is not None]
        if unfixable:
            assert case.kind in ("case_", "anonymous_case_"), f"{case.id}: only `case_*` may keep findings"
    for path in case_files():
        tree = ast.parse(path.read_text())
        for node in tree.body:
            if isinstance(node, ast.AsyncFunctionDef):
                decorators = [d for d in node.decorator_list if isinstance(d, ast.Call)]
                assert any(getattr(d.func, "id", None) == "returns" for d in decorators), (
                    f"{path.stem}::{node.name} needs @returns(intended result)"
                )
        for expectation in parse_expectations(path):
            assert expectation.function is not None, f"{path.name}:{expectation.row}: outside any definition"
    lookalikes = [c for c in ALL_CASES if c.module == "lookalikes"]
    assert len(lookalikes) >= 15 and all(c.kind == "safe_case_" for c in lookalikes)


def test_every_rule_has_cases():
    expected = _expected()
    per_rule = Counter(code for (_, _, code), n in expected.items() for _ in range(n))
    for code in CASE_RULES:
        assert per_rule[code] >= 2, f"{code} has {per_rule[code]} expected findings in the fixture cases"
    assert set(per_rule) <= set(RULES), set(per_rule) - set(RULES)


@pytest.mark.parametrize(
    "module, definition",
    [pytest.param(m, d, id=f"{m}::{d}", marks=known_bug(f"{m}::{d}", "findings")) for m, d in DEFINITIONS],
)
def test_findings_match_expectations(reported, module, definition):
    expected = _by_definition(_expected()).get((module, definition), Counter())
    found = _by_definition(reported[TARGET]).get((module, definition), Counter())
    missing = sorted((expected - found).elements())
    extra = sorted((found - expected).elements())
    assert not missing and not extra, f"missing (row, code): {missing}; unexpected: {extra}"


def test_all_findings_equal_expectations(reported):
    """The whole folder at once, minus the definitions with a known engine bug."""
    known = {tuple(case_id.split("::")) for case_id, (tests, _) in KNOWN_BUGS.items() if "findings" in tests}
    spans = _spans()

    def keep(key):
        return (key[0], enclosing(spans[key[0]], key[1])) not in known

    expected = Counter({k: n for k, n in _expected().items() if keep(k)})
    found = Counter({k: n for k, n in reported[TARGET].items() if keep(k)})
    assert sum(expected.values()) >= 150
    assert found == expected, {"missing": sorted((expected - found).elements()), "extra": sorted((found - expected).elements())}


def test_lookalikes_have_no_findings(reported):
    assert [k for k in reported[TARGET].elements() if k[0] == "lookalikes"] == []
    assert not parse_expectations(CASES / "lookalikes.py")


def test_findings_do_not_depend_on_the_target(reported):
    """The target version changes how a finding is fixed, never whether it is found."""
    assert reported["4.2"] == reported[TARGET]
