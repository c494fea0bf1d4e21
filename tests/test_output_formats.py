"""The CI formats (github, sarif, gitlab), --statistics, the progress bar and `async-lint rules`,
through the real CLI in a subprocess, on the small project of test_cli."""

from __future__ import annotations

import json
import os
import pty
import re
import subprocess
import sys
from pathlib import Path


from async_lint.diagnostics import Diagnostic
from async_lint.output import github
from async_lint.rules import RULES
from async_lint.runner import Report
from async_lint.source import SourceFile

from .helpers import findings
from .test_cli import ROOT, VIEWS, environment, run, run_many, write

# The official SARIF 2.1.0 schema (docs.oasis-open.org/sarif/sarif/v2.1.0), kept in the repository.
SARIF_SCHEMA = ROOT / "tests" / "data" / "sarif-schema-2.1.0.json"


def ci_run(cwd: Path, *args: str) -> "subprocess.CompletedProcess":
    # The CI formats read GITHUB_WORKSPACE / CI_PROJECT_DIR when set: not from the test's own CI.
    env = {k: v for k, v in environment().items() if k not in ("GITHUB_WORKSPACE", "CI_PROJECT_DIR")}
    return subprocess.run(
        [sys.executable, "-m", "async_lint", "check", *args], cwd=cwd, capture_output=True, text=True, env=env, timeout=60
    )


# -- github ---------------------------------------------------------------------------------


ANNOTATION = re.compile(
    r"^::error file=(?P<file>[^,]*),line=(?P<line>\d+),col=(?P<col>\d+),endLine=(?P<endLine>\d+),"
    r"endColumn=(?P<endColumn>\d+),title=(?P<title>[^:]*)::(?P<message>.+)$"
)


def test_github_format_is_one_workflow_command_per_finding(project):
    result = ci_run(project, "--output-format", "github")
    assert result.returncode == 1, result.stderr  # the exit code still fails the job
    lines = result.stdout.splitlines()
    assert len(lines) == 2, lines
    first, second = (ANNOTATION.match(line) for line in lines)
    assert first and second, lines
    length = len("Book.objects.get(pk=pk)")
    assert first.groupdict() | {"message": ""} == {
        "file": "library/views.py", "line": "5", "col": "12", "endLine": "5", "endColumn": str(12 + length),
        "title": "ASL101 (sync-queryset-method)", "message": "",
    }
    assert "aget" in first["message"]
    assert (second["line"], second["title"]) == ("9", "ASL103 (sync-queryset-evaluation)")
    assert result.stderr == ""


def test_github_format_escapes_messages_and_properties():
    source = SourceFile("odd,name:1.py", "x = 1\n")
    diagnostic = Diagnostic("ASL101", "100% sure\rstill: yes, really", source.path, 0, 1)
    text = github.render(Report(diagnostics=[diagnostic], sources={source.path: source}), False)
    assert text == (
        "::error file=odd%2Cname%3A1.py,line=1,col=1,endLine=1,endColumn=2,"
        "title=ASL101 (sync-queryset-method)::100%25 sure%0Dstill: yes, really"
    )
    assert github.escape_property("a%b,c:d\ne") == "a%25b%2Cc%3Ad%0Ae"


def test_github_format_prints_nothing_when_clean(project):
    write(project / "library" / "views.py", "async def fine():\n    return 1\n")
    result = ci_run(project, "--output-format", "github")
    assert (result.returncode, result.stdout) == (0, "")


# -- sarif ----------------------------------------------------------------------------------


def _sarif(project: Path, *args: str) -> dict:
    result = ci_run(project, "--output-format", "sarif", *args)
    assert result.returncode == 1, result.stderr
    return json.loads(result.stdout)


def test_sarif_output_is_valid_sarif_2_1_0(project):
    import jsonschema

    schema = json.loads(SARIF_SCHEMA.read_text(encoding="utf-8"))
    document = _sarif(project)
    validator = jsonschema.validators.validator_for(schema)(schema)
    errors = sorted(validator.iter_errors(document), key=lambda e: list(e.path))
    assert not errors, [f"{list(e.path)}: {e.message}" for e in errors[:5]]
    # And a run with nothing to report is valid too.
    write(project / "library" / "views.py", "async def fine():\n    return 1\n")
    clean = ci_run(project, "--output-format", "sarif")
    assert clean.returncode == 0
    assert not list(validator.iter_errors(json.loads(clean.stdout)))


