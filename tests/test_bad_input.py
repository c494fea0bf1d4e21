"""Bad input (issue 6): each case is a clear message and no lost byte.

Run through the real command line (`python -m async_lint`, or a small driver that calls the
command line's `main()` with one step of the run made to fail), in a small Django project in a
temporary folder, as tests/test_cli.py does; its helpers also prove that no traceback reaches
the user.  The cases test_cli.py already covers (syntax errors, undecodable files, an encoding
cookie, NUL bytes, a BOM and CRLF, read-only files, 300-deep nesting without --fix, bad
configuration) are not repeated here; this file adds the rest.  Where a file could not be
handled, its bytes are compared (and its inode and modification time: it was not rewritten);
where it was fixed, the whole expected file is.
"""

from __future__ import annotations

import os
import random
import re
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from async_lint.diagnostics import Diagnostic, Edit, Fix, split_headline
from async_lint.engine import parse, syntax_error_diagnostic
from async_lint.fixes import FixProducedInvalidCode, apply_edits, apply_round, fix_text
from async_lint.source import SourceFile

from .helpers import lint
from .test_cli import VIEWS, VIEWS_ALL_FIXED, VIEWS_SAFE_FIXED, Result, concise, environment, write

RUNNING = f"{sys.version_info.major}.{sys.version_info.minor}"
# A finding in a file that must not be checked: if it shows up, the file was checked.
VIEW = "\n\nasync def view(pk):\n    return Book.objects.get(pk=pk)\n"
IMPORT = "from library.models import Book\n"


def messages(result: Result, path: str) -> list[str]:
    """The concise messages of one file."""
    pattern = re.compile(rf"^{re.escape(path)}:\d+:\d+: (ASL\d+ .*)$", re.MULTILINE)
    return pattern.findall(result.out)


def fingerprint(path: Path) -> tuple[bytes, int, int]:
    """Bytes, inode and modification time: a file the run could not handle is not even rewritten."""
    info = path.stat()
    return path.read_bytes(), info.st_ino, info.st_mtime_ns


# -- syntax newer than the running Python ------------------------------------------------------

# (file, code, what the message names, the Python it needs)
NEWER_SYNTAX = [
    ("alias.py", IMPORT + "\ntype Books = list[Book]\n" + VIEW, "a `type` statement (PEP 695)", (3, 12)),
    ("generic_alias.py", IMPORT + "\ntype Pair[T] = tuple[T, T]\n" + VIEW, "a `type` statement (PEP 695)", (3, 12)),
    ("generic_function.py", IMPORT + "\n\ndef first[T](items: list[T]) -> T:\n    return items[0]\n" + VIEW, "a type parameter list (PEP 695)", (3, 12)),
    ("generic_class.py", IMPORT + "\n\nclass Box[T: Book]:\n    def get[U](self, u: U) -> U:\n        return u\n" + VIEW, "a type parameter list (PEP 695)", (3, 12)),
    ("fstring.py", IMPORT + VIEW + '\n\ndef label(row):\n    return f"{row["title"]}"\n', "an f-string with quotes, backslashes or comments inside its braces (PEP 701)", (3, 12)),
    ("default.py", IMPORT + "\n\ndef first[T = Book](items: list[T]) -> T:\n    return items[0]\n" + VIEW, "a type parameter with a default (PEP 696)", (3, 13)),
    ("template.py", IMPORT + VIEW + '\n\ndef label(title):\n    return t"<b>{title}</b>"\n', "a template string (PEP 750)", (3, 14)),
    ("except.py", IMPORT + VIEW + "\n\ndef parse(x):\n    try:\n        return int(x)\n    except ValueError, TypeError:\n        return None\n", "an `except` clause with unparenthesized exception types (PEP 758)", (3, 14)),
]
NEWER_THAN_RUNNING = [case for case in NEWER_SYNTAX if case[3] > sys.version_info[:2]]


