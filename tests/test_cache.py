"""The persistent cache (`.async_lint_cache/`), through the real command line in subprocesses:
a warm run says exactly what a cold run says, and a change anywhere the findings depend on,
in the file itself or in a models file it uses, is seen."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

PYPROJECT = '[project]\nname = "demo"\n\n[tool.async-lint]\ntarget-version = "5.2"\n'
MODELS = """\
from django.db import models


class Author(models.Model):
    name = models.CharField(max_length=100)


class Book(models.Model):
    title = models.CharField(max_length=100)
    author = models.ForeignKey(Author, on_delete=models.CASCADE, related_name="books")
"""
# Findings here depend on models.py: `books` is a related manager only through its related_name.
VIEWS = """\
from shop.models import Author, Book


async def write(author: Author):
    return author.books.create(title="New")


async def detail(pk):
    return Book.objects.get(pk=pk)
"""


def run(project: Path, *args: str) -> subprocess.CompletedProcess:
    result = subprocess.run(
        [sys.executable, "-m", "async_lint", *args], cwd=project, capture_output=True, text=True, timeout=120
    )
    assert "Traceback" not in result.stderr, result.stderr
    return result


def check(project: Path, *args: str) -> subprocess.CompletedProcess:
    return run(project, "check", ".", "--output-format", "json", *args)


def codes(result: subprocess.CompletedProcess) -> list[tuple[str, str, int]]:
    return sorted(
        (Path(d["filename"]).name, d["code"], d["location"]["row"]) for d in json.loads(result.stdout)
    )


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "pyproject.toml").write_text(PYPROJECT)
    app = tmp_path / "shop"
    app.mkdir()
    (app / "__init__.py").write_text("")
    (app / "models.py").write_text(MODELS)
    (app / "views.py").write_text(VIEWS)
    return tmp_path


CACHE = ".async_lint_cache"


def test_warm_run_is_byte_identical_to_a_cold_run(project: Path):
    cold = check(project)
    assert (project / CACHE).is_dir()
    warm = check(project)
    assert cold.returncode == warm.returncode == 1
    assert cold.stdout == warm.stdout
    assert codes(cold) == [("views.py", "ASL101", 9), ("views.py", "ASL105", 5)]
    # Every output format is rendered from the same findings.
    for output_format in ("concise", "full", "sarif"):
        assert run(project, "check", ".", "--output-format", output_format, "--no-cache").stdout == run(
            project, "check", ".", "--output-format", output_format
        ).stdout


def test_cache_folder_ignores_itself(project: Path):
    check(project)
    gitignore = (project / CACHE / ".gitignore").read_text()
    assert "*" in gitignore.splitlines()


def test_editing_a_models_file_changes_findings_in_an_unchanged_views_file(project: Path):
    assert ("views.py", "ASL105", 5) in codes(check(project))
    models = project / "shop" / "models.py"
    models.write_text(MODELS.replace('related_name="books"', 'related_name="titles"'))
    assert codes(check(project)) == [("views.py", "ASL101", 9)]
    # And back: a relation that appears again is seen again.
    models.write_text(MODELS)
    assert ("views.py", "ASL105", 5) in codes(check(project))
    # A new ForeignKey, added to a model the views file does not name in its own text.
    views = project / "shop" / "views.py"
    views.write_text(VIEWS + "\n\nasync def shelve(author: Author):\n    return author.shelves.create()\n")
    assert ("views.py", "ASL105", 13) not in codes(check(project))
    (project / "shop" / "shelf.py").write_text(
        "from django.db import models\n\nfrom shop.models import Author\n\n\n"
        "class Shelf(models.Model):\n"
        "    owner = models.ForeignKey(Author, on_delete=models.CASCADE, related_name='shelves')\n"
    )
    assert ("views.py", "ASL105", 13) in codes(check(project))


def test_editing_a_views_file_changes_its_findings(project: Path):
    check(project)
    (project / "shop" / "views.py").write_text(VIEWS.replace("Book.objects.get(pk=pk)", "await Book.objects.aget(pk=pk)"))
    assert codes(check(project)) == [("views.py", "ASL105", 5)]


def test_settings_are_part_of_the_key(project: Path):
    assert len(codes(check(project))) == 2
    assert codes(check(project, "--ignore", "ASL105")) == [("views.py", "ASL101", 9)]
    assert len(codes(check(project))) == 2


def test_no_cache_writes_no_cache_folder(project: Path):
    result = check(project, "--no-cache")
    assert result.returncode == 1
    assert not (project / CACHE).exists()


def test_fix_and_diff_compute_afresh_and_write_no_cache(project: Path):
    diff = run(project, "check", ".", "--diff")
    assert "aget" in diff.stdout
    assert not (project / CACHE).exists()
    check(project)
    fixed = run(project, "check", ".", "--fix", "--output-format", "json")
    assert "aget" in (project / "shop" / "views.py").read_text()
    assert codes(check(project)) == codes(fixed) == []
    assert fixed.returncode == 0


def test_clean_removes_the_cache(project: Path):
    check(project)
    assert (project / CACHE).is_dir()
    result = run(project, "clean")
    assert result.returncode == 0 and "Removed" in result.stdout
    assert not (project / CACHE).exists()
    again = run(project, "clean")
    assert again.returncode == 0 and "No cache" in again.stdout


def test_a_corrupt_cache_is_ignored(project: Path):
    cold = check(project)
    files = [p for p in (project / CACHE).rglob("*.pickle")]
    assert files
    for path in files:
        path.write_bytes(b"\x80\x05not a pickle at all")
    corrupt = check(project)
    assert (corrupt.returncode, corrupt.stdout, corrupt.stderr) == (cold.returncode, cold.stdout, cold.stderr)
    # A cache that unpickles to something that is not ours is ignored too, and rewritten.
    for path in files:
        path.write_bytes(b"\x80\x05N.")
    assert check(project).stdout == cold.stdout
    assert check(project).stdout == cold.stdout


def test_a_planted_cache_cannot_run_code(project: Path):
    check(project)
    marker = project / "pwned"

    class Exploit:
        def __reduce__(self):
            return (eval, (f"open({str(marker)!r}, 'w')",))

    import pickle

    for path in (project / CACHE).rglob("*.pickle"):
        path.write_bytes(pickle.dumps(Exploit()))
    result = check(project)
    assert result.returncode == 1 and len(codes(result)) == 2
    assert not marker.exists()


def test_an_unwritable_cache_does_not_break_a_run(project: Path):
    (project / CACHE).write_text("a file where the folder should be")
    result = check(project)
    assert result.returncode == 1 and len(codes(result)) == 2


def results_file(project: Path) -> Path:
    (found,) = (project / CACHE).glob("*/results.pickle")
    return found


def test_a_warm_run_does_not_rewrite_the_cache(project: Path):
    check(project)
    before = results_file(project).stat()
    check(project)
    after = results_file(project).stat()
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)


def test_entries_of_deleted_files_are_dropped(project: Path):
    extra = project / "shop" / "extra.py"
    extra.write_text("async def nothing():\n    pass\n")
    check(project)
    assert b"extra.py" in results_file(project).read_bytes()
    extra.unlink()
    check(project)
    assert b"extra.py" not in results_file(project).read_bytes()


def test_editing_a_helper_module_changes_findings_of_its_unchanged_caller(project: Path):
    """ASL117 follows `report()` into services.py: the caller's cached findings depend on it."""
    services = project / "shop" / "services.py"
    services.write_text("from shop.models import Book\n\n\ndef report():\n    return Book.objects.count()\n")
    (project / "shop" / "api.py").write_text("from shop.services import report\n\n\nasync def view():\n    return report()\n")
    assert ("api.py", "ASL117", 5) in codes(check(project))
    services.write_text("def report():\n    return 0\n")
    assert ("api.py", "ASL117", 5) not in codes(check(project))
    services.write_text("from shop.models import Book\n\n\ndef report():\n    return Book.objects.count()\n")
    assert ("api.py", "ASL117", 5) in codes(check(project))


