"""Property tests (issue 6): on generated programs the engine never raises, and `--fix` writes
code that compiles (on Python 3.10 too), means what the fix says, and has nothing left to fix
when run again.

CI runs a small, derandomized sample (profile `ci`); `ASYNC_LINT_FUZZ=long` runs a long
campaign with fresh random seeds (see docs/contributing.md).
"""

from __future__ import annotations

import ast
import os
import re
import shutil
import subprocess
import symtable
import sys
import tempfile
import warnings
from collections import Counter
from functools import cache
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pyflakes import checker as pyflakes_checker
from pyflakes import messages as pyflakes_messages

from async_lint.config import DEFAULT_TWIN_PATTERNS
from async_lint.fixes import applicable, fix_text
from async_lint.project_setup import ProjectModel
from async_lint.rules import RULES

from .fuzz_programs import TARGETS, django_programs, grammar_programs, parses
from .helpers import FIXTURE_PROJECT, SNIPPET_PATH, _fixture_texts, lint

settings.register_profile(
    "ci",
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large],
)
settings.register_profile("long", settings.get_profile("ci"), derandomize=False)
PROFILE = os.environ.get("ASYNC_LINT_FUZZ", "ci")
# The long campaign runs each test on a hundred times CI's examples (about an hour in all).
SCALE = 100 if PROFILE == "long" else 1

# Deeper than this, a RecursionError is fair: the runner reports the file as unchecked (ASL901).
FAIR_RECURSION_DEPTH = 100


def fuzz(max_examples: int) -> settings:
    return settings(settings.get_profile(PROFILE), max_examples=max_examples * SCALE)


def ast_depth(tree: ast.AST) -> int:
    deepest, stack = 0, [(tree, 1)]
    while stack:
        node, depth = stack.pop()
        deepest = max(deepest, depth)
        stack.extend((child, depth + 1) for child in ast.iter_child_nodes(node))
    return deepest


# -- what a fix must keep ----------------------------------------------------------------------


def undefined_names(text: str) -> set[str]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        found = pyflakes_checker.Checker(ast.parse(text), filename=SNIPPET_PATH).messages
    undefined = (pyflakes_messages.UndefinedName, pyflakes_messages.UndefinedLocal)
    return {m.message_args[0] for m in found if isinstance(m, undefined)}


def async_generator_expressions(tree: ast.AST) -> int:
    """Generator expressions that are async generators (an `await` or `async for` in them)."""

    def is_async(genexp: ast.GeneratorExp) -> bool:
        later = [genexp.elt, *genexp.generators[1:], *(c for g in genexp.generators for c in g.ifs)]
        first = genexp.generators[0]
        return first.is_async or any(
            isinstance(n, ast.Await) or (isinstance(n, ast.comprehension) and n.is_async)
            for part in later for n in ast.walk(part)
        )

    return sum(is_async(n) for n in ast.walk(tree) if isinstance(n, ast.GeneratorExp))


_COMPREHENSION_NODES = (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)
_SCOPE_NODES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)


def async_comprehensions_in_sync_ones(tree: ast.AST) -> int:
    """Async comprehensions directly inside a comprehension that is not async: a SyntaxError
    on Python 3.10 ("asynchronous comprehension outside of an asynchronous function")."""

    def own_code(comprehension: ast.expr) -> list[ast.AST]:
        first, *others = comprehension.generators
        parts = (getattr(comprehension, name, None) for name in ("elt", "key", "value"))
        return [*(p for p in parts if p is not None), first.target, *first.ifs, *others]

    def is_async(comprehension: ast.expr) -> bool:
        stack = own_code(comprehension)
        while stack:
            node = stack.pop()
            if isinstance(node, ast.Await) or (isinstance(node, ast.comprehension) and node.is_async):
                return True
            if isinstance(node, _COMPREHENSION_NODES):
                stack.append(node.generators[0].iter)
            elif not isinstance(node, _SCOPE_NODES):
                stack.extend(ast.iter_child_nodes(node))
        return bool(comprehension.generators[0].is_async)

    def count(node: ast.AST, enclosing_is_async: bool | None) -> int:
        if isinstance(node, _SCOPE_NODES):
            return sum(count(child, None) for child in ast.iter_child_nodes(node))
        if not isinstance(node, _COMPREHENSION_NODES):
            return sum(count(child, enclosing_is_async) for child in ast.iter_child_nodes(node))
        own_is_async = is_async(node)
        misplaced = int(own_is_async and enclosing_is_async is False)
        return misplaced + count(node.generators[0].iter, enclosing_is_async) + sum(
            count(part, own_is_async) for part in own_code(node)
        )

    return count(tree, None)


