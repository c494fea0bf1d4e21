"""What editors and new users reach for (issue 15), through the real command line in the small
project of tests/conftest.py: linting standard input as a file of the project, and clear errors
for a mistyped command, an unknown option, an unknown Django version or a bad ASYNC_LINT_JOBS."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from xml.etree import ElementTree

from .test_cli import VIEWS, VIEWS_SAFE_FIXED, environment, run, write


def piped(cwd: Path, text: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "async_lint", "check", *args], cwd=cwd, input=text.encode(),
        capture_output=True, env=environment(), timeout=60,
    )


# -- standard input ----------------------------------------------------------------------------


def test_stdin_is_linted_as_the_named_file_of_the_project(project):
    # The buffer is not saved: the name places it in the project (its config and its models).
    result = piped(project, VIEWS, "--stdin-filename", "library/unsaved.py", "--output-format", "concise", "-")
    out = result.stdout.decode()
    assert result.returncode == 1
    assert out.splitlines()[0].startswith("library/unsaved.py:5:12: ASL101")
    assert not (project / "library" / "unsaved.py").exists()


def test_stdin_reads_the_buffer_not_the_file_on_disk(project):
    result = piped(project, "x = 1\n", "--stdin-filename", "library/views.py", "-")
    assert result.returncode == 0, result.stdout.decode()


def test_stdin_fix_writes_the_fixed_source_to_stdout_and_touches_no_file(project):
    before = (project / "library" / "views.py").read_bytes()
    result = piped(project, VIEWS, "--stdin-filename", "library/views.py", "--fix", "-")
    assert result.stdout.decode() == VIEWS_SAFE_FIXED
    assert "1 remaining" in result.stderr.decode()  # len(qs) has only an unsafe fix
    assert result.returncode == 1
    assert (project / "library" / "views.py").read_bytes() == before


def test_stdin_fix_of_clean_code_echoes_it(project):
    result = piped(project, "x = 1\n", "--stdin-filename", "library/clean.py", "--fix", "-")
    assert (result.returncode, result.stdout.decode()) == (0, "x = 1\n")


def test_stdin_filename_without_dash_and_dash_with_paths_are_errors(project):
    assert "needs `-`" in run(project, "check", "library", "--stdin-filename", "x.py").err
    result = piped(project, VIEWS, "-", "library")
    assert result.returncode == 2 and b"cannot be checked together" in result.stderr


# -- clear errors --------------------------------------------------------------------------------


def test_a_mistyped_command_is_not_taken_for_a_path(project):
    result = run(project, "chek", ".")
    assert result.code == 2
    assert "unknown command `chek`; did you mean `check`?" in result.err


def test_an_unknown_option_shows_the_subcommands_usage(project):
    result = run(project, "check", "--fixx")
    assert result.code == 2
    assert "usage: async-lint check" in result.err and "unrecognized arguments: --fixx" in result.err


def test_an_unknown_django_version_names_the_known_ones(project):
    result = run(project, "check", "--target-version", "7.0")
    assert result.code == 2 and "unknown Django version '7.0' (known: 3.0 to 6.1)" in result.err
    write(project / "pyproject.toml", '[tool.async-lint]\ntarget-version = "9.9"\n')
    result = run(project, "check")
    assert result.code == 2 and "pyproject.toml" in result.err and "9.9" in result.err


def test_a_bad_jobs_variable_is_an_error(project):
    result = run(project, "check", env={"ASYNC_LINT_JOBS": "abc"})
    assert result.code == 2 and "ASYNC_LINT_JOBS" in result.err and "'abc'" in result.err


def test_the_python_version_warning_only_when_a_file_did_not_parse(project):
    write(project / "pyproject.toml", '[project]\nname = "p"\nrequires-python = ">=3.99"\n\n[tool.async-lint]\ntarget-version = "5.2"\n')
    assert "requires Python" not in run(project, "check").err
    write(project / "library" / "broken.py", "async def f(:\n")
    assert "requires Python >=3.99" in run(project, "check").err


# -- adopting, reporting -------------------------------------------------------------------------


def test_add_noqa_makes_a_baseline_merging_codes_and_sparing_strings(project):
    views = project / "library" / "views.py"
    write(
        views,
        VIEWS.replace("return Book.objects.get(pk=pk)", "return Book.objects.get(pk=pk)  # noqa: ASL999")
        + '\n\nasync def titled(pk):\n    return Book.objects.get(pk=pk).title + """a\n"""\n',
    )
    result = run(project, "check", "--add-noqa")
    assert result.code == 0 and "Added 2 noqa directives." in result.out
    assert "1 finding line end inside a string" in result.err
    text = views.read_text()
    assert "return Book.objects.get(pk=pk)  # noqa: ASL101, ASL999\n" in text
    assert "return len(Book.objects.filter(published=True))  # noqa: ASL103\n" in text
    assert '    return Book.objects.get(pk=pk).title + """a\n"""\n' in text  # untouched
    assert "Added 0 noqa directives." in run(project, "check", "--add-noqa").out
    assert run(project, "check", "--output-format", "concise").codes() == ["ASL101"]  # the one in the string's line


def test_quiet_silent_and_output_file(project):
    quiet = run(project, "check", "-q", "--output-format", "concise")
    assert quiet.code == 1 and quiet.out.count("\n") == 2 and "Found" not in quiet.out
    silent = run(project, "check", "--silent")
    assert (silent.code, silent.out) == (1, "")
    result = run(project, "check", "-o", "report.jsonl", "--output-format", "json-lines")
    assert result.code == 1 and result.out == ""
    rows = [json.loads(line) for line in (project / "report.jsonl").read_text().splitlines()]
    assert [r["code"] for r in rows] == ["ASL101", "ASL103"]


def test_junit_reports_a_failed_case_per_finding(project):
    suites = ElementTree.fromstring(run(project, "check", "--output-format", "junit").out.split("\n", 1)[1])
    cases = suites.findall("./testsuite/testcase")
    assert [c.get("name") for c in cases] == ["org.async-lint.ASL101", "org.async-lint.ASL103"]
    assert all(c.find("failure") is not None for c in cases)


def test_show_fixes_and_exit_non_zero_on_fix(project):
    result = run(project, "check", "--fix", "--show-fixes", "--exit-non-zero-on-fix", "--output-format", "concise", "--ignore", "ASL103")
    assert result.code == 1  # a fix was applied, nothing is left
    assert "Fixed 1 error:\n- library/views.py:\n    1 × ASL101 (sync-queryset-method)" in result.out
    assert run(project, "check", "--exit-non-zero-on-fix", "--ignore", "ASL103").code == 0


def test_exclude_and_per_file_ignores_on_the_command_line(project):
    assert run(project, "check", "--exclude", "library/views.py").code == 0
    assert run(project, "check", "--extend-exclude", "library/views.py").code == 0
    result = run(project, "check", "--per-file-ignores", "library/*:ASL101", "--output-format", "concise")
    assert result.codes() == ["ASL103"]
    assert "GLOB:CODES" in run(project, "check", "--per-file-ignores", "ASL101").err


def test_every_rules_documentation_and_the_rule_list_as_json(project):
    everything = run(project, "rule", "--all").out
    assert "## ASL101 (sync-queryset-method)" in everything and "## ASL605" in everything
    rows = json.loads(run(project, "rules", "--output-format", "json").out)
    assert {"code": "ASL101", "name": "sync-queryset-method"}.items() <= rows[0].items()


# -- configuration files -------------------------------------------------------------------------


def test_config_from_elsewhere_keeps_the_project_root(project, tmp_path_factory):
    elsewhere = tmp_path_factory.mktemp("elsewhere")
    write(elsewhere / "lint.toml", 'ignore = ["ASL103"]\n')
    result = run(project, "check", "--config", str(elsewhere / "lint.toml"), "--output-format", "concise")
    # The project's models are still indexed (ASL101 needs them) and its cache is its own.
    assert result.codes() == ["ASL101"]
    assert (project / ".async_lint_cache").is_dir() and not (elsewhere / ".async_lint_cache").exists()


def test_async_lint_toml_with_top_level_keys_is_found_like_ruff_toml(project):
    write(project / "async-lint.toml", 'ignore = ["ASL101"]\ntarget-version = "5.2"\n')
    assert run(project, "check", "--output-format", "concise").codes() == ["ASL103"]
    write(project / ".async-lint.toml", 'ignore = ["ASL103"]\n')  # the dotted name comes first
    assert run(project, "check", "--output-format", "concise").codes() == ["ASL101"]


def test_a_config_file_without_async_lint_settings_is_an_error(project):
    write(project / "other" / "pyproject.toml", '[tool.ruff]\nline-length = 100\n')
    result = run(project, "check", "--config", "other/pyproject.toml")
    assert result.code == 2 and "has no async-lint settings" in result.err
    write(project / "empty.toml", "")
    assert "has no async-lint settings" in run(project, "check", "--config", "empty.toml").err