@pytest.mark.skipif(not NEWER_THAN_RUNNING, reason="the running Python parses all of these")
def test_syntax_newer_than_the_running_python_is_named_with_the_python_it_needs(project):
    for name, code, _, _ in NEWER_THAN_RUNNING:
        write(project / "library" / name, code)
    write(project / "library" / "typo.py", IMPORT + "\ndef broken(:\n    pass\n" + VIEW)
    before = {name: fingerprint(project / "library" / name) for name, *_ in NEWER_THAN_RUNNING}
    result = concise(project)
    assert result.code == 1, result.err
    for name, _, feature, needed in NEWER_THAN_RUNNING:
        version = ".".join(map(str, needed))
        message = (
            f"SyntaxError: {feature} needs Python {version}, newer than the Python {RUNNING} async-lint runs on; "
            "the file was not checked (run async-lint with the project's Python)"
        )
        # One-line formats show the headline; the full output shows the rest as a note.
        assert messages(result, f"library/{name}") == [f"ASL901 {split_headline(message)[0]}"], name
    # A real mistake is not blamed on a newer Python, and the run goes on.
    assert messages(result, "library/typo.py") == [
        f"ASL901 SyntaxError: invalid syntax (parsed as Python {RUNNING}); the file was not checked"
    ]
    assert result.codes("library/views.py") == ["ASL101", "ASL103"]
    # --fix writes the files it can parse, and not a byte of the others.
    fixed = concise(project, "--fix", "--unsafe-fixes")
    assert fixed.code == 1
    for name, *_ in NEWER_THAN_RUNNING:
        assert fingerprint(project / "library" / name) == before[name], name
    assert (project / "library" / "views.py").read_text() == VIEWS_ALL_FIXED


@pytest.mark.skipif(sys.version_info >= (3, 12), reason="PEP 695 parses on Python 3.12+")
def test_newer_syntax_findings_point_at_the_construct(project):
    write(project / "library" / "generic.py", IMPORT + "\n\ndef first[T](items: list[T]) -> T:\n    return items[0]\n" + VIEW)
    result = concise(project, "library/generic.py")
    assert result.findings() == [("library/generic.py", 4, 10, "ASL901")]


@pytest.mark.parametrize(
    "code",
    [
        "def f[(x): pass\n",  # a bracket where no type parameter list can be
        "class C[]:\n    pass\n",  # no type parameter in the list
        "def f[1](x): pass\n",  # not a type parameter
        "def f[T: ](x): pass\n",
        "type X[] = int\n",
        "type X = int int\n",  # an error on the line of the newer construct stays with a newer Python
        "def f[T](x) -> T = 1:\n    pass\n",
        "type X int\n",
        "type X == 1\n",
        'y = f"{x:#x}" +\n',  # the `#` of a format spec is no comment
        'y = f"{}"\n',
        "x = = 1\ntype X = int\n",  # the first error comes before the newer syntax
        "try:\n    pass\nexcept ValueError, TypeError as e:\n    pass\n",  # needs parentheses on 3.14 too
        "x = " + "(" * 300 + "1" + ")" * 300 + "\ntype X = int\n",
    ],
)
def test_a_real_syntax_error_is_not_blamed_on_a_newer_python(code):
    source = SourceFile("x.py", code)
    error = parse(source)
    assert isinstance(error, SyntaxError)
    assert "needs Python" not in syntax_error_diagnostic(source, error).message


# -- files the tool cannot read or parse: untouched by --fix ----------------------------------

UNHANDLED = {
    "syntax.py": (IMPORT + "\nasync def broken(:\n    pass\n" + VIEW).encode(),
    "latin1.py": (IMPORT + VIEW).encode().replace(b"pk=pk", "pk=pk, title='caf\xe9'".encode("latin-1")),
    "nul.py": (IMPORT + VIEW).encode() + b"x = 1\x00\n",
    "utf16.py": (IMPORT + VIEW).encode("utf-16"),  # with its byte order mark
    "unknown_cookie.py": ("# -*- coding: klingon -*-\n" + IMPORT + VIEW).encode(),
    "bom_and_latin1_cookie.py": b"\xef\xbb\xbf# coding: latin-1\n" + (IMPORT + VIEW).encode(),
    "cookie_lies.py": ("# coding: utf-8\n" + IMPORT + VIEW.replace("pk=pk", "pk=pk, t='\xe9'")).encode("latin-1"),
    "parens.py": (IMPORT + "\n\nasync def view():\n    return " + "(" * 300 + "Book.objects.get(pk=1)" + ")" * 300 + "\n").encode(),
}


