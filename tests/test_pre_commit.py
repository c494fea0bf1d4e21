"""The pre-commit hooks, run for real: `pre-commit try-repo` installs this package from a git
repository into its own virtualenv (from PyPI for the dependencies) and runs each hook in a
small Django project that is itself a git repository.

try-repo clones the hooks' repository at a commit, so the repository it is given is a snapshot
of this working tree (committed or not) in a temporary folder: the test works on a fresh clone
and before the hooks file is committed alike.  The pre-commit cache is a temporary folder too.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from .test_cli import LIBRARY, ROOT, write

pytest.importorskip("pre_commit")

# One finding, with a safe fix.
VIEWS = """\
from library.models import Book


async def detail(pk):
    return Book.objects.get(pk=pk)
"""
FIXED = VIEWS.replace("return Book.objects.get(pk=pk)", "return await Book.objects.aget(pk=pk)")
# What the package needs to build and run.
PACKAGE_FILES = ("async_lint", "pyproject.toml", "README.md", ".pre-commit-hooks.yaml")


def git(cwd: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.name=async-lint tests", "-c", "user.email=tests@example.invalid",
         "-c", "commit.gpgsign=false", "-c", "init.defaultBranch=main", *args],
        cwd=cwd, check=True, capture_output=True,
    )


def commit_all(repository: Path) -> None:
    git(repository, "init", "-q")
    git(repository, "add", "-A")
    git(repository, "commit", "-q", "-m", "snapshot")


@pytest.fixture(scope="module")
def hooks_repository(tmp_path_factory) -> Path:
    snapshot = tmp_path_factory.mktemp("hooks") / "async-lint"
    snapshot.mkdir()
    for name in PACKAGE_FILES:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, snapshot / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            shutil.copy2(source, snapshot / name)
    commit_all(snapshot)
    return snapshot


@pytest.fixture(scope="module")
def pre_commit_home(tmp_path_factory) -> Path:
    # One cache for the module: the hook environment is built once and shared by the tests.
    return tmp_path_factory.mktemp("pre-commit-home")


@pytest.fixture
def django_project(tmp_path: Path) -> Path:
    project = tmp_path / "site"
    shutil.copytree(LIBRARY, project / "library", ignore=shutil.ignore_patterns("__pycache__"))
    write(project / "pyproject.toml", '[project]\nname = "site"\n\n[tool.async-lint]\ntarget-version = "5.2"\n')
    write(project / "library" / "views.py", VIEWS)
    commit_all(project)
    return project


def try_repo(project: Path, hooks: Path, home: Path, hook: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PRE_COMMIT", "PYTHONPATH", "VIRTUAL_ENV"))}
    env.update(PRE_COMMIT_HOME=str(home), NO_COLOR="1", PRE_COMMIT_COLOR="never")
    return subprocess.run(
        [sys.executable, "-m", "pre_commit", "try-repo", str(hooks), hook, "--all-files", "--verbose"],
        cwd=project, capture_output=True, text=True, env=env, timeout=600,
    )


def test_hooks_file_declares_both_hooks_as_ruff_and_django_upgrade_do():
    import yaml

    hooks = {h["id"]: h for h in yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())}
    assert set(hooks) == {"async-lint", "async-lint-fix"}
    assert hooks["async-lint"]["entry"] == "async-lint check"
    assert hooks["async-lint-fix"]["entry"] == "async-lint check --fix"
    for hook in hooks.values():
        assert hook["language"] == "python"
        assert hook["types_or"] == ["python", "pyi"]
        assert hook["require_serial"] is True
        assert hook["minimum_pre_commit_version"]


def test_check_hook_fails_on_a_finding(django_project, hooks_repository, pre_commit_home):
    result = try_repo(django_project, hooks_repository, pre_commit_home, "async-lint")
    output = result.stdout + result.stderr
    assert result.returncode == 1, output
    assert "library/views.py:5:12: ASL101" in output, output
    assert (django_project / "library" / "views.py").read_text() == VIEWS


def test_fix_hook_rewrites_the_file_and_then_the_check_hook_passes(django_project, hooks_repository, pre_commit_home):
    fixed = try_repo(django_project, hooks_repository, pre_commit_home, "async-lint-fix")
    output = fixed.stdout + fixed.stderr
    assert fixed.returncode == 1, output  # pre-commit fails a hook that modified files
    assert "files were modified by this hook" in output, output
    assert (django_project / "library" / "views.py").read_text() == FIXED
    git(django_project, "commit", "-q", "-am", "fixed")
    checked = try_repo(django_project, hooks_repository, pre_commit_home, "async-lint")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "Passed" in checked.stdout