def test_a_file_unchanged_on_disk_is_not_read_for_the_index(project: Path):
    """Facts of a file whose size and modification time are unchanged come from the cache, as
    ruff's do: a models file rewritten behind the tool's back with both kept is not read again
    when only the views are checked; touched, it is."""

    def check(project: Path):
        return run(project, "check", "shop/views.py", "--output-format", "json")

    assert ("views.py", "ASL105", 5) in codes(check(project))
    models = project / "shop" / "models.py"
    before = models.stat()
    models.write_text(MODELS.replace('related_name="books"', 'related_name="bxxks"'))
    os.utime(models, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert ("views.py", "ASL105", 5) in codes(check(project))
    os.utime(models, ns=(before.st_atime_ns, before.st_mtime_ns + 1_000_000))
    assert ("views.py", "ASL105", 5) not in codes(check(project))


def test_a_warm_run_in_a_new_process_finds_every_file_in_the_cache(project: Path):
    """Nothing is checked again, so nothing is written: keys must not depend on the process
    (string hashing changes the order of sets from one interpreter to the next)."""
    (project / "shop" / "mixins.py").write_text("class Both(Alpha, Beta, Gamma, Delta):\n    pass\n")
    check(project)
    check(project)
    results = next((project / CACHE).glob("*/results.pickle"))
    written = results.stat().st_mtime_ns
    for _ in range(2):
        check(project)
    assert results.stat().st_mtime_ns == written


def test_a_warm_run_imports_no_rule(project: Path):
    """Start-up is part of every pre-commit and editor check: with every finding in the cache,
    neither the rules nor the index are loaded."""
    check(project)
    probe = (
        "import sys\nfrom async_lint.cli import main\n"
        "code = main(['check', '.', '--output-format', 'concise'])\n"
        "print(sorted(m for m in sys.modules if m.startswith('async_lint.rules.asl')))\n"
    )
    result = subprocess.run([sys.executable, "-c", probe], cwd=project, capture_output=True, text=True, timeout=120)
    assert result.stdout.strip().splitlines()[-1] == "[]", result.stdout
    (project / "shop" / "views.py").write_text(VIEWS + "\n# edited\n")
    result = subprocess.run([sys.executable, "-c", probe], cwd=project, capture_output=True, text=True, timeout=120)
    assert "async_lint.rules.asl101_queryset_method" in result.stdout.strip().splitlines()[-1]


def test_facts_stored_without_classes_are_completed_from_the_file(project: Path):
    """Another run may store a models file's facts before reading its classes (it found the
    index in the cache): a later run reads the file then, rather than losing its models."""
    import pickle

    check(project)
    facts_file = next((project / CACHE).glob("*/facts.pickle"))
    patterns, facts = pickle.loads(facts_file.read_bytes())
    for path, (stamp, digest, module, file) in facts.items():
        if path.endswith("models.py"):
            file.classes = None
    facts_file.write_bytes(pickle.dumps((patterns, facts)))
    for index in (project / CACHE).glob("*/index.pickle"):
        index.unlink()
    views = project / "shop" / "views.py"
    views.write_text(VIEWS + "\n# edited\n")
    result = run(project, "check", "shop/views.py", "--output-format", "json")
    assert ("views.py", "ASL105", 5) in codes(result)
