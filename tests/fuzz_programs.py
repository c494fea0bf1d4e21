"""Programs for the fuzz tests (tests/test_fuzz.py): the Django code the rules fix, nested in
odd places, formatted oddly, and mixed with hypothesmith's arbitrary Python.

hypothesmith alone almost never writes a Django call, so most of a program comes from three
vocabularies: the fixture cases' functions, the rules' documented examples, and templates that
put an async-unsafe expression into every kind of expression and statement.
"""

from __future__ import annotations

import ast
import io
import re
import textwrap
import tokenize
import warnings
from functools import cache
from pathlib import Path

import hypothesmith
from hypothesis import assume
from hypothesis import strategies as st

from async_lint.rules import RULES

CASES = Path(__file__).resolve().parent.parent / "fixtures" / "project" / "cases"
TARGETS = ("3.2", "4.0", "4.1", "4.2", "5.0", "5.1", "5.2", "6.0")
INDENT = "    "

# Templates: `$name` is replaced by a drawn production of `name`.
GRAMMAR: dict[str, list[str]] = {
    "manager": [
        "Book.objects", "Book.published_books", "Author.objects", "Tag.objects", "Review.objects",
        "Publisher.objects", "User.objects", "get_user_model().objects",
    ],
    "queryset": [
        "$manager", "$manager.all()", "$manager.filter(pk=$value)", "$manager.exclude(pk__in=[$value])",
        "$manager.select_related('author')", "Book.objects.published()", "Book.objects.published().long()",
        "Book.objects.prefetch_related('tags')", "$manager.only('pk')", "$manager.defer('title')",
        "$manager.order_by('-pk')", "$manager.values_list('pk', flat=True)", "$manager.values('pk')",
        "author.books.all()", "book.tags.all()", "author.books", "publisher.book_set.filter(pages=$value)",
        "qs", "books", "$queryset.filter(pk__gt=$value)", "$queryset.distinct()",
    ],
    # '\u2028' and '\x0c' are written raw into the program: str.splitlines() breaks at them.
    "value": [
        "1", "pk", "x", "'é'", "None", "request.GET.get('q')", "$unsafe", "(1, 2)", "kwargs['k']", "'\u2028'", "'\x0c'",
    ],
    "key": ["'k'", "f'k:{pk}'", "key", "'clé'", "$unsafe"],
    "instance": ["book", "author", "tag", "review", "publisher", "user", "self", "obj"],
    "unsafe": [
        # ASL101, ASL105
        "$queryset.get(pk=$value)", "$queryset.first()", "$queryset.last()", "$queryset.count()",
        "$queryset.exists()", "$queryset.aggregate(n=Count('pk'))", "$queryset.in_bulk([$value])",
        "$manager.create(title=$value)", "$manager.get_or_create(name=$value)", "$queryset.update(pages=$value)",
        "$queryset.delete()", "$queryset.earliest('pk')", "$queryset.latest('pk')", "$queryset.contains(book)",
        "$queryset.iterator()", "$manager.bulk_create([])", "$manager.update_or_create(pk=$value, defaults={})",
        "book.tags.add(tag)", "book.tags.remove(tag)", "book.tags.set([tag])", "book.tags.clear()",
        "author.books.create(title=$value)", "publisher.book_set.clear()", "book.tags.count()",
        # ASL102, ASL103
        "len($queryset)", "list($queryset)", "bool($queryset)", "sorted($queryset)", "tuple($queryset)",
        "$queryset[0]", "$queryset[1:3]", "$queryset[::2]", "$value in $queryset", "book not in $queryset",
        "sum(b.pages for b in $queryset)", "[b.pk for b in $queryset]", "{b.pk: b for b in $queryset}",
        "{b for b in $queryset if b}", "any(b for b in $queryset)", "[t for b in $queryset for t in b.tags.all()]",
        "[b async for b in $queryset]", "max($queryset, key=len)", "dict($queryset.values_list('pk', 'title'))",
        # ASL104
        "$instance.save()", "$instance.save(update_fields=['title'])", "$instance.delete()",
        "$instance.refresh_from_db()", "$instance.full_clean()", "$instance.save(force_insert=True, using='x')",
        "Author(name=$value).save()",
        # ASL106, ASL108, ASL109
        "get_object_or_404(Book, pk=$value)", "get_list_or_404(Book.objects.all())", "shortcuts.get_object_or_404(Author, pk=1)",
        "authenticate(request, username=$value, password='p')", "login(request, user)", "logout(request)",
        "auth.logout(request)", "update_session_auth_hash(request, user)", "get_user(request)",
        "User.objects.create_user('n')", "user.check_password('p')", "user.has_perm('library.change_book')",
        "user.get_all_permissions()",
        # ASL107
        "request.user", "request.user.is_authenticated", "request.user.pk", "f'{request.user}'",
        "request.user.has_perm('x')", "self.request.user",
        # ASL110
        "request.session.get($key)", "request.session[$key]", "$key in request.session",
        "$key not in request.session", "request.session.pop($key, None)", "request.session.flush()",
        "request.session.keys()", "request.session.items()", "request.session.setdefault($key, 1)",
        "request.session.cycle_key()", "request.session.set_expiry(300)",
        # ASL111
        "cache.get($key)", "cache.set($key, $value)", "cache.delete($key)", "cache.get_or_set($key, 1)",
        "$key in cache", "caches['default'].get($key)", "cache.incr($key)", "cache.get_many([$key])",
        "cache.clear()", "cache.touch($key)", "$key not in caches['default']",
        # ASL112, ASL113, ASL114, ASL115
        "book_published.send(sender=Book, book=book)", "post_save.send_robust(sender=Book, instance=book)",
        "transaction.on_commit(print)", "transaction.atomic()", "transaction.savepoint()",
        "Paginator($queryset, 20).page($value)", "Paginator($queryset, 20).count",
        "send_mail('s', 'b', None, [$value])", "EmailMessage('s', 'b', to=[$value]).send()",
        "mail.send_mass_mail([])", "mail_admins('s', 'b')",
        # ASL116
        "book.asave()", "Book.objects.aexists()", "request.session.aset($key, 1)", "sync_to_async(print)()",
        "cache.aget($key)", "request.auser()",
        # ASL117, ASL502, ASL201, ASL202, ASL604
        "titles()", "count_books(author)", "self.count()", "load_profile(pk)", "helper(pk)",
        "book.author.name", "book.author", "review.book.title", "author.profile.bio", "book.publisher",
        "book.pages", "author.user.username", "request.POST['name']", "request.FILES.getlist('f')",
        "request.POST",
    ],
}
# How an async-unsafe expression `$u` is used: every precedence level and every scope-making form.
EXPRESSION_CONTEXTS = [
    "$u", "$u", "$u", "($u)", "-$u", "$u + 1", "1 - $u", "not $u", "$u.pk", "$u[0]", "$u()", "[$u]",
    "{'k': $u}", "{$u}", 'f"{$u}"', 'f"{$u!r:>{width}}"', "($u if x else None)", "(x if $u else None)",
    "(y := $u)", "print($u, sep='')", "print(*$u)", "print(**$u)", "str($u)", "(\n$u  # c\n)",
    "$u == $u", "lambda: $u", "lambda b=$u: b", "[$u for _ in range(2)]", "($u for _ in range(2))",
    "(i for i in $u)", "(i for i in range(2) if $u)", "[i for i in $u]", "{i: $u for i in x}",
    "await foo($u)", "($u,)", "($u or None)", "$u and x", "$u is None", "$u ** 2", "2 ** $u", "~$u",
    "$u.pk.bit_length()", "x[$u]", "x[$u:]", "foo(key=$u)", "$u\\\n    .pk", "(await $u)",
]
SIMPLE_STATEMENTS = [
    "$x", "$x", "y = $x", "y: object = $x", "y += $x", "y, z = $x, 1", "return $x", "assert $x",
    "assert x, $x", "del d[$x]", "raise ValueError($x)", "yield $x", "y = \\\n    $x", "x = 1; y = $x",
    "$x; pass", "$x;", "y = $x  # noqa", "y = $x  # noqa: ASL101", "y = $x  # noqa: E501", "y.attr = $x",
    "y[$x] = 1", "d[$key] = $x", "request.session[$key] = $x", "request.session[$key] = $x, 1", "del request.session[$key]",
    "global g; g = $x", "y: $x = 1", "café = $x", "return (\n    $x\n)",
]
LOCALS = [
    "book = await Book.objects.aget(pk=pk)", "book = await Book.objects.select_related('author').aget(pk=pk)",
    "book = await Book.objects.only('title').aget(pk=pk)", "book = await aget_object_or_404(Book, pk=pk)",
    "author = await Author.objects.afirst()", "tag = await Tag.objects.aget(name='x')",
    "publisher = await Publisher.objects.aget(pk=pk)", "user = await request.auser()",
    "review = await Review.objects.select_related('book').aget(pk=1)", "books = Book.objects.filter(published=True)",
    "qs = Book.objects.all()", "x = await Author.objects.filter(pk=pk).afirst()", "obj = await Tag.objects.alast()",
]
# Parameters that shadow a name a fix might write (`list` in `sync_to_async(list)`, ...).
PARAMETERS = [
    "book: Book", "author: Author", "tag: Tag", "user: User", "list=None", "len=None", "sep='\u2028'",
    "sorted=None", "sync_to_async=None", "cache=None", "asyncio=None", "key='k'", "x=None",
    "qs: QuerySet", "book: 'Book' = None", "obj: Book | None = None",
]
DECORATORS = [
    "@transaction.atomic", "@transaction.atomic(using='default')", "@login_required", "@sync_to_async",
    "@method_decorator(login_required)", "@returns(1)", "@decorator($u)", "@sync_and_async_middleware",
]
IMPORTS = """\
import os
from pathlib import Path

from cases._seed import returns
from django import forms, shortcuts
from django.contrib import auth
from django.contrib.auth import authenticate, get_user, get_user_model, login, logout, update_session_auth_hash
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.core import mail
from django.core.cache import cache, caches
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import InMemoryStorage
from django.core.mail import EmailMessage, EmailMultiAlternatives, mail_admins, send_mail, send_mass_mail
from django.core.paginator import Paginator
from django.db import models, transaction
from django.db.models import Avg, Count, QuerySet, prefetch_related_objects
from django.db.models.signals import post_save
from django.dispatch import Signal, receiver
from django.http import Http404
from django.shortcuts import aget_object_or_404, get_list_or_404, get_object_or_404
from django.utils.decorators import method_decorator, sync_and_async_middleware
from django.views import View
from library.models import Author, Book, Publisher, Review, Tag
from library.signals import book_published
"""
# The asgiref import a fix may extend, reuse or add, in the forms projects write it.
ASGIREF_IMPORTS = [
    "", "", "from asgiref.sync import sync_to_async\n", "from asgiref.sync import sync_to_async as s2a\n",
    "from asgiref.sync import async_to_sync\n", "from asgiref.sync import (\n    async_to_sync,\n)\n",
    "from asgiref.sync import async_to_sync  # why\n", "import asgiref.sync\n", "from asgiref.sync import *\n",
    "from asgiref.sync import async_to_sync; import os\n", "from asgiref import sync\n",
    "try:\n    from asgiref.sync import sync_to_async\nexcept ImportError:\n    pass\n",
    "import asyncio\n", "from asyncio import iscoroutinefunction\n",
]
PREAMBLES = [
    "", "", '"""A module docstring."""\n', "#!/usr/bin/env python\n# -*- coding: utf-8 -*-\n",
    "from __future__ import annotations\n", '"""Doc."""\nfrom __future__ import annotations\n',
    "# Licence header\n\n",
]
# Sync helpers and twins that async views call (ASL117, ASL502), and classes whose methods the
# module rules read (ASL3, ASL4).
MODULE_ITEMS = [
    "def titles():\n    return [b.title for b in Book.objects.all()]\n",
    "def count_books(author):\n    return Book.objects.filter(author=author).count()\n\n\n"
    "async def acount_books(author):\n    return await Book.objects.filter(author=author).acount()\n",
    "def load_profile(pk):\n    return Book.objects.select_related('author').get(pk=pk)\n\n\n"
    "async def aload_profile(pk):\n    return await sync_to_async(load_profile)(pk)\n",
    "def helper(pk):\n    cache.set('k', pk)\n    return Book.objects.get(pk=pk)\n",
    "class Report:\n    def count(self):\n        return Book.objects.count()\n\n"
    "    async def acount(self):\n        return await Book.objects.acount()\n\n"
    "    async def render(self):\n        return $u\n",
    "class Shelf(models.Model):\n    name = models.CharField(max_length=10)\n\n"
    "    def save(self, *args, **kwargs):\n        $u\n        super().save(*args, **kwargs)\n",
    "class Middleware:\n    async_capable = True\n    sync_capable = False\n\n"
    "    def __init__(self, get_response):\n        self.get_response = get_response\n\n"
    "    async def __call__(self, request):\n        $u\n        return await self.get_response(request)\n",
    "class BookView(View):\n    def get(self, request):\n        return $u\n\n"
    "    async def post(self, request, *args, **kwargs):\n        return $u\n",
]