def test_files_that_cannot_be_handled_are_reported_and_not_touched_by_fix(project):
    for name, data in UNHANDLED.items():
        write(project / "library" / name, data)
    before = {name: fingerprint(project / "library" / name) for name in UNHANDLED}
    result = concise(project, "--fix", "--unsafe-fixes")
    assert result.code == 1, result.err
    for name in UNHANDLED:
        found = messages(result, f"library/{name}")
        assert len(found) == 1 and found[0][:6] in ("ASL901", "ASL902"), (name, found)
        assert fingerprint(project / "library" / name) == before[name], name
    assert "UTF-16" in messages(result, "library/utf16.py")[0]
    assert "klingon" in messages(result, "library/unknown_cookie.py")[0]
    # The run went on: views.py was fixed.
    assert (project / "library" / "views.py").read_text() == VIEWS_ALL_FIXED


# -- tabs ---------------------------------------------------------------------------------------

TABS = """\
from django.db import models
from django.views.generic import TemplateView
from library.models import Book


class Shelf(models.Model):
    name = models.CharField(max_length=100)

    def delete(self, *args, **kwargs): self.name = (lambda: "x")(); return super().delete(*args, **kwargs)


class Home(TemplateView):
    template_name = "home.html"

    async def post(self, request):
        return None


class TimingMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    async def __call__(self, request):
        return await self.get_response(request)


class BothMiddleware:
    sync_capable = True
    async_capable = True

    def __init__(self, get_response):
        self.get_response = get_response

    async def __call__(self, request):
        return await self.get_response(request)


async def titles():
    out = []
    for book in Book.objects.filter(published=True):
        out.append(book.title)
    return out
"""
# First the safe fixes: the middleware are marked (under `if`) and flagged, the loop made async.
TABS_SAFE_FIXED = """\
from django.db import models
from django.views.generic import TemplateView
from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from library.models import Book


class Shelf(models.Model):
    name = models.CharField(max_length=100)

    def delete(self, *args, **kwargs): self.name = (lambda: "x")(); return super().delete(*args, **kwargs)


class Home(TemplateView):
    template_name = "home.html"

    async def post(self, request):
        return None


class TimingMiddleware:
    sync_capable = False
    async_capable = True

    def __init__(self, get_response):
        self.get_response = get_response
        if iscoroutinefunction(get_response):
            markcoroutinefunction(self)

    async def __call__(self, request):
        return await self.get_response(request)


class BothMiddleware:
    sync_capable = False
    async_capable = True

    def __init__(self, get_response):
        self.get_response = get_response
        if iscoroutinefunction(get_response):
            markcoroutinefunction(self)

    async def __call__(self, request):
        return await self.get_response(request)


async def titles():
    out = []
    async for book in Book.objects.filter(published=True):
        out.append(book.title)
    return out
"""
# Then the unsafe ones: methods generated, the `adelete()` twin of a `delete()` written on one
# line (so no body line to copy the indentation from) and the inherited `get()` of a view.
TABS_ALL_FIXED = TABS_SAFE_FIXED.replace(
    "import iscoroutinefunction, markcoroutinefunction\n",
    "import iscoroutinefunction, markcoroutinefunction, sync_to_async\n",
).replace(
    "return super().delete(*args, **kwargs)\n",
    "return super().delete(*args, **kwargs)\n\n"
    "    async def adelete(self, *args, **kwargs):\n"
    "        return await sync_to_async(self.delete)(*args, **kwargs)\n",
).replace(
    "    async def post(self, request):\n        return None\n",
    "    async def post(self, request):\n        return None\n\n"
    "    async def get(self, request, *args, **kwargs):\n"
    "        return await sync_to_async(super().get)(request, *args, **kwargs)\n",
)


