"""The command line as a user meets it: the real `async-lint` run in a subprocess inside a small
Django project in a temporary folder (the fixture app `library` plus views written per test).

Every run also proves that no traceback reaches the user, whatever the input.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import stat
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LIBRARY = ROOT / "fixtures" / "project" / "library"

# One safe finding (ASL101, row 5) and one whose only fix is unsafe (ASL103, row 9).
VIEWS = """\
from library.models import Book


async def detail(pk):
    return Book.objects.get(pk=pk)


async def count():
    return len(Book.objects.filter(published=True))
"""
VIEWS_SAFE_FIXED = VIEWS.replace("return Book.objects.get(pk=pk)", "return await Book.objects.aget(pk=pk)")
VIEWS_ALL_FIXED = VIEWS_SAFE_FIXED.replace(
    "return len(Book.objects.filter(published=True))", "return await Book.objects.filter(published=True).acount()"
)
CLEAN = """\
from library.models import Book


async def detail(pk):
    return await Book.objects.aget(pk=pk)
"""
# A finding in a file that must not be read: if it shows up, the file was checked.
SKIPPED = "from library.models import Book\n\n\nasync def leak():\n    return Book.objects.get(pk=1)\n"
PYPROJECT = '[project]\nname = "demo"\n\n[tool.async-lint]\ntarget-version = "5.2"\n'

CONCISE_LINE = re.compile(
    r"^(?P<path>[^\s:]+):(?P<row>\d+):(?P<column>\d+): (?P<code>ASL\d{3}) (?P<fix>\[\*\] )?(?P<message>\S.*)$"
)


@dataclass
class Result:
    code: int
    out: str
    err: str

    def findings(self) -> list[tuple[str, int, int, str]]:
        """(path, row, column, code) of every concise finding line (summary lines are skipped)."""
        found = []
        for line in self.out.splitlines():
            match = CONCISE_LINE.match(line)
            if match:
                found.append((match["path"], int(match["row"]), int(match["column"]), match["code"]))
        return found

    def codes(self, path: str | None = None) -> list[str]:
        return [code for where, _, _, code in self.findings() if path is None or where == path]

    def paths(self) -> set[str]:
        return {where for where, _, _, _ in self.findings()}


def environment(**extra: str) -> dict[str, str]:
    """This checkout's async_lint, no colour, a fixed width, no debug tracebacks."""
    environ = {key: value for key, value in os.environ.items() if key not in ("ASYNC_LINT_DEBUG", "FORCE_COLOR", "TTY_COMPATIBLE")}
    environ.update(NO_COLOR="1", COLUMNS="120", **extra)
    environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    return environ


def run(cwd: Path, *args: str, env: dict[str, str] | None = None, timeout: float = 60) -> Result:
    process = subprocess.run(
        [sys.executable, "-m", "async_lint", *args],
        cwd=cwd, capture_output=True, env=environment(**(env or {})), timeout=timeout,
    )
    out = process.stdout.decode("utf-8", errors="backslashreplace")
    err = process.stderr.decode("utf-8", errors="backslashreplace")
    assert "Traceback" not in err and "Traceback" not in out, err
    return Result(process.returncode, out, err)


def concise(cwd: Path, *args: str, **kwargs) -> Result:
    return run(cwd, "check", "--output-format", "concise", *args, **kwargs)


def run_many(cwd: Path, *commands: list[str]) -> list[Result]:
    """Independent runs at once (each is mostly interpreter start-up)."""
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        return list(pool.map(lambda args: run(cwd, *args), commands))