# Where a generated `async def` lives.
CONTAINERS = [
    None, None, None, "class BookView(View):", "class Middleware:\n    async_capable = True\n    sync_capable = False",
    "class Plain:", "def middleware_factory(get_response):\n    x = 1",
]
# A compound statement: a header per clause (`$x`: an unsafe expression), each followed by a block.
COMPOUND_STATEMENTS = [
    ("if $x:",), ("if x:", "elif $x:", "else:"), ("while $x:",), ("for b in $x:",), ("for b in $queryset:", "else:"),
    ("for b in Book.objects.filter(pk=$value).iterator(chunk_size=10):",), ("async for b in $x:",),
    ("with transaction.atomic():",), ("with transaction.atomic(using='x'), open('f') as fh:",), ("with $x as y:",),
    ("async with $x:",), ("try:", "except Exception as error:", "else:", "finally:"), ("try:", "except* ValueError:"),
    ("def inner(a=$x):",), ("async def inner(a=$x):",), ("class Inner:",), ("match $x:\n    case {'k': 1}:",),
    ("@decorator($x)\ndef decorated():",), ("if True:  # comment\n    # comment",), ("for b in $queryset:  # noqa",),
]


def _segments(path: Path) -> list[str]:
    """The source of each top-level function and class of a module."""
    text = path.read_text()
    lines = text.splitlines(keepends=True)
    return [
        "".join(lines[(node.decorator_list[0] if node.decorator_list else node).lineno - 1 : node.end_lineno])
        for node in ast.parse(text).body
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
    ]