def test_sarif_rules_results_locations_fingerprints_and_fixes(project):
    document = _sarif(project)
    assert document["version"] == "2.1.0"
    (sarif_run,) = document["runs"]
    rules = sarif_run["tool"]["driver"]["rules"]
    assert [r["id"] for r in rules] == list(RULES)
    asl101 = rules[[r["id"] for r in rules].index("ASL101")]
    assert asl101["name"] == "sync-queryset-method"
    assert asl101["shortDescription"]["text"] == RULES["ASL101"].summary()
    assert "## Why is this bad?" in asl101["fullDescription"]["text"]
    assert asl101["helpUri"] == RULES["ASL101"].url()
    assert asl101["defaultConfiguration"]["level"] == "error"
    assert sarif_run["originalUriBaseIds"]["%SRCROOT%"]["uri"] == project.resolve().as_uri() + "/"

    first, second = sarif_run["results"]
    for result in (first, second):
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]
    assert (first["ruleId"], second["ruleId"]) == ("ASL101", "ASL103")
    location = first["locations"][0]["physicalLocation"]
    assert location["artifactLocation"] == {"uri": "library/views.py", "uriBaseId": "%SRCROOT%"}
    length = len("Book.objects.get(pk=pk)")
    assert location["region"] == {"startLine": 5, "startColumn": 12, "endLine": 5, "endColumn": 12 + length}
    assert first["partialFingerprints"]["asyncLint/v1"] != second["partialFingerprints"]["asyncLint/v1"]

    # The safe fix as a SARIF fix: applying its replacements gives what --fix writes.
    (fix,) = first["fixes"]
    (change,) = fix["artifactChanges"]
    assert change["artifactLocation"] == location["artifactLocation"]
    text = apply_replacements(VIEWS, change["replacements"])
    assert "return await Book.objects.aget(pk=pk)" in text
    # The unsafe one is there too, and says so.
    assert "unsafe" in second["fixes"][0]["description"]["text"]


def apply_replacements(text: str, replacements: list[dict]) -> str:
    lines = text.splitlines(keepends=True)
    starts = [0]
    for line in lines:
        starts.append(starts[-1] + len(line))

    def offset(row: int, column: int) -> int:
        return starts[row - 1] + column - 1

    spans = sorted(
        (
            offset(r["deletedRegion"]["startLine"], r["deletedRegion"]["startColumn"]),
            offset(r["deletedRegion"]["endLine"], r["deletedRegion"]["endColumn"]),
            r["insertedContent"]["text"],
        )
        for r in replacements
    )
    for start, end, content in reversed(spans):
        text = text[:start] + content + text[end:]
    return text


def test_sarif_paths_are_relative_to_the_repository_not_the_current_folder(project):
    subprocess.run(["git", "init", "-q", str(project)], check=True)
    document = _sarif(project / "library", ".")
    uris = {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in document["runs"][0]["results"]}
    assert uris == {"library/views.py"}


# -- gitlab ---------------------------------------------------------------------------------


def _gitlab(project: Path) -> list[dict]:
    result = ci_run(project, "--output-format", "gitlab")
    assert result.returncode == 1, result.stderr
    return json.loads(result.stdout)


def test_gitlab_code_quality_report(project):
    first, second = _gitlab(project)
    assert set(first) == {"description", "check_name", "fingerprint", "severity", "location"}
    assert first["check_name"] == "ASL101 (sync-queryset-method)"
    assert first["description"].startswith("ASL101 ")
    assert first["severity"] in {"info", "minor", "major", "critical", "blocker"}
    assert first["location"] == {"path": "library/views.py", "lines": {"begin": 5, "end": 5}}
    assert second["location"]["lines"]["begin"] == 9
    assert first["fingerprint"] != second["fingerprint"]


def test_fingerprints_survive_lines_moving_and_tell_twins_apart(project):
    before = _gitlab(project)
    write(project / "library" / "views.py", "# a new first line\n" + VIEWS)
    after = _gitlab(project)
    assert [f["location"]["lines"]["begin"] for f in after] == [6, 10]
    assert [f["fingerprint"] for f in after] == [f["fingerprint"] for f in before]
    # The same finding twice on identical lines: two fingerprints.
    twice = VIEWS + "\n\nasync def again(pk):\n    return Book.objects.get(pk=pk)\n"
    write(project / "library" / "views.py", twice)
    prints = [f["fingerprint"] for f in _gitlab(project)]
    assert len(prints) == 3 and len(set(prints)) == 3