def test_lines_a_fix_inserts_in_a_file_indented_with_tabs_are_indented_with_tabs(project):
    """`markcoroutinefunction(self)` under `if`, class attributes, an added import, an `async
    for`; then generated methods."""
    path = write(project / "library" / "tabs.py", TABS.replace("    ", "\t"))
    safe = concise(project, "--fix", "--extend-select", "ASL301", "library/tabs.py")
    assert safe.code == 1, safe.out
    assert path.read_text() == TABS_SAFE_FIXED.replace("    ", "\t")
    unsafe = concise(project, "--fix", "--unsafe-fixes", "--extend-select", "ASL301", "library/tabs.py")
    assert unsafe.code == 0, unsafe.out
    fixed = path.read_text()
    assert fixed == TABS_ALL_FIXED.replace("    ", "\t")
    compile(fixed, "tabs.py", "exec")


# -- line endings -------------------------------------------------------------------------------

CR, LF = "\r\n", "\n"
MIXED = [
    ("from django.db import models", CR),
    ("from django.views.generic import TemplateView", LF),
    ("from library.models import Book", CR),
    ("", LF),
    ("", CR),
    ("class Shelf(models.Model):", LF),
    ("    name = models.CharField(max_length=100)", CR),
    ("", LF),
    ("    def delete(self, using=None, keep_parents=False):", CR),
    ("        self.name = 'x'", LF),
    ("        return super().delete(using=using, keep_parents=keep_parents)", LF),
    ("", CR),
    ("", LF),
    ("class Home(TemplateView):", CR),
    ("    async def post(self, request):", LF),
    ("        return None", LF),
    ("", LF),
    ("", CR),
    ("class TimingMiddleware:", LF),
    ("    sync_capable = False", CR),
    ("    async_capable = True", LF),
    ("", CR),
    ("    def __init__(self, get_response):", LF),
    ("        self.get_response = get_response", LF),
    ("", LF),
    ("    async def __call__(self, request):", CR),
    ("        return await self.get_response(request)", LF),
    ("", CR),
    ("", LF),
    ("async def detail(pk):", CR),
    ("    return Book.objects.get(pk=pk)", LF),
]
# Every line that was there keeps its own ending, also the one a method or a statement is
# inserted after (each of those ends with LF, the file's line ending being CRLF): the inserted
# lines take the file's line ending (its first line's, as ruff does), but for the last one,
# which ends as the line it follows did.
MIXED_FIXED = [
    *MIXED[:2],
    ("from asgiref.sync import sync_to_async, markcoroutinefunction", CR),
    *MIXED[2:11],
    ("", CR),
    ("    async def adelete(self, using=None, keep_parents=False):", CR),
    ("        self.name = 'x'", CR),
    ("        return await sync_to_async(super().delete)(using=using, keep_parents=keep_parents)", LF),
    *MIXED[11:16],
    ("", CR),
    ("    async def get(self, request, *args, **kwargs):", CR),
    ("        return await sync_to_async(super().get)(request, *args, **kwargs)", LF),
    *MIXED[16:24],
    ("        markcoroutinefunction(self)", LF),
    *MIXED[24:30],
    ("    return await Book.objects.aget(pk=pk)", LF),
]


def _joined(lines: list[tuple[str, str]]) -> bytes:
    return "".join(text + ending for text, ending in lines).encode()


def test_a_fix_keeps_every_lines_own_ending_in_a_file_mixing_crlf_and_lf(project):
    path = write(project / "library" / "mixed.py", _joined(MIXED))
    result = concise(
        project, "--fix", "--unsafe-fixes", "--extend-select", "ASL301", "--target-version", "4.2", "library/mixed.py"
    )
    assert result.code == 0, result.out
    data = path.read_bytes()
    assert b"\r\r" not in data
    assert data.splitlines(keepends=True) == [line.encode() for line in (t + e for t, e in MIXED_FIXED)]


def test_a_fix_in_a_file_with_old_mac_line_endings_keeps_them(project):
    text = IMPORT + VIEW
    path = write(project / "library" / "cr.py", text.replace("\n", "\r"))
    result = concise(project, "--fix", "--target-version", "4.0", "library/cr.py")
    assert result.code == 0, result.out
    # asgiref is third-party: its import goes in a block of its own, before the project's.
    expected = "from asgiref.sync import sync_to_async\n\n" + IMPORT + VIEW.replace(
        "return Book.objects.get(pk=pk)", "return await sync_to_async(Book.objects.get)(pk=pk)"
    )
    assert path.read_bytes() == expected.replace("\n", "\r").encode()