@cache
def case_functions() -> list[str]:
    """Every function of the fixture cases: Django code written the way projects write it."""
    return [segment for path in sorted(CASES.glob("[!_]*.py")) for segment in _segments(path)]


@cache
def rule_examples() -> list[str]:
    """Every documented example of every rule, as a module."""
    examples = [e.code for rule in RULES.values() for e in (*rule.INVALID, *rule.VALID)]
    return [code for code in examples if "__future__" not in code]


def fill(template: str, draw, depth: int = 0) -> str:
    """Replace each `$name` in `template` with a drawn production (`$u`: an unsafe expression);
    from depth 2 on, productions stop nesting further unsafe expressions."""

    def production(match: re.Match) -> str:
        choices = GRAMMAR["unsafe" if match.group(1) == "u" else match.group(1)]
        if depth >= 2:
            choices = [c for c in choices if "$unsafe" not in c and "$queryset" not in c] or choices[:1]
        return fill(draw(st.sampled_from(choices)), draw, depth + 1)

    return re.sub(r"\$(manager|queryset|value|key|instance|unsafe|u)\b", production, template)


def unsafe_expression(draw) -> str:
    return fill(draw(st.sampled_from(EXPRESSION_CONTEXTS)), draw)


def _indented(lines: list[str], indent: str = INDENT) -> list[str]:
    return [indent + line if line else line for line in lines]