def _function_locals(text: str) -> dict[tuple, set[str]]:
    """The names each function binds, by its path (see `_scope_path`)."""
    found: dict[tuple, set[str]] = {}

    def visit(table: symtable.SymbolTable, path: tuple, seen: Counter) -> None:
        for child in table.get_children():
            if child.get_name() in _COMPREHENSION_TABLES:
                continue
            child_path = _scope_path(path, child.get_name(), seen)
            if child.get_type() == "function":
                found[child_path] = set(child.get_locals())
            visit(child, child_path, Counter())

    visit(symtable.symtable(text, SNIPPET_PATH, "exec"), (), Counter())
    return found


_COMPREHENSION_TABLES = frozenset({"listcomp", "setcomp", "dictcomp", "genexpr"})


def _scope_path(path: tuple, name: str, seen: Counter) -> tuple:
    """The path of the classes and functions leading to a scope, each as (name, how many
    same-named siblings came before it): two `def view` in one module are two functions."""
    seen[name] += 1
    return (*path, (name, seen[name]))


def _name_loads(tree: ast.AST) -> Counter:
    """(function path, name) of every name read, except a comprehension's own variables."""
    loads: Counter = Counter()

    def visit(node: ast.AST, path: tuple, seen: Counter, comprehension_names: frozenset[str]) -> None:
        if isinstance(node, _SCOPE_NODES):
            path, seen = _scope_path(path, getattr(node, "name", "lambda"), seen), Counter()
        elif isinstance(node, _COMPREHENSION_NODES):
            targets = (n.id for g in node.generators for n in ast.walk(g.target) if isinstance(n, ast.Name))
            comprehension_names = comprehension_names | frozenset(targets)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load) and node.id not in comprehension_names:
            loads[path, node.id] += 1
        for child in ast.iter_child_nodes(node):
            visit(child, path, seen, comprehension_names)

    visit(tree, (), Counter(), frozenset())
    return loads


def captured_names(original: str, fixed: str) -> set[str]:
    """Names a fix reads in a function that existed and never read them, where a local of that
    function (or of an enclosing one) shadows them: the fix meant the module's name or the
    builtin (`sync_to_async(list)` with a parameter `list`)."""
    functions = _function_locals(original)
    fixed_locals = _function_locals(fixed)
    before = _name_loads(ast.parse(original))
    return {
        name
        for path, name in _name_loads(ast.parse(fixed)) - before
        if path in functions
        and not any(before[outer, name] for outer in _enclosing(path))
        and any(name in fixed_locals.get(outer, ()) for outer in _enclosing(path))
    }


def _enclosing(path: tuple) -> list[tuple]:
    """The path itself and the paths of the classes and functions around it."""
    return [path[:end] for end in range(1, len(path) + 1)]


def line_breaks(text: str) -> set[str]:
    return set(re.findall(r"\r\n|\r|\n", text))


def assert_fix_is_sound(original: str, fixed: str) -> None:
    """What a fix may not do, whatever its applicability: write code that does not compile,
    refer to a name that is not defined or that a local shadows, turn a generator expression
    into an async generator (whatever consumes it breaks), write what Python 3.10 refuses, move
    the file's leading comments (a shebang, an encoding declaration), or mix line endings into a
    file that had one kind."""
    assert parses(fixed), "the fixed code does not compile"
    assert undefined_names(fixed) <= undefined_names(original), "a fix used an undefined name"
    assert not captured_names(original, fixed), "a fix used a name that a local shadows"
    fixed_tree, original_tree = ast.parse(fixed), ast.parse(original)
    assert async_generator_expressions(fixed_tree) <= async_generator_expressions(original_tree)
    assert async_comprehensions_in_sync_ones(fixed_tree) <= async_comprehensions_in_sync_ones(original_tree)
    leading_comments = re.match(r"(?:#[^\r\n]*(?:\r\n|\r|\n))*", original).group()
    assert fixed.startswith(leading_comments), "a fix moved the shebang or the encoding declaration"
    if len(line_breaks(original)) == 1:
        assert line_breaks(fixed) <= line_breaks(original), "a fix mixed line endings"


def linter(text: str, target: str):
    """Every rule (the off-by-default ones too) on `text` as a module of the fixture project,
    whose index includes it (it may define models), as the runner lints for --fix."""
    return lint(text, target=target)


def assert_fixes_settle(original: str, target: str) -> None:
    check = linter(original, target)
    for unsafe in (False, True):
        fixed, _, remaining = fix_text(original, check, unsafe)
        assert_fix_is_sound(original, fixed)
        assert not [d for d in remaining if applicable(d.fix, unsafe)], "fixes left after the fixpoint"
        again, applied, _ = fix_text(fixed, check, unsafe)
        assert (again, applied) == (fixed, 0), "a second --fix changed the code"