# -- a 5 MB file ----------------------------------------------------------------------------------

FIVE_MB = 5 * 1024 * 1024
BIG_VIEWS = 3000


def _five_megabytes() -> str:
    """A data table, 3000 async views with a finding each, and sync helpers up to 5 MB."""
    table = "".join(f"    {n}: ('row {n}', {n * 3}, 'padding text for the row'),\n" for n in range(50000))
    views = "".join(f"\n\nasync def view_{n}(pk):\n    return Book.objects.get(pk=pk)\n" for n in range(BIG_VIEWS))
    text = IMPORT + "\nTABLE = {\n" + table + "}\n" + views
    helpers = []
    size, n = len(text), 0
    while size < FIVE_MB:
        helper = f"\n\ndef helper_{n}(pk):\n    book = Book.objects.get(pk=pk)\n    return book.title\n"
        helpers.append(helper)
        size, n = size + len(helper), n + 1
    return text + "".join(helpers)


def test_a_5_mb_file_is_checked_and_fixed(project, record_property):
    text = _five_megabytes()
    assert len(text.encode()) >= FIVE_MB
    path = write(project / "library" / "big.py", text)
    started = time.perf_counter()
    checked = concise(project, "--no-cache", "library/big.py", timeout=600)
    check_seconds = time.perf_counter() - started
    assert checked.code == 1, checked.err
    assert checked.codes() == ["ASL101"] * BIG_VIEWS
    started = time.perf_counter()
    fixed = concise(project, "--fix", "library/big.py", timeout=600)
    fix_seconds = time.perf_counter() - started
    assert fixed.code == 0, fixed.err
    assert f"Found {BIG_VIEWS} errors ({BIG_VIEWS} fixed, 0 remaining)." in fixed.out
    # The views' lines change, not the sync helpers' (`book = Book.objects.get(pk=pk)`).
    expected = text.replace("    return Book.objects.get(pk=pk)\n", "    return await Book.objects.aget(pk=pk)\n")
    assert expected.count("aget(") == BIG_VIEWS
    assert path.read_bytes() == expected.encode()
    record_property("check_seconds", round(check_seconds, 1))
    record_property("fix_seconds", round(fix_seconds, 1))
    print(f"\n5 MB file ({len(text.encode())} bytes): check {check_seconds:.1f} s, fix {fix_seconds:.1f} s")
    # Generous bounds, for a loaded machine: what they catch is a run going quadratic (minutes).
    assert check_seconds < 120 and fix_seconds < 240, (check_seconds, fix_seconds)


def _brute_force_round(text: str, diagnostics: list[Diagnostic], unsafe: bool) -> tuple[str, int]:
    """apply_round as it was first written: every edit against every edit taken (quadratic)."""
    accepted: list[Edit] = []
    applied = 0
    for diagnostic in sorted(diagnostics, key=lambda d: (d.start, d.code)):
        fix = diagnostic.fix
        if fix is None:
            continue
        if any(edit.overlaps(taken) for edit in fix.edits for taken in accepted):
            continue
        accepted.extend(edit for edit in fix.edits if edit not in accepted)
        applied += 1
    return (apply_edits(text, accepted), applied) if applied else (text, 0)


def test_a_fix_round_takes_the_same_edits_as_checking_each_against_all():
    generator = random.Random(6)
    text = "".join(generator.choice("ab\n") for _ in range(400))
    for _ in range(300):
        diagnostics = []
        for number in range(generator.randint(1, 25)):
            edits = set()
            for _ in range(generator.randint(1, 3)):
                start = generator.randint(0, len(text))
                end = min(len(text), start + generator.choice([0, 0, 1, 2, 5, 40]))
                edits.add(Edit(start, end, generator.choice(["", "x", "await ", "import y\n"])))
            if generator.random() < 0.3:
                edits.add(Edit(0, 0, "import y\n"))  # wanted by several fixes
            diagnostics.append(Diagnostic(f"ASL{100 + number}", "m", "p", min(e.start for e in edits), 0, Fix("f", tuple(sorted(edits)))))
        assert apply_round(text, diagnostics, False) == _brute_force_round(text, diagnostics, False)