def block(draw, depth: int) -> list[str]:
    """1-3 statements, as lines indented relative to the block."""
    lines: list[str] = []
    for _ in range(draw(st.integers(1, 3))):
        lines.extend(statement(draw, depth))
    return lines


def statement(draw, depth: int) -> list[str]:
    kind = draw(st.sampled_from(["simple"] * 6 + ["compound"] * (3 if depth < 3 else 0) + ["grammar"]))
    if kind == "grammar":
        return draw(hypothesmith_statements())
    if kind == "simple":
        template = draw(st.sampled_from(SIMPLE_STATEMENTS))
        return fill(template.replace("$x", unsafe_expression(draw)), draw).split("\n")
    lines: list[str] = []
    for clause in draw(st.sampled_from(COMPOUND_STATEMENTS)):
        header = fill(clause.replace("$x", unsafe_expression(draw)), draw).split("\n")
        # The body goes one level below the clause's last line (`case` under `match`).
        body_indent = re.match(r"[ \t]*", header[-1]).group() + INDENT
        lines += [*header, *_indented(block(draw, depth + 1), body_indent)]
    return lines


# Built once: each `from_grammar()` call builds a parser (seconds).
GRAMMAR_MODULES = hypothesmith.from_grammar(auto_target=False)


@st.composite
def hypothesmith_statements(draw) -> list[str]:
    """Lines of an arbitrary, compilable module from hypothesmith's grammar, ending in `pass` so
    that it is never an empty block."""
    with warnings.catch_warnings():
        # hypothesmith compiles what it generates: `1(2)` is valid, and a SyntaxWarning.
        warnings.simplefilter("ignore", SyntaxWarning)
        text = draw(GRAMMAR_MODULES)
    return [*re.split(r"\r\n|\r|\n", text.rstrip("\\\r\n \t\x0c")), "pass"]