# -- the properties ----------------------------------------------------------------------------


@fuzz(max_examples=60)
@given(grammar_programs(), st.sampled_from(TARGETS))
def test_engine_never_raises_on_arbitrary_python(text, target):
    check = linter(text, target)
    try:
        check(text)
        fixed, _, _ = fix_text(text, check, unsafe=True)
    except RecursionError:
        assert ast_depth(ast.parse(text)) > FAIR_RECURSION_DEPTH
        return
    assert_fix_is_sound(text, fixed)


@fuzz(max_examples=120)
@given(django_programs(), st.sampled_from(TARGETS))
def test_fixes_compile_and_settle(text, target):
    assert_fixes_settle(text, target)


@cache
def _off_by_default() -> str:
    return ",".join(code for code, rule in RULES.items() if not rule.default_enabled)


def _cli_fix(project: Path, target: str) -> subprocess.CompletedProcess:
    command = [
        sys.executable, "-m", "async_lint", "check", "library/snippet.py", "--fix", "--unsafe-fixes",
        "--no-cache", "--target-version", target, "--output-format", "concise", "--extend-select", _off_by_default(),
    ]
    return subprocess.run(command, cwd=project, capture_output=True, text=True, timeout=120)


@fuzz(max_examples=3)
@given(django_programs(), st.sampled_from(TARGETS))
def test_cli_fix_matches_in_process_fix(text, target):
    """The real CLI on a copy of the fixture project writes what `fix_text` computes, and a
    second run changes nothing."""
    expected, _, _ = fix_text(text, linter(text, target), unsafe=True)
    with tempfile.TemporaryDirectory() as folder:
        project = Path(folder) / "project"
        shutil.copytree(FIXTURE_PROJECT, project, ignore=shutil.ignore_patterns("cases", "__pycache__"))
        path = project / "library" / "snippet.py"
        path.write_bytes(text.encode())
        first = _cli_fix(project, target)
        assert first.returncode in (0, 1), first.stderr
        assert "ASL903" not in first.stdout
        fixed = path.read_bytes().decode()
        assert fixed == expected
        second = _cli_fix(project, target)
        assert second.returncode in (0, 1), second.stderr
        assert path.read_bytes().decode() == fixed