def _inserting(text: str, needle: str, content: str):
    """A lint whose one finding inserts `content` before `needle`, until it is there."""
    def lint(current: str) -> list[Diagnostic]:
        if content + needle in current:
            return []
        at = current.index(needle)
        return [Diagnostic("ASL101", "m", "p", at, at, Fix("f", (Edit(at, at, content),)))]
    return lint


def test_a_fix_that_parses_but_does_not_compile_is_refused():
    """`await` in a sync function parses; only the compiler refuses it."""
    text = "def view():\n    return get()\n"
    with pytest.raises(FixProducedInvalidCode):
        fix_text(text, _inserting(text, "get()", "await "), unsafe=True)
    # A file that did not compile before (top-level await, as in a notebook) is held to parsing.
    text = "await setup()\nx = get()\n"
    fixed, applied, _ = fix_text(text, _inserting(text, "get()", "await "), unsafe=True)
    assert (fixed, applied) == ("await setup()\nx = await get()\n", 1)


def test_a_fix_round_over_tens_of_thousands_of_fixes_is_not_quadratic():
    """Each fix was checked against every edit taken before it."""
    count = 40_000
    text = "x = 1\n" * count
    shared = Edit(0, 0, "import y\n")
    diagnostics = [
        Diagnostic("ASL101", "m", "p", n * 6, n * 6 + 1, Fix("f", (Edit(n * 6, n * 6 + 1, "z"), shared))) for n in range(count)
    ]
    started = time.perf_counter()
    new_text, applied = apply_round(text, diagnostics, False)
    assert applied == count and new_text == "import y\n" + "z = 1\n" * count
    assert time.perf_counter() - started < 30  # quadratic: many minutes


def test_a_module_of_tens_of_thousands_of_async_functions_is_checked_in_linear_time():
    """Each `async def` was looked up in its module's body with a linear scan (ASL501)."""
    code = "".join(f"async def view_{n}():\n    pass\n\n\n" for n in range(60_000))
    started = time.perf_counter()
    assert lint(code, frozenset({"ASL501"}))(code) == []
    assert time.perf_counter() - started < 30  # about 5 s; quadratic, over a minute


# -- 300-deep nesting under --fix -----------------------------------------------------------------


def test_300_deep_nesting_is_fixed_or_left_byte_for_byte(project):
    depth = 300
    body = "Book.objects" + ".filter(pk=1)" * depth + ".count()"
    chain = write(project / "library" / "chain.py", IMPORT + "\n\nasync def view():\n    return " + body + "\n")
    parens = write(project / "library" / "parens.py", UNHANDLED["parens.py"])
    before = fingerprint(parens)
    result = concise(project, "--fix", "library/chain.py", "library/parens.py")
    assert result.code == 1, result.err
    assert result.codes() == ["ASL901"]
    assert fingerprint(parens) == before
    assert chain.read_text() == IMPORT + "\n\nasync def view():\n    return await " + body.replace(".count()", ".acount()") + "\n"


# -- symlinks, pipes and unreadable files ------------------------------------------------------


def _links(folder: Path) -> None:
    folder.mkdir()
    (folder / "up").symlink_to("..", target_is_directory=True)  # a folder linking to its parent
    (folder / "a.py").symlink_to("b.py")  # a.py → b.py → a.py
    (folder / "b.py").symlink_to("a.py")
    (folder / "dangling.py").symlink_to("missing.py")


def test_symlink_loops_and_broken_symlinks_are_reported_without_hanging(project):
    _links(project / "loops")
    result = concise(project, timeout=60)
    assert result.code == 1, result.err
    assert messages(result, "loops/a.py") == messages(result, "loops/b.py") == [
        "ASL902 Cannot read file: Too many levels of symbolic links"
    ]
    assert [m[:6] for m in messages(result, "loops/dangling.py")] == ["ASL902"]
    # The folder linking to its parent is not followed: each file is checked once.
    assert result.codes("library/views.py") == ["ASL101", "ASL103"]
    assert not any(path.startswith("loops/up/") for path in result.paths())
    # --fix leaves the links as they are and creates nothing.
    fixed = concise(project, "--fix", timeout=60)
    assert fixed.code == 1
    assert os.readlink(project / "loops" / "a.py") == "b.py" and os.readlink(project / "loops" / "dangling.py") == "missing.py"
    assert sorted(p.name for p in (project / "loops").iterdir()) == ["a.py", "b.py", "dangling.py", "up"]
    assert (project / "library" / "views.py").read_text() == VIEWS_SAFE_FIXED