@st.composite
def async_views(draw) -> str:
    """An `async def` with locals the templates use, at module level, as a method or nested."""
    extra = draw(st.lists(st.sampled_from(PARAMETERS), max_size=2, unique=True))
    star = draw(st.sampled_from(["*", "*args"])) if extra else None
    kwargs = ["**kwargs"] if draw(st.booleans()) else []
    parameters = ", ".join(["request", "pk=1", *([star, *extra] if extra else []), *kwargs])
    decorators = [fill(d, draw) for d in draw(st.lists(st.sampled_from(DECORATORS), max_size=1))]
    name = draw(st.sampled_from(["view", "get", "post", "dispatch", "aget_thing", "__call__"]))
    body = [*draw(st.lists(st.sampled_from(LOCALS), max_size=3)), *block(draw, 0)]
    container = draw(st.sampled_from(CONTAINERS))
    if container is not None:
        parameters = "self, " + parameters if container.startswith("class") else parameters
    function = [*decorators, f"async def {name}({parameters}):", *_indented(body)]
    if container is None:
        return "\n".join(function) + "\n"
    return "\n".join([*container.split("\n"), *_indented(function)]) + "\n"


@st.composite
def module_items(draw) -> str:
    source = draw(st.sampled_from(["view"] * 4 + ["case", "example", "item", "grammar"]))
    if source == "view":
        return draw(async_views())
    if source == "case":
        return draw(st.sampled_from(case_functions()))
    if source == "example":
        return draw(st.sampled_from(rule_examples()))
    if source == "item":
        return fill(draw(st.sampled_from(MODULE_ITEMS)), draw)
    return "\n".join(draw(hypothesmith_statements())) + "\n"


# -- odd formatting ----------------------------------------------------------------------------


def _tokens(text: str) -> list[tokenize.TokenInfo]:
    return list(tokenize.generate_tokens(io.StringIO(text).readline))


def _offsets(text: str) -> list[int]:
    starts = [0]
    for line in text.splitlines(keepends=True):
        starts.append(starts[-1] + len(line))
    return starts


def add_comment(text: str, draw) -> str:
    """`# …` at the end of a random physical line (before its NEWLINE or NL token)."""
    tokens = [t for t in _tokens(text) if t.type in (tokenize.NEWLINE, tokenize.NL) and t.string]
    if not tokens:
        return text
    token = draw(st.sampled_from(tokens))
    offset = _offsets(text)[token.start[0] - 1] + token.start[1]
    comment = draw(st.sampled_from(["  # c", "# noqa", "  # type: ignore", "  # é ü", "  # ( ["]))
    return text[:offset] + comment + text[offset:]


