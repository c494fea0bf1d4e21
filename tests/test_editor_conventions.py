"""What editors and new users reach for (issue 15), through the real command line in the small
project of tests/conftest.py: linting standard input as a file of the project, and clear errors
for a mistyped command, an unknown option, an unknown Django version or a bad ASYNC_LINT_JOBS."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

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
