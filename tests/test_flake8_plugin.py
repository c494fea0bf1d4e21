"""The flake8 plugin: the real `flake8 --select ASL` in a subprocess reports what the real
`async-lint check` reports on the same files (codes, rows, columns, messages); `# noqa` works
through flake8; the target version is a flake8 option or comes from `[tool.async-lint]`.  And,
in-process: the plugin lints flake8's own tree (no second parse) and builds the model index once
per process."""

from __future__ import annotations

import ast
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from .test_cli import LIBRARY, ROOT, VIEWS, environment, row_of, run, write

pytest.importorskip("flake8")

FIXTURE_PROJECT = ROOT / "fixtures" / "project"
# flake8's default format, with tabs between the fields so that messages may contain colons.
FORMAT = "%(path)s\t%(row)d\t%(col)d\t%(code)s\t%(text)s"

SHORTCUT = """\
from django.shortcuts import get_object_or_404
from library.models import Book


async def detail(pk):
    return get_object_or_404(Book, pk=pk)
"""

Finding = tuple[str, int, int, str, str]


def flake8(cwd: Path, *args: str) -> list[Finding]:
    process = subprocess.run(
        [sys.executable, "-m", "flake8", "--select", "ASL", f"--format={FORMAT}", *args, "."],
        cwd=cwd, capture_output=True, text=True, env=environment(), timeout=300,
    )
    assert process.returncode in (0, 1), process.stderr
    assert "Traceback" not in process.stderr, process.stderr
    found = []
    for line in process.stdout.splitlines():
        path, row, column, code, text = line.split("\t", 4)
        # flake8 prints the column 1-based (the plugin yields it 0-based, flake8 adds one), so
        # it compares directly with async-lint's 1-based JSON column.
        found.append((str(Path(path)), int(row), int(column), code, text))
    return sorted(found)


def check(cwd: Path, *args: str) -> list[Finding]:
    result = run(cwd, "check", "--output-format", "json", "--exit-zero", *args)
    assert result.code == 0, result.err
    found = []
    for item in json.loads(result.out):
        if item["code"].startswith("ASL9"):
            continue  # unparseable/unreadable files: flake8's own E902/E999
        path = str(Path(item["filename"]).relative_to(cwd))
        found.append((path, item["location"]["row"], item["location"]["column"], item["code"], item["message"]))
    return sorted(found)


@pytest.fixture
def fixture_project(tmp_path: Path) -> Path:
    target = tmp_path / "project"
    shutil.copytree(FIXTURE_PROJECT, target, ignore=shutil.ignore_patterns("__pycache__"))
    return target


@pytest.fixture
def small_project(tmp_path: Path) -> Path:
    shutil.copytree(LIBRARY, tmp_path / "library", ignore=shutil.ignore_patterns("__pycache__"))
    write(tmp_path / "pyproject.toml", '[project]\nname = "demo"\n')
    return tmp_path


def test_flake8_reports_what_check_reports_on_the_fixture_project(fixture_project):
    expected = check(fixture_project)
    assert len(expected) > 100 and len({code for *_, code, _ in expected}) > 20
    assert flake8(fixture_project) == expected


def test_noqa_and_config_through_flake8(small_project):
    text = """\
from library.models import Book


async def coded(pk):
    return Book.objects.get(pk=pk)  # noqa: ASL101


async def other_code(pk):
    return Book.objects.get(pk=pk)  # noqa: ASL103


async def counted():
    return len(Book.objects.all())
"""
    write(small_project / "library" / "views.py", text)
    found = flake8(small_project)
    assert [(path, row, code) for path, row, _, code, _ in found] == [
        ("library/views.py", row_of(text, "def other_code") + 1, "ASL101"),
        ("library/views.py", row_of(text, "def counted") + 1, "ASL103"),
    ]
    assert found == check(small_project)
    # [tool.async-lint] ignore and per-file-ignores apply as they do for check.
    write(
        small_project / "pyproject.toml",
        '[tool.async-lint]\nignore = ["ASL103"]\nper-file-ignores = { "library/other.py" = ["ASL1"] }\n',
    )
    write(small_project / "library" / "other.py", text)
    found = flake8(small_project)
    assert [code for *_, code, _ in found] == ["ASL101"]
    assert found == check(small_project)
    # flake8's own selection on top: --extend-ignore.
    assert flake8(small_project, "--extend-ignore", "ASL101") == []


def test_target_version_option_and_config(small_project):
    write(small_project / "library" / "views.py", SHORTCUT)
    write(small_project / "pyproject.toml", '[tool.async-lint]\ntarget-version = "4.2"\n')
    from_config = flake8(small_project)
    assert len(from_config) == 1 and "aget_object_or_404" not in from_config[0][4]  # 4.2 has no twin
    assert from_config == check(small_project)
    from_option = flake8(small_project, "--async-lint-target-version", "5.2")
    assert "await aget_object_or_404()" in from_option[0][4]
    assert from_option == check(small_project, "--target-version", "5.2")