def test_a_named_symlink_loop_or_broken_symlink_is_reported_not_skipped(project):
    """Named on the command line, they were taken for empty folders: "All checks passed!"."""
    _links(project / "loops")
    for name in ("a.py", "dangling.py"):
        result = concise(project, f"loops/{name}", timeout=60)
        assert result.code == 1, (name, result.out, result.err)
        assert [m[:6] for m in messages(result, f"loops/{name}")] == ["ASL902"], name
        assert "no Python files found" not in result.err


def test_a_broken_symlink_is_reported_as_one(project):
    _links(project / "loops")
    result = concise(project, "loops/dangling.py")
    assert messages(result, "loops/dangling.py") == [
        "ASL902 Cannot read file: a broken symbolic link (to missing.py, which does not exist)"
    ]


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs named pipes")
def test_a_named_pipe_in_a_folder_does_not_hang_the_run(project):
    """Reading a pipe waits for a writer, forever: only regular files are read from a folder."""
    os.mkfifo(project / "library" / "pipe.py")
    result = concise(project, timeout=60)
    assert result.code == 1, result.err
    assert result.paths() == {"library/views.py"}
    # The model index reads the whole project too, also when one file is checked.
    assert concise(project, "library/views.py", timeout=60).codes() == ["ASL101", "ASL103"]


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root reads files without read permission")
def test_an_unreadable_file_is_reported_and_left_alone(project):
    locked = write(project / "library" / "locked.py", IMPORT + VIEW)
    locked.chmod(0)
    try:
        result = concise(project, "--fix")
        assert result.code == 1, result.err
        assert messages(result, "library/locked.py") == ["ASL902 Cannot read file: Permission denied"]
        assert stat.S_IMODE(locked.stat().st_mode) == 0
        assert (project / "library" / "views.py").read_text() == VIEWS_SAFE_FIXED
    finally:
        locked.chmod(0o644)
    assert locked.read_text() == IMPORT + VIEW


@pytest.mark.skipif(not os.path.isfile("/proc/self/mem"), reason="needs Linux's /proc/self/mem")
def test_a_file_whose_read_fails_is_reported_and_the_run_goes_on(project):
    """Root reads any file whatever its permissions: a read that fails (EIO) stands for it."""
    (project / "library" / "mem.py").symlink_to("/proc/self/mem")
    result = concise(project, "--fix")
    assert result.code == 1, result.err
    assert messages(result, "library/mem.py") == ["ASL902 Cannot read file: Input/output error"]
    assert (project / "library" / "mem.py").is_symlink()
    assert (project / "library" / "views.py").read_text() == VIEWS_SAFE_FIXED


# -- a file deleted or changed while the run goes on ---------------------------------------------

# The command line, with one step of the run made to do something to VICTIM at a given moment.
DRIVER = """\
import errno, os, sys, tempfile
import async_lint.runner as runner
from async_lint.cli import main

victim, when = os.environ["VICTIM"], os.environ["WHEN"]

if when == "before-read":  # found, then gone before it is read
    found = runner.discover
    def discover(paths, config):
        runner.discover = found
        files = found(paths, config)
        os.unlink(victim)
        return files
    runner.discover = discover
elif when in ("before-write", "edited"):  # read and checked, then gone or edited before the fix is written
    from async_lint import workers
    check_files = workers.check_files
    def checked(*args, **kwargs):
        outcomes = list(check_files(*args, **kwargs))
        if when == "edited":
            with open(victim, "a") as handle:
                handle.write("# edited meanwhile\\n")
        else:
            os.unlink(victim)
        return outcomes
    workers.check_files = checked
elif when == "during-write":  # gone while the fixed text goes to a temporary file
    mkstemp = tempfile.mkstemp
    def racing(*args, **kwargs):
        if os.path.exists(victim):
            os.unlink(victim)
        return mkstemp(*args, **kwargs)
    tempfile.mkstemp = racing
elif when == "rename-fails":
    def replace(source, target):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
    os.replace = replace

sys.argv[0] = "async-lint"
sys.exit(main())
"""