# -- statistics -----------------------------------------------------------------------------


def test_statistics_counts_findings_per_rule(project):
    write(project / "library" / "views.py", VIEWS + "\n\nasync def again(pk):\n    return Book.objects.get(pk=pk)\n")
    text, as_json = run_many(project, ["check", "--statistics"], ["check", "--statistics", "--output-format", "json"])
    assert text.code == 1
    lines = text.out.splitlines()
    assert re.match(r"^2\tASL101\t\[\*\] sync-queryset-method$", lines[0]), lines
    assert re.match(r"^1\tASL103\t {3} sync-queryset-evaluation$", lines[1]), lines
    assert lines[2] == "Found 3 errors."
    assert as_json.code == 1
    assert json.loads(as_json.out) == [
        {"code": "ASL101", "name": "sync-queryset-method", "count": 2, "fixable": True, "fixable_count": 2},
        {"code": "ASL103", "name": "sync-queryset-evaluation", "count": 1, "fixable": False, "fixable_count": 0},
    ]


# -- rules ----------------------------------------------------------------------------------


def test_rules_lists_family_and_fix_safety(project):
    result = run(project, "rules")
    assert result.code == 0
    rows = {line.split()[0]: line.split() for line in result.out.splitlines()[1:]}
    assert set(rows) == set(RULES)
    assert rows["ASL101"][1:] == ["ASL1xx", "safe", "sync-queryset-method"]
    assert rows["ASL103"][2] == "safe/unsafe"
    assert rows["ASL113"][2] == "-"
    assert "(off by default)" in " ".join(rows["ASL203"])


# -- progress -------------------------------------------------------------------------------


def _many_files(project: Path, count: int = 80) -> None:
    for n in range(count):
        write(project / "library" / "many" / f"m{n:03}.py", f"async def f{n}():\n    return {n}\n")
    write(project / "library" / "many" / "__init__.py", "")


def test_piped_runs_show_no_progress(project):
    _many_files(project)
    result = run(project, "check", "--output-format", "concise")
    assert result.code == 1
    assert result.err == ""
    assert "Checking" not in result.out and "━" not in result.out


def test_a_terminal_sees_a_progress_bar_on_stderr(project):
    _many_files(project)
    primary, secondary = pty.openpty()
    env = environment(TERM="xterm")
    try:
        process = subprocess.Popen(
            [sys.executable, "-m", "async_lint", "check", "--output-format", "concise"],
            cwd=project, stdout=subprocess.PIPE, stderr=secondary, env=env,
        )
        os.close(secondary)
        err = b""
        while True:
            try:
                chunk = os.read(primary, 65536)
            except OSError:  # the child closed the terminal
                break
            if not chunk:
                break
            err += chunk
        out = process.stdout.read().decode()
        process.wait(timeout=60)
    finally:
        os.close(primary)
    assert process.returncode == 1
    assert b"Checking" in err, err
    assert "Checking" not in out and "ASL101" in out


def test_a_long_message_keeps_a_headline_and_the_rest_as_a_note():
    """Issue 15: the first line of a message (what one-line formats show) fits 120 characters;
    the cut falls before the advice, else before the explanation, never inside a code span or
    parentheses; with no such place, at a word, the whole message becoming the note."""
    advice = Diagnostic("ASL101", "`qs.get()` runs a query " + "x" * 80 + "; use `await qs.aget()`", "f.py", 0, 1)
    assert advice.message.endswith("x") and advice.notes == ("use `await qs.aget()`",)
    spans = Diagnostic("ASL101", "`a; b` " + "word " * 30, "f.py", 0, 1)
    assert len(spans.message) <= 120 and spans.message.endswith("…") and spans.notes[0].startswith("`a; b`")
    assert Diagnostic("ASL101", "short", "f.py", 0, 1).notes == ()


def test_every_rule_example_has_a_headline_of_at_most_120_characters():
    for code, rule in RULES.items():
        for example in rule.INVALID:
            for finding in findings(example.code, {code}, example.target_version):
                assert len(finding.message) <= 120 and "\n" not in finding.message, (code, finding.message)