# What the fuzzer found, minimised: (program, target, the program after `--fix --unsafe-fixes`,
# None when unchanged).
REGRESSIONS = [
    pytest.param(
        "async def view(request):\n    await request.session.flush()\n",
        "5.2",
        "async def view(request):\n    await request.session.aflush()\n",
        id="sync-call-already-awaited",
    ),
    pytest.param(
        "async def view(request):\n    await request.session.flush()\n",
        "4.2",
        "from asgiref.sync import sync_to_async\n\n\nasync def view(request):\n    await sync_to_async(request.session.flush)()\n",
        id="sync-call-already-awaited-in-thread",
    ),
    pytest.param(
        "from asgiref.sync import *\n\n\nclass Middleware:\n    sync_capable = False\n    async_capable = True\n\n"
        "    def __init__(self, get_response):\n        self.get_response = get_response\n\n"
        "    async def __call__(self, request):\n        return await self.get_response(request)\n",
        "5.2",
        "from asgiref.sync import *\nfrom asgiref.sync import markcoroutinefunction\n\n\nclass Middleware:\n"
        "    sync_capable = False\n    async_capable = True\n\n    def __init__(self, get_response):\n"
        "        self.get_response = get_response\n        markcoroutinefunction(self)\n\n"
        "    async def __call__(self, request):\n        return await self.get_response(request)\n",
        id="star-import-of-the-fix-module",
    ),
    pytest.param(
        "from __future__ import annotations\nfrom library.models import Book\n\n\nasync def view(request):\n"
        "    y: Book.objects.get(pk=1) = 1\n\n    def inner(a: Book.objects.first()) -> Book.objects.last():\n"
        "        pass\n",
        "5.2",
        None,
        id="annotations-that-never-run",
    ),
    pytest.param(
        "from library.models import Book\n\n\nasync def view(request, list=None):\n    for book in Book.objects.all():\n"
        "        pass\n    return Book.objects.get(pk=1)\n",
        "4.0",
        "from asgiref.sync import sync_to_async\n\nfrom library.models import Book\n\n\nasync def view(request, list=None):\n"
        "    for book in Book.objects.all():\n        pass\n    return await sync_to_async(Book.objects.get)(pk=1)\n",
        id="builtin-shadowed-by-a-parameter",
    ),
    pytest.param(
        "from library.models import Book\n\n\nasync def view(request, sync_to_async=None):\n    return Book.objects.get(pk=1)\n",
        "4.0",
        None,
        id="wrapper-shadowed-by-a-parameter",
    ),
    pytest.param(
        "from library.models import Book\n\n\nasync def view(book: Book, getattr=None):\n    return book.author.name\n",
        "5.2",
        None,
        id="getattr-shadowed-by-a-parameter",
    ),
    pytest.param(
        "from library.models import Tag\n\n\nasync def view():\n    return any(i for i in range(2) if [t.pk for t in Tag.objects.all()])\n",
        "5.2",
        None,
        id="comprehension-inside-a-generator-expression",
    ),
    pytest.param(
        "from library.models import Tag\n\n\nasync def view(books: list):\n    return [[t.pk for t in Tag.objects.all()] for b in books]\n",
        "5.2",
        None,
        id="async-comprehension-inside-a-sync-one",
    ),
    pytest.param(
        "from library.models import Book\n\n\nasync def view():\n"
        "    return [[b.title, [t.pk for t in b.tags.all()]] for b in Book.objects.all()]\n",
        "5.2",
        "from library.models import Book\n\n\nasync def view():\n"
        "    return [[b.title, [t.pk async for t in b.tags.all()]] async for b in Book.objects.all()]\n",
        id="nested-comprehensions-made-async-outside-in",
    ),
    pytest.param(
        "from library.models import Tag\n\n\nasync def view(xs: list):\n"
        "    return [max(Tag.objects.all(), key=len) for x in xs], [Tag.objects.all()[0] for x in xs]\n",
        "5.2",
        None,
        id="collecting-comprehension-inside-a-sync-one",
    ),
    pytest.param(
        "from library.models import Book\n\n\nasync def view(pk):\n    book = await Book.objects.only('title').aget(pk=pk)\n"
        "    return book.author.name\n",
        "5.2",
        "from asgiref.sync import sync_to_async\n\nfrom library.models import Book\n\n\nasync def view(pk):\n"
        "    book = await Book.objects.only('title').aget(pk=pk)\n"
        "    return (await sync_to_async(getattr)(book, \"author\")).name\n",
        id="select-related-of-a-deferred-relation",
    ),
    pytest.param(
        "async def view(request, key, value):\n    request.session[key()] = value()\n",
        "5.2",
        "async def view(request, key, value):\n    await request.session.aset(key(), value())\n",
        id="session-write-evaluation-order",
    ),
    pytest.param(
        "from django.db import models\r\n\r\n\r\nclass Shelf(models.Model):\r\n    def save(self, \\\r\n"
        "             *args, **kwargs):\r\n        self.notify()\r\n        super().save(*args, **kwargs)\r\n",
        "5.2",
        "from django.db import models\r\nfrom asgiref.sync import sync_to_async\r\n\r\n\r\nclass Shelf(models.Model):\r\n"
        "    def save(self, \\\r\n             *args, **kwargs):\r\n        self.notify()\r\n"
        "        super().save(*args, **kwargs)\r\n\r\n    async def asave(self, \\\r\n             *args, **kwargs):\r\n"
        "        return await sync_to_async(self.save)(*args, **kwargs)\r\n",
        id="delegating-twin-of-a-crlf-header-over-two-lines",
    ),
    pytest.param(
        "#!/usr/bin/env python\n# -*- coding: latin-1 -*-\nasync def view(request):\n    request.session.flush()\n",
        "4.2",
        "#!/usr/bin/env python\n# -*- coding: latin-1 -*-\nfrom asgiref.sync import sync_to_async\n\n\n"
        "async def view(request):\n    await sync_to_async(request.session.flush)()\n",
        id="import-below-shebang-and-encoding",
    ),
    pytest.param(
        "from library.models import Book\n\n\nasync def view(book: Book):\n    n = len(Book.objects\n            .all())\n"
        "    return book in Book.objects\\\n        .all()\n",
        "5.2",
        "from library.models import Book\n\n\nasync def view(book: Book):\n    n = await (Book.objects\n            .all()).acount()\n"
        "    return await Book.objects\\\n        .all().acontains(book)\n",
        id="queryset-over-two-lines-taken-out-of-brackets",
    ),
    pytest.param(
        "from library.models import Book\n\n\nasync def view():\n"
        "    return list(y := Book.objects.all()), len(y := Book.objects.all()), (y := Book.objects.all())[0]\n",
        "5.2",
        "from library.models import Book\n\n\nasync def view():\n"
        "    return list(y := Book.objects.all()), await (y := Book.objects.all()).acount(), (y := Book.objects.all())[0]\n",
        id="assignment-expression-as-receiver",
    ),
    pytest.param(
        "async def view(request, a, b):\n    request.session['k'] = a, b\n    request.session['j'] = yield a\n",
        "5.2",
        "async def view(request, a, b):\n    await request.session.aset('k', (a, b))\n"
        "    await request.session.aset('j', (yield a))\n",
        id="tuple-or-yield-as-an-argument",
    ),
    pytest.param(
        "from django.db import models\n\n\nclass Shelf(models.Model):\n    def save(self, *args, **kwargs) \\\n        :\n"
        "        self.notify()\n        super().save(*args, **kwargs)\n",
        "5.2",
        "from django.db import models\nfrom asgiref.sync import sync_to_async\n\n\nclass Shelf(models.Model):\n"
        "    def save(self, *args, **kwargs) \\\n        :\n        self.notify()\n        super().save(*args, **kwargs)\n\n"
        "    async def asave(self, *args, **kwargs):\n        return await sync_to_async(self.save)(*args, **kwargs)\n",
        id="delegating-twin-of-a-header-continued-before-its-colon",
    ),
    pytest.param(
        "from django.conf import settings\n\n\nclass Middleware:\n    async_capable = True\n    sync_capable = False\n\n"
        "    def __init__(self, get_response):\n        self.get_response = get_response\n        if settings.DEBUG:\n"
        "            return\n        self.debug = False\n\n    async def __call__(self, request):\n"
        "        return await self.get_response(request)\n",
        "5.2",
        None,
        id="middleware-init-that-returns-early",
    ),
    pytest.param(
        "from django.db import models\n\n\nclass Shelf(models.Model):\n    def save(self, sep='\u2028',\n"
        "             *args, **kwargs):\n        self.notify()\n        super().save(*args, **kwargs)\n",
        "5.2",
        "from django.db import models\nfrom asgiref.sync import sync_to_async\n\n\nclass Shelf(models.Model):\n"
        "    def save(self, sep='\u2028',\n             *args, **kwargs):\n        self.notify()\n"
        "        super().save(*args, **kwargs)\n\n    async def asave(self, sep='\u2028',\n             *args, **kwargs):\n"
        "        return await sync_to_async(self.save)(sep, *args, **kwargs)\n",
        id="delegating-twin-of-a-header-holding-a-line-separator",
    ),
    pytest.param(
        "from library.models import Book\n\n\nasync def view(pk):\n    book = await Book.objects.only('title').aget(pk=pk)\n"
        "    return f\"{book.author}\", f\"{[b.author for b in Book.objects.all()]}\"\n",
        "5.2",
        "from asgiref.sync import sync_to_async\n\nfrom library.models import Book\n\n\nasync def view(pk):\n"
        "    book = await Book.objects.only('title').aget(pk=pk)\n    return f\"{await sync_to_async(getattr)(book, 'author')}\", "
        "f\"{[b.author async for b in Book.objects.all().select_related('author')]}\"\n",
        id="string-literal-written-inside-an-f-string",
    ),
]