def drive(project: Path, when: str, victim: str, *args: str) -> Result:
    driver = write(project.parent / f"driver-{project.name}.py", DRIVER)  # outside the project
    process = subprocess.run(
        [sys.executable, str(driver), "check", "--output-format", "concise", *args],
        cwd=project, capture_output=True, timeout=120, env=environment(VICTIM=victim, WHEN=when),
    )
    out, err = process.stdout.decode(errors="backslashreplace"), process.stderr.decode(errors="backslashreplace")
    assert "Traceback" not in out + err, err
    return Result(process.returncode, out, err)


def _two_views(project: Path) -> tuple[Path, Path]:
    return write(project / "library" / "gone.py", VIEWS), project / "library" / "views.py"


def test_a_file_deleted_before_it_is_read_is_reported_and_not_recreated(project):
    gone, views = _two_views(project)
    result = drive(project, "before-read", "library/gone.py", "--fix")
    assert result.code == 1, result.err
    assert messages(result, "library/gone.py") == ["ASL902 Cannot read file: No such file or directory"]
    assert not gone.exists()
    assert views.read_text() == VIEWS_SAFE_FIXED


def test_a_file_deleted_before_its_fix_is_written_is_reported_and_not_recreated(project):
    gone, views = _two_views(project)
    result = drive(project, "before-write", "library/gone.py", "--fix")
    assert result.code == 1, result.err
    assert messages(result, "library/gone.py")[0].startswith("ASL903 Cannot write the fixed file: No such file or directory")
    assert not gone.exists()
    assert not [p for p in gone.parent.iterdir() if p.name.startswith(".async-lint-")]
    assert views.read_text() == VIEWS_SAFE_FIXED


def test_a_file_deleted_while_its_fix_is_written_is_not_recreated(project):
    gone, views = _two_views(project)
    result = drive(project, "during-write", "library/gone.py", "--fix")
    assert not gone.exists()
    assert messages(result, "library/gone.py")[0] == "ASL903 Cannot write the fixed file: it was deleted during the run"
    assert not [p for p in gone.parent.iterdir() if p.name.startswith(".async-lint-")]


def test_a_file_edited_during_the_run_is_not_overwritten(project):
    edited, _ = _two_views(project)
    result = drive(project, "edited", "library/gone.py", "--fix")
    assert edited.read_text() == VIEWS + "# edited meanwhile\n"
    assert messages(result, "library/gone.py")[0] == (
        "ASL903 Cannot write the fixed file: it was edited after async-lint read it (run async-lint again to fix it)"
    )


# -- atomic writes ----------------------------------------------------------------------------


def test_a_fix_replaces_the_file_through_a_rename_keeping_its_permissions(project):
    views = project / "library" / "views.py"
    script = write(project / "library" / "script.py", VIEWS)
    views.chmod(0o640)
    script.chmod(0o755)
    inodes = views.stat().st_ino, script.stat().st_ino
    result = concise(project, "--fix")
    assert result.code == 1, result.err
    assert views.read_text() == script.read_text() == VIEWS_SAFE_FIXED
    assert stat.S_IMODE(views.stat().st_mode) == 0o640
    assert stat.S_IMODE(script.stat().st_mode) == 0o755
    assert views.stat().st_ino != inodes[0] and script.stat().st_ino != inodes[1]  # each renamed into place
    assert not [p for p in views.parent.iterdir() if p.name.startswith(".async-lint-")]


def test_a_fix_that_cannot_be_renamed_into_place_leaves_the_file_and_no_temporary_file(project):
    views = project / "library" / "views.py"
    before = fingerprint(views)
    result = drive(project, "rename-fails", "library/views.py", "--fix")
    assert result.code == 1, result.err
    assert messages(result, "library/views.py")[0] == (
        "ASL903 Cannot write the fixed file: No space left on device; it was left unchanged"
    )
    assert fingerprint(views) == before
    assert not [p for p in views.parent.iterdir() if p.name.startswith(".async-lint-")]