def continue_line(text: str, draw) -> str:
    """Break a logical line with a backslash between two tokens."""
    tokens = _tokens(text)
    gaps = [
        (a, b) for a, b in zip(tokens, tokens[1:])
        if a.end[0] == b.start[0] and a.type in (tokenize.NAME, tokenize.OP, tokenize.NUMBER, tokenize.STRING)
        and b.type in (tokenize.NAME, tokenize.OP, tokenize.NUMBER, tokenize.STRING)
    ]
    if not gaps:
        return text
    first, _ = draw(st.sampled_from(gaps))
    offset = _offsets(text)[first.end[0] - 1] + first.end[1]
    return text[:offset] + " \\\n        " + text[offset:]


def break_inside_brackets(text: str, draw) -> str:
    """Break a line between two tokens inside brackets (an implicit continuation)."""
    depth, gaps = 0, []
    tokens = _tokens(text)
    for a, b in zip(tokens, tokens[1:]):
        if a.type == tokenize.OP and a.string in "([{":
            depth += 1
        elif a.type == tokenize.OP and a.string in ")]}":
            depth -= 1
        if depth > 0 and a.end[0] == b.start[0] and b.type != tokenize.COMMENT:
            gaps.append(a)
    if not gaps:
        return text
    first = draw(st.sampled_from(gaps))
    offset = _offsets(text)[first.end[0] - 1] + first.end[1]
    return text[:offset] + "\n" + " " * draw(st.integers(0, 12)) + text[offset:]


def parenthesise(text: str, draw) -> str:
    """Wrap a random expression (outside f-strings) in parentheses, maybe over several lines."""
    tree = ast.parse(text)
    inside_fstrings = {id(n) for s in ast.walk(tree) if isinstance(s, ast.JoinedStr) for n in ast.walk(s)}
    candidates = [
        n for n in ast.walk(tree)
        if isinstance(n, ast.expr) and not isinstance(n, (ast.Starred, ast.Slice)) and id(n) not in inside_fstrings
    ]
    if not candidates:
        return text
    node = draw(st.sampled_from(candidates))
    starts = _offsets(text)
    # Columns are UTF-8 byte offsets.
    def offset(row: int, column: int) -> int:
        line = text[starts[row - 1] : starts[row] if row < len(starts) else len(text)]
        return starts[row - 1] + len(line.encode()[:column].decode(errors="ignore"))

    start, end = offset(node.lineno, node.col_offset), offset(node.end_lineno, node.end_col_offset)
    opening, closing = draw(st.sampled_from([("(", ")"), ("(\n", "\n)"), ("(  # c\n", ")"), ("((", "))")]))
    return text[:start] + opening + text[start:end] + closing + text[end:]


MUTATIONS = [add_comment, continue_line, break_inside_brackets, parenthesise]


def parses(text: str) -> bool:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            compile(text, "<fuzz>", "exec", dont_inherit=True)
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            return False
    return True


@st.composite
def django_programs(draw) -> str:
    """A module of Django code the rules fix, in odd places and odd formatting, that compiles."""
    items = draw(st.lists(module_items(), min_size=1, max_size=4))
    # Without the imports, a fix's import may be the file's first (after its leading comments).
    imports = IMPORTS if draw(st.integers(0, 3)) else ""
    text = draw(st.sampled_from(PREAMBLES)) + imports + draw(st.sampled_from(ASGIREF_IMPORTS))
    text += "\n\n" + "\n\n".join(items)
    assume(parses(text))
    for mutate in draw(st.lists(st.sampled_from(MUTATIONS), max_size=4)):
        mutated = mutate(text, draw)
        if parses(mutated):
            text = mutated
    if draw(st.booleans()):
        text = re.sub(r"(?m)^((?:    )+)", lambda m: "\t" * (len(m.group(1)) // 4), text)
    if draw(st.booleans()):
        text = text.rstrip("\n")
    if draw(st.integers(0, 3)) == 0:
        text = text.replace("\n", "\r\n")
    assume(parses(text))
    return text


@st.composite
def grammar_programs(draw) -> str:
    """hypothesmith's arbitrary Python, as a module and as the body of an `async def` view."""
    lines = draw(hypothesmith_statements())
    if draw(st.booleans()):
        text = "\n".join(lines)
    else:
        text = IMPORTS + "\n\nasync def view(request):\n" + textwrap.indent("\n".join(lines), INDENT, lambda _: True)
    assume(parses(text))
    return text
