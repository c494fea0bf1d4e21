"""`async-lint migrate` (issue 16, first part), through the real command line: sync functions of
the fixture project are made async, then the sync original and the migrated function are run
on the same seeded SQLite database under Django's async guard (no DJANGO_ALLOW_ASYNC_UNSAFE),
the migrated one with `asyncio.run`, and must return the same values.  A function with a block
that cannot run on the loop is refused, the file left byte for byte."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from .test_cli import ROOT, environment, run, write

PROJECT = ROOT / "fixtures" / "project"

SERVICES = '''\
from django.db import transaction
from django.db.models import Count

from library.models import Author, Book, Tag


def single_get(title):
    return Book.objects.get(title=title).pages


def filtered_list(author_name):
    author = Author.objects.get(name=author_name)
    return [book.title for book in Book.objects.filter(author=author).order_by("title")]


def foreign_keys_in_a_loop():
    return [f"{b.title} by {b.author.name}" for b in Book.objects.order_by("title")]


def nullable_foreign_key():
    return [(b.title, b.publisher.name if b.publisher else None) for b in Book.objects.order_by("title")]


def nested_relation(title):
    book = Book.objects.get(title=title)
    return book.author.profile.bio


def many_to_many(title):
    book = Book.objects.prefetch_related("tags").get(title=title)
    return sorted(tag.name for tag in book.tags.all())


def evaluations():
    published = Book.objects.filter(published=True)
    return [len(published), Book.objects.filter(pages__gt=300).exists(), Book.objects.count(),
            Book.objects.order_by("title").first().title]


def values_and_aggregates():
    titles = list(Book.objects.order_by("pages").values_list("title", flat=True))
    counts = dict(Author.objects.annotate(n=Count("books")).values_list("name", "n"))
    return [titles, counts]


def writes(name):
    tag = Tag.objects.create(name=name)
    tag.name = name.upper()
    tag.save()
    book = Book.objects.get(title="Dune")
    book.tags.add(tag)
    Tag.objects.filter(name=name.upper()).update(name=name + "!")
    return [Tag.objects.get(pk=tag.pk).name, book.tags.count()]


def get_or_create_and_update_or_create():
    tag, created = Tag.objects.get_or_create(name="desert")
    tag2, created2 = Tag.objects.update_or_create(name="desert", defaults={"name": "dunes"})
    return [created, created2, tag2.name]


def in_bulk_and_slicing():
    books = Book.objects.order_by("title")
    first_two = [b.title for b in books[:2]]
    by_pk = Book.objects.in_bulk([1, 2])
    return [first_two, sorted(b.title for b in by_pk.values())]


def deletion(title):
    Book.objects.filter(title=title).delete()
    return Book.objects.count()


def moves_inside_a_transaction(title):
    with transaction.atomic():
        book = Book.objects.select_for_update().get(title=title)
        book.pages += 1
        book.save()
    return book.pages


def many_to_many_without_prefetch(title):
    book = Book.objects.get(title=title)
    return sorted(tag.name for tag in book.tags.all())


def truth_and_aggregate():
    from django.db.models import Sum

    drafts = Book.objects.filter(published=False)
    return [bool(drafts), "yes" if Book.objects.filter(pages__gt=1000) else "no",
            Book.objects.aggregate(total=Sum("pages"))["total"]]


def _load(title):
    return Book.objects.get(title=title)


def _describe(title):
    book = _load(title)
    return f"{book.title} by {book.author.name}"


def helper_one_deep(title):
    return _load(title).pages


def helpers_two_deep(title):
    return _describe(title)


def relation_of_a_helpers_instance(title):
    book = _load(title)
    return book.author.name


def returns_inside_a_transaction(title):
    with transaction.atomic():
        return Book.objects.select_for_update().get(title=title).pages


def caller():
    return single_get("Dune")
'''

# (function, arguments): each is migrated and compared.
CASES = [
    ("single_get", ["Dune"]),
    ("filtered_list", ["Frank Herbert"]),
    ("foreign_keys_in_a_loop", []),
    ("nullable_foreign_key", []),
    ("nested_relation", ["Dune"]),
    ("many_to_many", ["Dune"]),
    ("evaluations", []),
    ("values_and_aggregates", []),
    ("writes", ["spice"]),
    ("get_or_create_and_update_or_create", []),
    ("in_bulk_and_slicing", []),
    ("deletion", ["Dune Messiah"]),
    ("moves_inside_a_transaction", ["Dune"]),
    ("many_to_many_without_prefetch", ["Dune"]),
    ("truth_and_aggregate", []),
    ("helper_one_deep", ["Dune"]),
    ("helpers_two_deep", ["Dune"]),
    ("relation_of_a_helpers_instance", ["Dune"]),
]


@pytest.fixture(scope="module")
def migrated(tmp_path_factory) -> dict:
    base = tmp_path_factory.mktemp("migrate")
    for name in ("library", "fixtureproject", "cases"):
        shutil.copytree(PROJECT / name, base / name, ignore=shutil.ignore_patterns("__pycache__"))
    write(base / "pyproject.toml", '[tool.async-lint]\ntarget-version = "5.2"\n')
    write(base / "library" / "services.py", SERVICES)
    shutil.copy(base / "library" / "services.py", base / "library" / "sync_services.py")
    result = run(base, "migrate", *(f"library/services.py::{name}" for name, _ in CASES))
    return {"base": base, "result": result}


def _run_both(base: Path) -> dict:
    script = f'''
import asyncio, json, os, sys
sys.path.insert(0, {str(base)!r})
os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
os.environ["FIXTURE_DB"] = {str(base / "migrate.sqlite3")!r}
os.environ["DJANGO_SETTINGS_MODULE"] = "fixtureproject.settings"
import django
django.setup()
from django.core.management import call_command
from django.test.utils import override_settings
from cases import _seed
override_settings(PASSWORD_HASHERS=_seed.PASSWORD_HASHERS, DEBUG=False).enable()
call_command("migrate", run_syncdb=True, verbosity=0)
from library import services, sync_services
cases = {json.dumps(CASES)}
found = {{}}
for name, arguments in cases:
    _seed.seed()
    expected = getattr(sync_services, name)(*arguments)
    _seed.seed()
    try:
        got = asyncio.run(getattr(services, name)(*arguments))
    except Exception as error:
        got = f"raised {{type(error).__name__}}: {{error}}"
    found[name] = [expected, got]
print(json.dumps(found, default=str))
'''
    process = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=environment(), timeout=300)
    assert process.returncode == 0, process.stderr
    return json.loads(process.stdout.strip().splitlines()[-1])


def test_every_function_is_migrated_and_callers_are_listed(migrated):
    result = migrated["result"]
    assert result.code == 0, result.err
    assert result.out.count("Migrated `") == len(CASES)
    row = SERVICES.splitlines().index('    return single_get("Dune")') + 1
    assert f"library/services.py:{row}: calls `single_get` without `await`" in result.out
    text = (migrated["base"] / "library" / "services.py").read_text()
    assert all(f"async def {name}(" in text for name, _ in CASES)
    # The transaction block runs in a thread: its select_for_update() and writes on one connection.
    assert "    def _atomic_block():\n        with transaction.atomic():\n" in text
    assert "    book = await sync_to_async(_atomic_block)()\n" in text
    assert "async def returns_inside_a_transaction(" not in text
    # The helpers got async twins beside them (the sync ones stay for their other callers).
    assert "def _load(title):\n    return Book.objects.get(title=title)\n\n\nasync def _aload(title):\n" in text
    assert "async def _adescribe(title):\n    book = await _aload(title)\n" in text
    assert "    return await _adescribe(title)\n" in text


@pytest.mark.parametrize("name", [name for name, _ in CASES])
def test_the_migrated_function_returns_what_the_sync_one_returns(migrated, name):
    found = _outcomes(migrated)
    expected, got = found[name]
    assert got == expected


_OUTCOMES: dict = {}


def _outcomes(migrated) -> dict:
    if "found" not in _OUTCOMES:
        _OUTCOMES["found"] = _run_both(migrated["base"])
    return _OUTCOMES["found"]


def test_a_block_that_cannot_run_on_the_loop_is_refused_and_the_file_left_as_it_was(migrated):
    # A transaction block that returns from the function cannot become an inner function as is.
    services = migrated["base"] / "library" / "services.py"
    before = services.read_bytes()
    result = run(migrated["base"], "migrate", "library/services.py::returns_inside_a_transaction")
    assert result.code == 1
    assert "cannot be made async completely" in result.err and "ASL113" in result.err
    assert services.read_bytes() == before


def test_diff_writes_nothing_and_bad_targets_are_clear(migrated):
    base = migrated["base"]
    before = (base / "library" / "sync_services.py").read_bytes()
    result = run(base, "migrate", "--diff", "library/sync_services.py::single_get")
    assert result.code == 0 and "+async def single_get(title):" in result.out
    assert "+    return (await Book.objects.aget(title=title)).pages" in result.out
    assert (base / "library" / "sync_services.py").read_bytes() == before
    assert run(base, "migrate", "library/sync_services.py").code == 2  # no ::NAME
    missing = run(base, "migrate", "library/sync_services.py::nope")
    assert missing.code == 1 and "no function, method or class `nope`" in missing.err
    already = run(base, "migrate", "library/services.py::single_get")
    assert already.code == 1 and "already async" in already.err


def test_the_docs_example_is_what_migrate_writes(tmp_path):
    """docs/migrating.md: its "after" block is what the command writes from its "before" block."""
    page = (ROOT / "docs" / "migrating.md").read_text()
    before, after = (block.split("```", 1)[0] for block in page.split("```python\n")[1:3])
    shutil.copytree(PROJECT / "library", tmp_path / "library", ignore=shutil.ignore_patterns("__pycache__"))
    write(tmp_path / "pyproject.toml", '[tool.async-lint]\ntarget-version = "5.2"\n')
    write(tmp_path / "library" / "views.py", before)
    result = run(tmp_path, "migrate", "library/views.py::author_page", "library/views.py::reprint")
    assert result.code == 0, result.err
    assert (tmp_path / "library" / "views.py").read_text() == after


def test_a_method_is_migrated_and_only_its_own_class_calls_are_callers(tmp_path):
    shutil.copytree(PROJECT / "library", tmp_path / "library", ignore=shutil.ignore_patterns("__pycache__"))
    write(tmp_path / "pyproject.toml", '[tool.async-lint]\ntarget-version = "5.2"\n')
    write(
        tmp_path / "library" / "cbv.py",
        "from django.http import JsonResponse\nfrom django.views import View\n\nfrom library.models import Book\n\n\n"
        "class BookView(View):\n    def get(self, request, pk):\n        book = Book.objects.get(pk=pk)\n"
        "        return JsonResponse({'title': book.title, 'author': book.author.name})\n\n"
        "    def head(self, request, pk):\n        return self.get(request, pk)\n",
    )
    result = run(tmp_path, "migrate", "--diff", "library/cbv.py::BookView.get")
    assert result.code == 0, result.err
    assert '+        book = await Book.objects.select_related("author").aget(pk=pk)' in result.out
    # `self.get(...)` in the class is a caller; `Book.objects.get(...)` anywhere is not.
    assert [line for line in result.out.splitlines() if "without `await`" in line] == [
        "  library/cbv.py:13: calls `BookView.get` without `await`: it now returns a coroutine"
    ]


def test_a_helper_of_another_module_gets_its_twin_there_and_is_imported(tmp_path):
    shutil.copytree(PROJECT / "library", tmp_path / "library", ignore=shutil.ignore_patterns("__pycache__"))
    write(tmp_path / "pyproject.toml", '[tool.async-lint]\ntarget-version = "5.2"\n')
    write(tmp_path / "library" / "queries.py", "from library.models import Book\n\n\ndef pages_of(title):\n    return Book.objects.get(title=title).pages\n")
    write(tmp_path / "library" / "views.py", "from library.queries import pages_of\n\n\ndef pages(request, title):\n    return pages_of(title) + 1\n")
    result = run(tmp_path, "migrate", "library/views.py::pages")
    assert result.code == 0, result.err
    assert (tmp_path / "library" / "views.py").read_text() == (
        "from library.queries import apages_of\n\n\nasync def pages(request, title):\n    return await apages_of(title) + 1\n"
    )
    assert (tmp_path / "library" / "queries.py").read_text().endswith(
        "def pages_of(title):\n    return Book.objects.get(title=title).pages\n\n\n"
        "async def apages_of(title):\n    return (await Book.objects.aget(title=title)).pages\n"
    )


def test_a_class_based_view_has_all_its_handlers_migrated_together(tmp_path):
    shutil.copytree(PROJECT / "library", tmp_path / "library", ignore=shutil.ignore_patterns("__pycache__"))
    write(tmp_path / "pyproject.toml", '[tool.async-lint]\ntarget-version = "5.2"\n')
    write(
        tmp_path / "library" / "cbv.py",
        "from django.http import JsonResponse\nfrom django.views import View\n\nfrom library.models import Book\n\n\n"
        "class BookView(View):\n    def get(self, request, pk):\n        return JsonResponse({'title': Book.objects.get(pk=pk).title})\n\n"
        "    def post(self, request, pk):\n        Book.objects.filter(pk=pk).update(published=True)\n        return JsonResponse({})\n\n"
        "    def label(self):\n        return 'books'\n",
    )
    result = run(tmp_path, "migrate", "library/cbv.py::BookView")
    assert result.code == 0, result.err
    text = (tmp_path / "library" / "cbv.py").read_text()
    assert "    async def get(self, request, pk):\n        return JsonResponse({'title': (await Book.objects.aget(pk=pk)).title})" in text
    assert "    async def post(self, request, pk):\n        await Book.objects.filter(pk=pk).aupdate(published=True)" in text
    assert "    def label(self):" in text  # not a handler


def test_unknown_decorators_and_untyped_managers_are_refused(tmp_path):
    """Found trying it on saleor: a view under a project decorator (which would get a coroutine
    from the migrated function), and a query on a model chosen at run time, which no rule can
    type, are refused rather than half converted."""
    shutil.copytree(PROJECT / "library", tmp_path / "library", ignore=shutil.ignore_patterns("__pycache__"))
    write(tmp_path / "pyproject.toml", '[tool.async-lint]\ntarget-version = "5.2"\n')
    views = write(
        tmp_path / "library" / "views.py",
        "from django.views.decorators.http import require_GET\n\nfrom library.models import Book\nfrom library.tools import traced\n\n\n"
        "@traced\ndef traced_view(request):\n    return Book.objects.count()\n\n\n"
        "@require_GET\ndef plain_view(request):\n    return Book.objects.count()\n\n\n"
        "def any_model(model, pk):\n    return model.objects.get(pk=pk).pk\n",
    )
    before = views.read_bytes()
    traced = run(tmp_path, "migrate", "library/views.py::traced_view")
    assert traced.code == 1 and "`@traced` is not known to accept an async function" in traced.err
    untyped = run(tmp_path, "migrate", "library/views.py::any_model")
    assert untyped.code == 1 and "`.get()` of a manager whose model async-lint cannot tell" in untyped.err
    assert views.read_bytes() == before
    # Django's view decorators accept async views since 5.0.
    plain = run(tmp_path, "migrate", "library/views.py::plain_view")
    assert plain.code == 0, plain.err
    assert "@require_GET\nasync def plain_view(request):\n    return await Book.objects.acount()\n" in views.read_text()


def test_calls_it_could_not_follow_are_listed(tmp_path):
    """Found trying it on FachuanHybridSystem: a view calling methods of a module-level service
    object; what they do is not read, so they are named for the user to check."""
    shutil.copytree(PROJECT / "library", tmp_path / "library", ignore=shutil.ignore_patterns("__pycache__"))
    write(tmp_path / "pyproject.toml", '[tool.async-lint]\ntarget-version = "5.2"\n')
    write(
        tmp_path / "library" / "views.py",
        "from library.models import Book\nfrom library.registry import Registry\n\n_registry = Registry()\n\n\n"
        "def view(request):\n    _registry.touch(request)\n    return Book.objects.count()\n",
    )
    result = run(tmp_path, "migrate", "library/views.py::view")
    assert result.code == 0, result.err
    assert "library/views.py:8: `_registry.touch()` was not followed" in result.out