# -- in-process: one parse, one index ----------------------------------------------------------


class _Options:
    def __init__(self, filenames, target=None, select=("ASL",)):
        self.async_lint_target_version = target
        self.select = list(select)
        self.extend_select = []
        self.filenames = filenames


def test_one_index_per_process_and_no_second_parse(small_project, monkeypatch):
    from async_lint import flake8_plugin
    from async_lint.project import ProjectIndex

    write(small_project / "library" / "views.py", VIEWS)
    write(small_project / "library" / "more.py", VIEWS.replace("def detail", "def other"))
    builds, parsed = [], []
    original_build = ProjectIndex.assemble.__func__
    original_parse = ast.parse

    def counting_build(cls, facts, parse, *args):
        builds.append(len(facts))
        return original_build(cls, facts, parse, *args)

    def counting_parse(source, filename="<unknown>", *args, **kwargs):
        parsed.append(str(filename))
        return original_parse(source, filename, *args, **kwargs)

    monkeypatch.setattr(ProjectIndex, "assemble", classmethod(counting_build))
    monkeypatch.setattr(ast, "parse", counting_parse)

    flake8_plugin.Plugin.parse_options(_Options([str(small_project)]))
    findings = []
    for name in ("views.py", "more.py", "views.py"):
        path = small_project / "library" / name
        text = path.read_text()
        tree = compile(text, str(path), "exec", ast.PyCF_ONLY_AST)  # what flake8 hands over
        plugin = flake8_plugin.Plugin(tree, str(path), text.splitlines(keepends=True))
        findings.append([message.split()[0] for _, _, message, _ in plugin.run()])
    assert findings == [["ASL101", "ASL103"]] * 3
    assert len(builds) == 1, builds  # the model index: once for the three files
    assert any(p.endswith("models.py") for p in parsed)  # the index read the models
    assert not [p for p in parsed if p.endswith(("views.py", "more.py"))], parsed  # linting parsed nothing


# What runs flake8 with ProjectIndex.assemble logging the process that builds the index.
COUNTING_FLAKE8 = """
import os, sys
from async_lint import project
build = project.ProjectIndex.assemble.__func__
def logged(cls, facts, parse, *args):
    with open(os.environ["BUILD_LOG"], "a") as log:
        log.write(f"{os.getpid()}\\n")
    return build(cls, facts, parse, *args)
project.ProjectIndex.assemble = classmethod(logged)
from flake8.main.cli import main
sys.exit(main())
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="flake8 forks its workers on Linux")
def test_flake8_workers_share_one_index(fixture_project, tmp_path):
    log = tmp_path / "builds.log"
    process = subprocess.run(
        [sys.executable, "-c", COUNTING_FLAKE8, "--select", "ASL", f"--format={FORMAT}", "--jobs", "2", "."],
        cwd=fixture_project, capture_output=True, text=True, env={**environment(), "BUILD_LOG": str(log)}, timeout=300,
    )
    assert process.returncode == 1, process.stderr
    assert len(process.stdout.splitlines()) > 100  # the workers did report
    assert len(log.read_text().splitlines()) == 1  # built once, by flake8's main process


def _flake8_raw(cwd: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "flake8", *args, "."], cwd=cwd, capture_output=True, text=True, env=environment(), timeout=120
    )


def test_a_config_error_is_one_line_and_only_when_asl_is_selected(project):
    write(project / "pyproject.toml", '[tool.async-lint]\nselekt = ["ASL"]\n')
    # Not selected: the plugin does nothing, so async-lint's configuration is not even read.
    unselected = _flake8_raw(project, "--select", "E,W,F")
    assert "async-lint" not in unselected.stderr and "Traceback" not in unselected.stderr
    selected = _flake8_raw(project, "--select", "ASL")
    assert selected.returncode != 0
    lines = selected.stderr.strip().splitlines()
    assert len(lines) == 1 and "selekt" in lines[0] and "pyproject.toml" in lines[0], selected.stderr


# What runs flake8 and then prints the async-lint modules it imported.
IMPORTS_AFTER_FLAKE8 = """
import sys
from flake8.main.cli import main
main(sys.argv[1:])
print(sorted(m for m in sys.modules if m.startswith("async_lint")))
"""


def test_unselected_plugin_imports_neither_engine_nor_rules(small_project):
    write(small_project / "library" / "views.py", VIEWS)

    def imported(*select: str) -> list[str]:
        process = subprocess.run(
            [sys.executable, "-c", IMPORTS_AFTER_FLAKE8, *select, "--exit-zero", "library/views.py"],
            cwd=small_project, capture_output=True, text=True, env=environment(), timeout=120,
        )
        assert "Traceback" not in process.stderr, process.stderr
        return ast.literal_eval(process.stdout.strip().splitlines()[-1])

    assert imported("--select", "E,W,F") == ["async_lint", "async_lint.flake8_plugin"]
    assert {"async_lint.engine", "async_lint.rules"} <= set(imported("--select", "E,W,F,ASL"))