def write(path: Path, content: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
    return path


def row_of(text: str, needle: str) -> int:
    return next(n for n, line in enumerate(text.splitlines(), 1) if needle in line)


# -- exit codes and usage errors --------------------------------------------------------------


def test_findings_exit_1_with_one_concise_line_each(project):
    result = concise(project)
    assert result.code == 1
    lines = result.out.splitlines()
    assert re.match(r"^library/views\.py:5:12: ASL101 \[\*\] \S", lines[0]), lines
    assert re.match(r"^library/views\.py:9:12: ASL103 (?!\[\*\])\S", lines[1]), lines
    assert lines[2:] == [
        "Found 2 errors.",
        "[*] 1 fixable with the `--fix` option.",
        "(1 hidden fix can be enabled with the `--unsafe-fixes` option.)",
    ]


def test_clean_project_exits_0(project):
    write(project / "library" / "views.py", CLEAN)
    text, as_json = run_many(project, ["check", "--output-format", "concise"], ["check", "--output-format", "json"])
    assert (text.code, text.out.strip()) == (0, "All checks passed!")
    assert (as_json.code, json.loads(as_json.out)) == (0, [])


def test_exit_zero_keeps_the_findings_but_exits_0(project):
    result = concise(project, "--exit-zero")
    assert result.code == 0
    assert result.codes() == ["ASL101", "ASL103"]


def test_missing_path_is_a_usage_error(project):
    result = run(project, "check", "library", "nope.py")
    assert result.code == 2
    assert result.out == ""
    assert "nope.py" in result.err and "no such file or directory" in result.err.lower()


def test_bad_options_are_usage_errors_naming_the_culprit(project):
    cases = [
        (["check", "--select", "ASL101,XYZ9"], "XYZ9"),
        (["check", "--ignore", "E501"], "E501"),
        (["check", "--extend-select", "ASL999"], "ASL999"),
        (["check", "--target-version", "banana"], "banana"),
        (["check", "--output-format", "xml"], "xml"),
        (["rule", "ASL999"], "ASL999"),
    ]
    for (args, named), result in zip(cases, run_many(project, *(args for args, _ in cases))):
        assert result.code == 2, args
        assert named in result.err, (args, result.err)
        assert "internal error" not in result.err, args


def test_bad_config_is_an_error_naming_the_key(project):
    cases = [
        ('selekt = ["ASL"]', "selekt"),
        ('ignore = "ASL101"', "ignore"),
        ("target-version = 5.0", "target-version"),
        ('target-version = "five"', "target-version"),
        ('per-file-ignores = ["library/*"]', "per-file-ignores"),
        ('select = ["NOPE"]', "NOPE"),
    ]
    for n, (table, _) in enumerate(cases):
        write(project / "config" / f"{n}.toml", f"[tool.async-lint]\n{table}\n")
    results = run_many(project, *(["check", "--config", f"config/{n}.toml"] for n in range(len(cases))))
    for (table, named), result in zip(cases, results):
        assert result.code == 2, table
        assert named in result.err, (table, result.err)
        assert result.out == "", table
    # The same from the project's own pyproject.toml.
    write(project / "pyproject.toml", "[tool.async-lint]\nextend-exclude = \"build\"\n")
    result = run(project, "check")
    assert result.code == 2 and "extend-exclude" in result.err and "pyproject.toml" in result.err


def test_config_that_is_not_toml_is_an_error(project):
    write(project / "pyproject.toml", "[tool.async-lint\n")
    result = run(project, "check")
    assert result.code == 2
    assert "pyproject.toml" in result.err


def test_config_option_reads_the_named_file(project):
    write(project / "settings" / "lint.toml", '[tool.async-lint]\nignore = ["ASL101"]\n')
    assert concise(project, "--config", "settings/lint.toml").codes() == ["ASL103"]


def test_paths_alone_mean_check_and_the_default_path_is_the_current_folder(project):
    explicit, implicit, bare_path = run_many(
        project,
        ["check", "--output-format", "concise", "."],
        ["--output-format", "concise"],
        ["--output-format", "concise", "library"],
    )
    assert explicit.code == 1 and explicit.codes() == ["ASL101", "ASL103"]
    assert (implicit.code, implicit.out, implicit.err) == (explicit.code, explicit.out, explicit.err)
    assert (bare_path.code, bare_path.out, bare_path.err) == (explicit.code, explicit.out, explicit.err)


def test_rule_and_rules_commands(project):
    rules, rule = run_many(project, ["rules"], ["rule", "asl101"])
    assert rules.code == 0
    assert re.search(r"^ASL101\b.*sync-queryset-method", rules.out, re.MULTILINE)
    assert rule.code == 0 and "ASL101" in rule.out and "## What it does" in rule.out


# -- output formats ---------------------------------------------------------------------------


def test_full_format_is_the_default_with_source_caret_help_and_summary(project):
    result = run(project)
    assert result.code == 1
    out = result.out
    assert "\x1b[" not in out  # no colour when the output is not a terminal
    lines = out.splitlines()
    header = lines.index(next(line for line in lines if line.startswith("library/views.py:5:12: ASL101 [*] ")))
    code_line = "    return Book.objects.get(pk=pk)"
    assert lines[header + 1].strip() == "|"
    assert lines[header + 2] == f"5 | {code_line}"
    caret = lines[header + 3]
    assert caret == "  | " + " " * 11 + "^" * len("Book.objects.get(pk=pk)")
    assert any(line.strip().startswith("= help:") for line in lines[header + 4 :])
    assert "ASL103" in out and "(unsafe fix)" in out
    # A table of counts by rule, then the summary.
    assert re.search(r"^\s*1\s+ASL101\s+sync-queryset-method\s*$", out, re.MULTILINE)
    assert "Found 2 errors." in lines
    assert "[*] 1 fixable with the `--fix` option." in lines


def _offset(text: str, location: dict) -> int:
    starts = [0] + [m.end() for m in re.finditer(r"\r\n|\r|\n", text)]
    return starts[location["row"] - 1] + location["column"] - 1


def test_json_format_has_ruffs_fields_and_counts_columns_in_characters(project):
    intl = "\n".join(
        [
            "from library.models import Book",
            "",
            "",
            "async def label(pk):",
            '    title = "Bücher – 📚 ∑"; return Book.objects.get(pk=pk)',
            "",
        ]
    )
    path = write(project / "library" / "intl.py", intl)
    result = run(project, "check", "--output-format", "json", "--unsafe-fixes")
    assert result.code == 1
    items = json.loads(result.out)
    assert isinstance(items, list) and len(items) == 3
    for item in items:
        assert set(item) == {"cell", "code", "end_location", "filename", "fix", "location", "message", "noqa_row", "url"}
        assert os.path.isabs(item["filename"])
        assert set(item["location"]) == set(item["end_location"]) == {"row", "column"}
        assert item["fix"] is None or set(item["fix"]) == {"applicability", "edits", "message"}
        for edit in item["fix"]["edits"] if item["fix"] else ():
            assert set(edit) == {"content", "location", "end_location"}
    by_file = {(Path(i["filename"]).name, i["code"]): i for i in items}
    finding = by_file["intl.py", "ASL101"]
    assert finding["filename"] == str(path)
    line = intl.splitlines()[4]
    assert finding["location"] == {"row": 5, "column": line.index("Book") + 1}
    assert finding["end_location"] == {"row": 5, "column": len(line) + 1}
    assert finding["noqa_row"] == 5
    assert finding["fix"]["applicability"] == "safe"
    assert by_file["views.py", "ASL103"]["fix"]["applicability"] == "unsafe"
    assert by_file["views.py", "ASL101"]["location"] == {"row": 5, "column": 12}
    # The edits, applied by character position, are exactly what --fix writes.
    text = intl
    for edit in sorted(finding["fix"]["edits"], key=lambda e: _offset(intl, e["location"]), reverse=True):
        text = text[: _offset(intl, edit["location"])] + edit["content"] + text[_offset(intl, edit["end_location"]) :]
    assert "await Book.objects.aget(pk=pk)" in text
    concise(project, "--fix", "library/intl.py")
    assert path.read_text(encoding="utf-8") == text


# -- fixes ------------------------------------------------------------------------------------


def test_fix_applies_safe_fixes_only_and_is_idempotent(project):
    views = project / "library" / "views.py"
    result = concise(project, "--fix")
    assert result.code == 1
    assert views.read_text() == VIEWS_SAFE_FIXED
    assert result.codes() == ["ASL103"]
    assert "Found 2 errors (1 fixed, 1 remaining)." in result.out.splitlines()
    before = views.read_bytes()
    again = concise(project, "--fix")
    assert again.code == 1 and again.codes() == ["ASL103"]
    assert views.read_bytes() == before


def test_unsafe_fixes_apply_with_fix_and_a_second_run_changes_nothing(project):
    views = project / "library" / "views.py"
    result = concise(project, "--fix", "--unsafe-fixes")
    assert result.code == 0, result.out
    assert views.read_text() == VIEWS_ALL_FIXED
    assert "Found 2 errors (2 fixed, 0 remaining)." in result.out.splitlines()
    again = concise(project, "--fix", "--unsafe-fixes")
    assert (again.code, again.out.strip()) == (0, "All checks passed!")
    assert views.read_text() == VIEWS_ALL_FIXED


def test_unsafe_fixes_without_fix_only_shows_them_as_fixable(project):
    result = concise(project, "--unsafe-fixes")
    assert result.code == 1
    assert (project / "library" / "views.py").read_text() == VIEWS
    assert "[*] 2 fixable with the `--fix` option." in result.out.splitlines()


def test_diff_prints_a_patch_and_writes_nothing(project):
    views = project / "library" / "views.py"
    result = run(project, "check", "--diff")
    assert result.code == 1
    assert views.read_text() == VIEWS
    assert result.out.startswith("--- a/library/views.py\n+++ b/library/views.py\n@@ ")
    assert "\n-    return Book.objects.get(pk=pk)\n+    return await Book.objects.aget(pk=pk)\n" in result.out
    assert "acount" not in result.out  # unsafe: not without --unsafe-fixes
    assert "Would fix 1 error in 1 file." in result.err
    with_unsafe = run(project, "check", "--diff", "--unsafe-fixes")
    assert with_unsafe.code == 1 and "acount()" in with_unsafe.out
    assert views.read_text() == VIEWS


def test_diff_with_nothing_to_fix_exits_0(project):
    write(project / "library" / "views.py", VIEWS.split("async def detail")[0] + "async def count():\n    return len(Book.objects.all())\n")
    result = run(project, "check", "--diff")
    assert (result.code, result.out) == (0, "")


@pytest.mark.skipif(shutil.which("patch") is None, reason="needs patch(1)")
def test_diff_is_a_patch_that_applies_without_a_final_newline_and_with_a_form_feed(project, tmp_path_factory):
    # A form feed is a line break to str.splitlines() but not to patch(1).
    text = "from library.models import Book\n\n\n\x0c\nasync def detail(pk):\n    return Book.objects.get(pk=pk)"
    views = write(project / "library" / "views.py", text)
    result = run(project, "check", "--diff")
    assert result.code == 1
    copy = tmp_path_factory.mktemp("patched")
    write(copy / "library" / "views.py", text)
    patch = subprocess.run(["patch", "-p1", "--batch"], cwd=copy, input=result.out.encode(), capture_output=True)
    assert patch.returncode == 0, patch.stdout + patch.stderr
    assert (copy / "library" / "views.py").read_bytes() == text.replace("return Book.objects.get", "return await Book.objects.aget").encode()
    assert views.read_text() == text


# -- rule selection and suppression ------------------------------------------------------------


def test_select_ignore_extend_select(project):
    cases = [
        (["--select", "ASL103"], ["ASL103"]),
        (["--ignore", "ASL101"], ["ASL103"]),
        (["--select", "ASL101", "--extend-select", "ASL103"], ["ASL101", "ASL103"]),
        (["--ignore", "ASL1"], []),
    ]
    results = run_many(project, *(["check", "--output-format", "concise", *args] for args, _ in cases))
    for (args, codes), result in zip(cases, results):
        assert result.codes() == codes, args
        assert result.code == (1 if codes else 0), args


def test_config_selection_and_per_file_ignores(project):
    write(project / "library" / "api.py", VIEWS)
    write(
        project / "pyproject.toml",
        '[tool.async-lint]\nselect = ["ASL101"]\nextend-select = ["ASL103"]\n'
        # A bare name matches in any folder; `**/` also matches no folder, as in ruff.
        '[tool.async-lint.per-file-ignores]\n"views.py" = ["ASL101"]\n"library/**/api.py" = ["ASL1"]\n',
    )
    result = concise(project)
    assert result.findings() == [("library/views.py", 9, 12, "ASL103")]
    # The command line adds to the file's selection; per-file-ignores still apply.
    assert concise(project, "--ignore", "ASL103").code == 0


def test_noqa_comments(project):
    text = """\
from library.models import Book


async def bare(pk):
    return Book.objects.get(pk=pk)  # noqa


async def coded(pk):
    return Book.objects.get(pk=pk)  # noqa: ASL101


async def other_code(pk):
    return Book.objects.get(pk=pk)  # noqa: ASL103


async def in_string(pk):
    return Book.objects.get(title="# noqa")


async def in_string_on_a_continued_line(pk):
    return Book.objects.get(title="# noqa",
                            pk=pk)
"""
    write(project / "library" / "views.py", text)
    result = concise(project)
    rows = [row for _, row, _, _ in result.findings()]
    assert result.codes() == ["ASL101"] * 3
    assert rows == [
        row_of(text, "def other_code") + 1,
        row_of(text, "def in_string(") + 1,
        row_of(text, "def in_string_on_a_continued_line") + 1,
    ]


# -- target Django version --------------------------------------------------------------------


def test_target_version_chooses_between_twins_and_sync_to_async(project):
    old, new = run_many(
        project,
        ["check", "--diff", "--select", "ASL101", "--target-version", "4.0"],
        ["check", "--diff", "--select", "ASL101", "--target-version", "5.2"],
    )
    assert old.code == 1
    assert "+from asgiref.sync import sync_to_async\n" in old.out
    assert "+    return await sync_to_async(Book.objects.get)(pk=pk)\n" in old.out
    assert "+    return await Book.objects.aget(pk=pk)\n" in new.out
    assert "sync_to_async" not in new.out


SHORTCUT = """\
from django.shortcuts import get_object_or_404
from library.models import Book


async def detail(pk):
    return get_object_or_404(Book, pk=pk)
"""


def test_target_version_from_a_requirements_pin(project):
    (project / "pyproject.toml").unlink()
    write(project / "requirements.txt", "djangorestframework>=3.14\nDjango>=4.2,<5.0  # LTS\n")
    write(project / "library" / "views.py", SHORTCUT)
    result = run(project)
    assert result.code == 1
    assert "`aget_object_or_404()` needs Django 5.0" in result.out
    assert f"Target Django 4.2 (the Django requirement in {project / 'requirements.txt'})." in result.out


def test_target_version_from_pyproject_dependencies(project):
    write(project / "pyproject.toml", '[project]\nname = "demo"\ndependencies = ["django-environ>=0.9", "Django~=5.0.3"]\n')
    write(project / "requirements.txt", "Django==4.0\n")  # pyproject comes first
    write(project / "library" / "views.py", SHORTCUT)
    result = run(project)
    assert result.code == 1
    assert "use `await aget_object_or_404()`" in result.out
    assert "Target Django 5.0.3 (the Django requirement in " in result.out


def test_project_root_without_pyproject_is_the_django_project_not_the_current_folder(tmp_path):
    # Checked from a folder above the project: the project's own pin applies, and the run does
    # not read every Python file under the current folder.
    project = tmp_path / "site"
    shutil.copytree(LIBRARY, project / "library", ignore=shutil.ignore_patterns("__pycache__"))
    write(project / "manage.py", "")
    write(project / "requirements.txt", "Django==4.2\n")
    write(project / "library" / "views.py", SHORTCUT)
    write(tmp_path / "requirements.txt", "Django==5.1\n")
    result = run(tmp_path, "check", "site/library/views.py")
    assert result.code == 1
    assert f"Target Django 4.2 (the Django requirement in {project / 'requirements.txt'})." in result.out


def test_project_reached_through_a_symlink_keeps_its_config_and_models(project, tmp_path_factory):
    write(project / "pyproject.toml", '[tool.async-lint]\nper-file-ignores = { "library/views.py" = ["ASL101"] }\n')
    link = tmp_path_factory.mktemp("elsewhere") / "checkout"
    link.symlink_to(project, target_is_directory=True)
    # ASL103 needs the model index (library/models.py); ASL101 is ignored for this file.
    result = concise(link.parent, str(link / "library" / "views.py"))
    assert result.codes() == ["ASL103"]


# -- which files are checked ------------------------------------------------------------------


def test_gitignored_files_are_skipped_unless_named(project):
    write(project / ".gitignore", "library/generated.py\nscratch/\n")
    write(project / "library" / ".gitignore", "local_*.py\n")
    for name in ("library/generated.py", "scratch/notes.py", "library/local_settings.py"):
        write(project / name, SKIPPED)
    everything, subfolder, named = run_many(
        project,
        ["check", "--output-format", "concise"],
        ["check", "--output-format", "concise", "library"],
        ["check", "--output-format", "concise", "library/generated.py", "scratch/notes.py"],
    )
    assert everything.paths() == {"library/views.py"}
    # The project's .gitignore applies when a subfolder is checked, too.
    assert subfolder.paths() == {"library/views.py"}
    assert named.paths() == {"library/generated.py", "scratch/notes.py"}, (named.code, named.out, named.err)


def test_virtualenvs_are_skipped(project):
    for name in (".venv/lib/site.py", "venv/lib/site.py", "env-prod/lib/site.py"):
        write(project / name, SKIPPED)
    write(project / "env-prod" / "pyvenv.cfg", "home = /usr/bin\n")
    write(project / "environments" / "local.py", SKIPPED)  # no pyvenv.cfg: an ordinary folder
    assert concise(project).paths() == {"library/views.py", "environments/local.py"}


def test_configured_excludes_are_skipped_unless_named(project):
    write(project / "pyproject.toml", '[tool.async-lint]\nexclude = ["library/legacy"]\nextend-exclude = ["library/**/old_*.py"]\n')
    write(project / "library" / "legacy" / "views.py", SKIPPED)
    write(project / "library" / "old_views.py", SKIPPED)
    everything, named = run_many(
        project, ["check", "--output-format", "concise"], ["check", "--output-format", "concise", "library/old_views.py"]
    )
    assert everything.paths() == {"library/views.py"}
    assert named.paths() == {"library/old_views.py"}


# -- bad input --------------------------------------------------------------------------------


def test_syntax_error_is_reported_and_the_run_goes_on(project):
    write(project / "library" / "broken.py", "from library.models import Book\n\n\nasync def broken(:\n    pass\n")
    result = concise(project)
    assert result.code == 1
    assert ("library/broken.py", 4, 18, "ASL901") in result.findings()
    assert result.codes("library/views.py") == ["ASL101", "ASL103"]


def test_undecodable_files_are_reported_and_the_run_goes_on(project):
    write(project / "library" / "latin.py", SKIPPED.encode().replace(b"pk=1", "pk='caf\xe9'".encode("latin-1")))
    write(project / "library" / "nul.py", SKIPPED.encode() + b"x = 1\x00\n")
    result = concise(project)
    assert result.code == 1
    assert ("library/latin.py", 1, 1, "ASL902") in result.findings()
    assert ("library/nul.py", 1, 1, "ASL902") in result.findings()
    assert result.codes("library/latin.py") == result.codes("library/nul.py") == ["ASL902"]
    assert re.search(r"^library/nul\.py:1:1: ASL902 .*NUL", result.out, re.MULTILINE)
    assert result.codes("library/views.py") == ["ASL101", "ASL103"]
    assert "internal error" not in result.err


def test_declared_latin1_file_is_fixed_in_its_encoding(project):
    text = '# -*- coding: latin-1 -*-\n' + VIEWS.replace("(pk=pk)", "(pk=pk, title='café')")
    path = write(project / "library" / "views.py", text.encode("latin-1"))
    result = concise(project, "--fix", "--select", "ASL101")
    assert result.code == 0, result.out
    assert path.read_bytes() == text.replace("return Book.objects.get(", "return await Book.objects.aget(").encode("latin-1")


def test_bom_and_crlf_survive_fix_byte_for_byte(project):
    bom = write(project / "library" / "bom.py", b"\xef\xbb\xbf" + VIEWS.encode())
    crlf = write(project / "library" / "crlf.py", VIEWS.replace("\n", "\r\n").encode())
    # 4.0: the fix also adds an import line, which must use the file's line ending.
    result = concise(project, "--fix", "--select", "ASL101", "--target-version", "4.0", "library/bom.py", "library/crlf.py")
    assert result.code == 0, result.out
    data = bom.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf") and data.count(b"\xef\xbb\xbf") == 1
    assert b"\r" not in data
    assert "return await sync_to_async(Book.objects.get)(pk=pk)\n" in data[3:].decode("utf-8")
    data = crlf.read_bytes()
    assert re.search(rb"(?<!\r)\n", data) is None, data
    assert data.decode().replace("\r\n", "\n") == bom.read_bytes()[3:].decode()


def test_read_only_file_is_reported_and_left_alone(project):
    views = project / "library" / "views.py"
    views.chmod(0o444)
    try:
        result = concise(project, "--fix")
        assert result.code == 1
        assert views.read_bytes() == VIEWS.encode()
        assert stat.S_IMODE(views.stat().st_mode) == 0o444
        assert ("library/views.py", 1, 1, "ASL903") in result.findings()
        assert result.codes("library/views.py") == ["ASL903", "ASL101", "ASL103"]
        assert not [p for p in views.parent.iterdir() if p.name.startswith(".async-lint-")]
    finally:
        views.chmod(0o644)


def test_fix_writes_through_a_symlink(project):
    real = write(project / "shared" / "real.py", VIEWS)
    link = project / "library" / "linked.py"
    link.symlink_to(Path("..") / "shared" / "real.py")
    result = concise(project, "--fix", "library/linked.py")
    assert result.codes() == ["ASL103"]
    assert link.is_symlink()
    assert real.read_text() == VIEWS_SAFE_FIXED


def _nested(body: str) -> str:
    return "from library.models import Book\n\n\nasync def view():\n    return " + body + "\n"


def test_300_deep_nesting_does_not_crash(project):
    depth = 300
    write(project / "library" / "parens.py", _nested("(" * depth + "Book.objects.get(pk=1)" + ")" * depth))
    write(project / "library" / "chain.py", _nested("Book.objects" + ".filter(pk=1)" * depth + ".count()"))
    write(project / "library" / "sum.py", _nested(" + ".join(["Book.objects.count()"] * depth)))
    write(project / "library" / "nots.py", _nested("not " * depth + "Book.objects.exists()"))
    result = concise(project)
    assert result.code == 1, result.err
    assert "internal error" not in result.err
    assert result.codes("library/parens.py") == ["ASL901"]  # "too many nested parentheses"
    assert result.codes("library/chain.py") == result.codes("library/nots.py") == ["ASL101"]
    assert result.codes("library/sum.py") == ["ASL101"] * depth
    assert result.codes("library/views.py") == ["ASL101", "ASL103"]


def test_a_600_link_method_chain_is_checked(project):
    write(project / "library" / "chain.py", _nested("Book.objects" + ".filter(pk=1)" * 600 + ".count()"))
    result = concise(project)
    assert result.code == 1, result.err
    assert "internal error" not in result.err
    assert result.codes("library/chain.py") == ["ASL101"]
    assert result.codes("library/views.py") == ["ASL101", "ASL103"]


# -- the output stream ------------------------------------------------------------------------


def test_output_that_the_terminal_cannot_encode_is_escaped(project):
    write(project / "library" / "views.py", VIEWS.replace("(pk=pk)", "(pk=pk, title='Bücher')"))
    result = run(project, env={"PYTHONIOENCODING": "ascii"})
    assert result.code == 1, result.err
    assert "B\\xfccher" in result.out
    assert "internal error" not in result.err


@pytest.mark.skipif(sys.platform in ("darwin", "win32"), reason="needs a file system that takes any bytes in a name")
def test_a_file_name_that_is_not_utf8_is_shown_escaped(project):
    (project / "library").joinpath(os.fsdecode(b"caf\xe9.py")).write_text(SKIPPED)
    result = concise(project)
    assert result.code == 1, result.err
    assert ("library/caf\\udce9.py", 5, 12, "ASL101") in result.findings()


def test_a_reader_that_stops_early_is_not_an_error(project):
    body = "".join(f"    Book.objects.get(pk={n})\n" for n in range(1000))
    write(project / "library" / "many.py", "from library.models import Book\n\n\nasync def many():\n" + body)
    process = subprocess.Popen(
        [sys.executable, "-m", "async_lint", "check", "--output-format", "concise"],
        cwd=project, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=environment(),
    )
    assert process.stdout.readline().startswith(b"library/many.py:5:5: ASL101")
    process.stdout.close()
    err = process.stderr.read().decode()
    assert process.wait(timeout=60) == 1
    assert err == ""


def test_project_root_holds_a_folder_with_manage_py_beside_the_checked_app(tmp_path):
    """`backend/apiSystem/manage.py` with the apps in `backend/apps/`: a file of one app,
    checked alone, still has another app's models (they are read from `backend`)."""
    backend = tmp_path / "backend"
    write(
        backend / "apiSystem" / "manage.py",
        'import os\nos.environ.setdefault("DJANGO_SETTINGS_MODULE", "apiSystem.settings")\n',
    )
    write(backend / "apiSystem" / "apiSystem" / "settings.py", 'INSTALLED_APPS = ["apps.library", "apps.shop"]\n')
    shutil.copytree(LIBRARY, backend / "apps" / "library", ignore=shutil.ignore_patterns("__pycache__"))
    write(backend / "apps" / "__init__.py", "")
    write(backend / "apps" / "shop" / "__init__.py", "")
    views = write(
        backend / "apps" / "shop" / "views.py",
        "from apps.library.models import Book\n\n\nasync def byline(pk):\n"
        "    book = await Book.objects.aget(pk=pk)\n    return book.author.name\n",
    )
    # `author` is a relation: only the index, built from the whole backend, knows it.
    result = concise(views.parent, "views.py", "--no-cache")
    assert result.codes() == ["ASL201"]
    # A folder the settings do not name as an app is not part of that project: its root stays
    # where it is (a library checked out beside projects must not index them all).
    write(backend / "tools" / "__init__.py", "")
    tool = write(backend / "tools" / "views.py", views.read_text())
    assert concise(tool.parent, "views.py", "--no-cache").codes() == []


LEGACY_MARKER = """\
import asyncio


class TimingMiddleware:
    async_capable = True
    sync_capable = False

    def __init__(self, get_response):
        self.get_response = get_response
        self._is_coroutine = asyncio.coroutines._is_coroutine

    async def __call__(self, request):
        return await self.get_response(request)
"""


@pytest.mark.parametrize(
    "requirement, flagged",
    [
        ("setup.py", True),  # Django>=3.2: every later version, 4.2+ included
        ("setup.cfg", True),
        ("bounded", False),  # Django>=3.2,<4.2: never on a Django that ignores the marker
    ],
)
def test_a_hazard_of_newer_django_applies_when_the_supported_range_reaches_it(project, requirement, flagged):
    (project / "pyproject.toml").unlink()
    if requirement == "setup.py":
        write(project / "setup.py", "from setuptools import setup\n\nsetup(name='lib', install_requires=['Django>=3.2', 'asgiref'])\n")
    elif requirement == "setup.cfg":
        write(project / "setup.cfg", "[metadata]\nname = lib\n\n[options]\ninstall_requires =\n    asgiref\n    Django>=3.2\n")
    else:
        write(project / "requirements.txt", "Django>=3.2,<4.2\n")
    write(project / "library" / "middleware.py", LEGACY_MARKER)
    result = run(project, "check", "--select", "ASL402")
    assert ("ASL402" in result.out) is flagged
    assert "Target Django 3.2 (the Django requirement in " in result.out or not flagged
    # The oldest version still chooses the API: the fix works on Django 3.2 (asgiref 3.6+).
    if flagged:
        fixed = run(project, "check", "--select", "ASL402", "--fix")
        assert "markcoroutinefunction(self)" in (project / "library" / "middleware.py").read_text(), fixed.out