@pytest.mark.parametrize("program, target, expected", REGRESSIONS)
def test_regression(program, target, expected):
    fixed, _, _ = fix_text(program, linter(program, target), unsafe=True)
    assert fixed == (expected or program)
    assert_fixes_settle(program, target)


def test_a_model_nested_too_deeply_is_left_out_of_the_index():
    """Deep nesting is fair game for a RecursionError in the checked file (reported as ASL901),
    not in the index, which every file of the run needs."""
    program = (
        "from django.db import models\n\n\nclass Shelf(models.Model):\n    objects = models.Manager()"
        + ".filter()" * 1500
        + "\n\n\nclass Tray(models.Model):\n    pass\n"
    )
    index = ProjectModel.of_texts({**_fixture_texts(), SNIPPET_PATH: program}, DEFAULT_TWIN_PATTERNS).index
    assert index.model("library.snippet.Shelf") is None
    assert index.model("library.models.Book") is not None


@pytest.mark.parametrize(
    "program",
    [
        "async def view(request, key, value):\n    request.session[key()] = value()\n",
        "from django.core.cache import caches\n\n\nasync def view(key, alias):\n    return key() in caches[alias()]\n",
    ],
    ids=["session-write", "cache-membership"],
)
def test_a_fix_that_reorders_calls_is_unsafe(program):
    assert fix_text(program, linter(program, "5.2"), unsafe=False)[0] == program
    assert fix_text(program, linter(program, "5.2"), unsafe=True)[0] != program
