"""ASL5: how twin pairs are found, brought to one form, compared and described
(`async_lint.twins`), beyond the rules' documented examples."""

from __future__ import annotations

import ast
import textwrap

import pytest

from async_lint import twins
from async_lint.imports import import_bindings

from .helpers import findings, fixed


def judge(code: str, patterns=twins.DEFAULT_PATTERNS) -> list[twins.Comparison]:
    code = textwrap.dedent(code)
    tree = ast.parse(code)
    names = twins.names_for(tree, import_bindings(tree, "library.snippet", False), patterns)
    lines = code.splitlines()
    return [
        twins.compare(pair, names, lines)
        for body, owner, path in twins.iter_containers(tree)
        for pair in twins.find_pairs(body, owner, patterns, path)
    ]


def verdict(code: str, patterns=twins.DEFAULT_PATTERNS) -> str:
    (comparison,) = judge(code, patterns)
    return comparison.verdict


# -- pairs -------------------------------------------------------------------------------------


def test_pairs_follow_the_naming_patterns_and_keep_leading_underscores():
    found = judge(
        """
        def get(): pass
        async def aget(): pass
        def _load_session(): pass
        async def _aload_session(): pass
        def fetch(): pass
        async def fetch_async(): pass
        def send(): pass
        async def async_send(): pass
        def __enter__(self): pass
        async def __aenter__(self): pass
        async def alone(): pass
        def one(): pass
        """
    )
    assert sorted(c.pair.names for c in found) == [
        ("__enter__", "__aenter__"),
        ("_load_session", "_aload_session"),
        ("fetch", "fetch_async"),
        ("get", "aget"),
        ("send", "async_send"),
    ]


def test_configured_patterns_replace_the_defaults():
    code = "def fetch(): pass\nasync def fetch_async(): pass\ndef get(): pass\nasync def co_get(): pass\n"
    assert [c.pair.names for c in judge(code, ("co_{}",))] == [("get", "co_get")]


def test_twins_live_in_one_class_or_module_and_agree_on_being_methods():
    found = judge(
        """
        def get(): pass
        class Store:
            async def aget(self): pass
            @staticmethod
            def load(): pass
            async def aload(self): pass
            @classmethod
            def make(cls): pass
            @classmethod
            async def amake(cls): pass
        """
    )
    assert [c.pair.names for c in found] == [("make", "amake")]


# -- verdicts ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "code",
    [
        # sync_to_async, with or without options, and a nested helper
        "def f(x):\n    return g(x)\nasync def af(x):\n    return await sync_to_async(f, thread_sensitive=True)(x)\n",
        "class C:\n    def f(self):\n        return 1\n    async def af(self):\n        return await sync_to_async(self.f)()\n",
        # the sync twin runs the async one
        "class C:\n    def f(self):\n        return async_to_sync(self.af)()\n    async def af(self):\n        return 2\n",
    ],
)
def test_a_twin_that_calls_the_other_is_delegating(code):
    assert verdict(code) == twins.DELEGATING


def test_an_interface_stub_is_not_compared():
    assert verdict("class C:\n    def f(self):\n        raise NotImplementedError\n    async def af(self):\n        return 1\n") == twins.STUB


@pytest.mark.parametrize(
    "sync_body, async_body",
    [
        # await, async for, async comprehensions, a-twins of Django's API
        ("return [b.title for b in Book.objects.all()]", "return [b.title async for b in Book.objects.all()]"),
        ("return list(qs)", "return [b async for b in qs]"),
        ("for b in qs.iterator():\n        b.save()", "async for b in qs.aiterator():\n        await b.asave()"),
        ("return Book.objects.filter(pk=pk).exists()", "return await Book.objects.filter(pk=pk).aexists()"),
        ("return get_object_or_404(Book, pk=pk)", "return await aget_object_or_404(Book, pk=pk)"),
        ("return request.user.pk", "return (await request.auser()).pk"),
        # sync_to_async unwrapped, keyword order, a temporary for an awaited value
        ("return render_label(x)", "return await sync_to_async(render_label)(x)"),
        ("return g(a=1, b=2)", "return g(b=2, a=1)"),
        ("Book.objects.get(pk=pk).delete()", "book = await Book.objects.aget(pk=pk)\n    await book.adelete()"),
        # logging, warnings and exception messages are not behaviour
        ("logger.info('x')\n    return 1", "logger.info('x (async)')\n    return 1"),
        ("raise ValueError('f() needs a book')", "raise ValueError(f'af() needs a book')"),
        # a sync-only helper the async twin runs in a thread
        ("with transaction.atomic():\n        book.save()", "@sync_to_async\n    def inner():\n        with transaction.atomic():\n            book.save()\n    await inner()"),
        # all() over a generator and the loop an async twin writes instead
        ("return all(ok(x) for x in xs)", "for x in xs:\n        if not await aok(x):\n            return False\n    return True"),
        # yield from, and its async spelling
        ("yield from rows", "async for row in rows:\n        yield row"),
        # httpx's module functions and its clients
        ("return httpx.get(url, timeout=5).json()", "async with httpx.AsyncClient(timeout=5) as client:\n        return (await client.get(url)).json()"),
        # time.sleep and asyncio.sleep; a bare yield to the loop
        ("time.sleep(1)", "await asyncio.sleep(1)"),
        ("return x", "await asyncio.sleep(0)\n    return x"),
        # asserts for a type checker, a nested helper's docstring
        ("return x.pk", "assert x is not None\n    return x.pk"),
        ('def g():\n        """Sync."""\n        return 1\n    return g', 'def g():\n        """Async."""\n        return 1\n    return g'),
        # a value built in two steps, and a helper run in a thread
        ("return Book.objects.get(pk=pk).title", "b = await Book.objects.aget(pk=pk)\n    b = b.title\n    return b"),
        ("book.save()", "def save():\n        book.save()\n    await sync_to_async(save)()"),
        # a branch on whether the callee is async, identical in sync form
        ("return x.run()", "if iscoroutinefunction(x.run):\n        return await x.run()\n    return await sync_to_async(x.run)()"),
    ],
)
def test_differences_of_form_only_are_equal(sync_body, async_body):
    code = (
        "import asyncio, logging, time\nimport httpx\n"
        "from asgiref.sync import sync_to_async\nfrom django.db import transaction\n"
        "from django.shortcuts import aget_object_or_404, get_object_or_404\n"
        "from inspect import iscoroutinefunction\n"
        f"def ok(x):\n    return x\nasync def aok(x):\n    return x\n"
        f"def f(request, qs, pk, book, x, xs, rows, url):\n    {sync_body}\n"
        f"async def af(request, qs, pk, book, x, xs, rows, url):\n    {async_body}\n"
    )
    verdicts = {c.pair.names: c.verdict for c in judge(code)}
    assert verdicts[("f", "af")] == twins.EQUAL


def test_the_modules_own_twins_and_names_the_sync_twin_uses_are_renamed():
    code = """
    class Repo:
        def load(self, pk):
            return self.fetch(pk)
        async def aload(self, pk):
            return await self.afetch(pk)
        def fetch(self, pk):
            return pk
        async def afetch(self, pk):
            return pk
        def send(self, client, msg):
            return client.deliver(msg)
        async def asend(self, client, msg):
            return await client.adeliver(msg)
    """
    assert {c.pair.sync.name: c.verdict for c in judge(code)} == {
        "load": twins.EQUAL,
        "fetch": twins.EQUAL,
        "send": twins.EQUAL,
    }


def test_references_to_the_modules_own_twins_and_imported_twins_are_renamed():
    code = """
    import contextvars
    from tasks import dispatch, adispatch as run_later


    def _execute(task):
        return task


    async def _aexecute(task):
        return task


    def execute(task):
        contextvars.copy_context().run(_execute, task)
        return dispatch(task)


    async def aexecute(task):
        await contextvars.copy_context().run(_aexecute, task)
        return await run_later(task)
    """
    assert {c.pair.sync.name: c.verdict for c in judge(code)}["execute"] == twins.EQUAL


def test_a_property_and_its_awaited_getter_read_alike():
    code = """
    class Session:
        _session = property(lambda self: self._get_session())
        def _get_session(self):
            return {}
        async def _aget_session(self):
            return {}
        def keys(self):
            return self._session.keys()
        async def akeys(self):
            return (await self._aget_session()).keys()
    """
    assert {c.pair.sync.name: c.verdict for c in judge(code)}["keys"] == twins.EQUAL


@pytest.mark.parametrize(
    "sync_body, async_body, sync_text, async_text",
    [
        ("x = 1\n    return x", "x = 2\n    return x", "x = 1", "x = 2"),
        ("return qs.filter(a=1)", "return qs.filter(a=2)", "return qs.filter(a=1)", "return qs.filter(a=2)"),
        ("save()\n    return 1", "return 1", "save()", None),
        ("return 1", "await notify()\n    return 1", None, "await notify()"),
    ],
)
def test_divergence_names_the_first_differing_statement_of_each_side(sync_body, async_body, sync_text, async_text):
    code = f"def f(qs):\n    {sync_body}\n\nasync def af(qs):\n    {async_body}\n"
    (comparison,) = judge(code)
    assert comparison.verdict == twins.DIVERGES
    message = twins.describe(comparison, code.splitlines())
    if sync_text:
        assert f"the sync twin runs `{sync_text}`" in message
    if async_text:
        assert f"the async twin runs `{async_text}`" in message
    if sync_text is None:
        assert "which the sync twin does not" in message
    if async_text is None:
        assert "which the async twin does not" in message


def test_divergence_inside_a_block_is_found_in_the_block():
    code = "def f(x):\n    if x:\n        a()\n        b()\n    return x\n\nasync def af(x):\n    if x:\n        await aa()\n        c()\n    return x\n"
    (comparison,) = judge(code.replace("aa()", "a()"))
    assert comparison.sync_statement.lineno == 4 and comparison.async_statement.lineno == 10


def test_different_parameters_are_a_divergence():
    (comparison,) = judge("def f(chunk_size=None):\n    return 1\nasync def af(chunk_size=2000):\n    return 1\n")
    assert comparison.verdict == twins.DIVERGES
    assert "take different parameters" in twins.describe(comparison, [])


def test_the_marker_needs_a_reason_and_may_sit_on_either_twin():
    base = "def f():\n    return 1\n{marker}async def af():\n    return 2\n"
    assert verdict(base.format(marker="# async-lint: twin-differs: the async API is v2\n")) == twins.MARKED
    assert verdict(base.format(marker="# async-lint: twin-differs:\n")) == twins.DIVERGES
    above_sync = "# async-lint: twin-differs: v2\n" + base.format(marker="")
    assert verdict(above_sync) == twins.MARKED


def test_canonical_side_comes_from_the_marker_then_the_configuration():
    code = "def f():\n    return 1\n# async-lint: twin-canonical: sync\nasync def af():\n    return 2\n"
    (comparison,) = judge(code)
    assert twins.canonical_side(comparison.pair, code.splitlines(), "async") == "sync"
    (plain,) = judge("def f():\n    return 1\nasync def af():\n    return 2\n")
    assert twins.canonical_side(plain.pair, [], "async") == "async"
    assert twins.canonical_side(plain.pair, [], None) is None


# -- the rules on snippets --------------------------------------------------------------------------


def test_noqa_on_the_reported_def_line_silences_asl501():
    code = "def f():\n    return 1\n\n\nasync def af():  # noqa: ASL501\n    return 2\n"
    assert findings(code, {"ASL501"}) == []


def test_a_regeneration_that_would_not_agree_is_not_offered():
    # `async with` over an unknown async context manager has no sync form.
    code = (
        "# async-lint: twin-canonical: async\n"
        "def f(lock):\n    return 1\n\n\n"
        "async def af(lock):\n    async with lock:\n        return 2\n"
    )
    (finding,) = findings(code, {"ASL501"})
    assert finding.fix is None
    assert fixed(code, {"ASL501"}, unsafe=True) == code


def test_regeneration_keeps_comments_decorators_and_the_docstring():
    code = (
        "import functools\n\n\n"
        "@functools.lru_cache\n"
        "def total(pks):\n"
        '    """The sum."""\n'
        "    return 0\n\n\n"
        "# async-lint: twin-canonical: async\n"
        "async def atotal(pks):\n"
        '    """The sum, async."""\n'
        "    result = 0\n"
        "    for pk in pks:  # each one\n"
        "        result += await aprice(pk)\n"
        "    return result\n\n\n"
        "def price(pk):\n    return pk\n\n\n"
        "async def aprice(pk):\n    return pk\n"
    )
    expected = code.replace(
        '    """The sum."""\n    return 0\n',
        '    """The sum."""\n    result = 0\n    for pk in pks:  # each one\n        result += price(pk)\n    return result\n',
    )
    assert fixed(code, {"ASL501"}, unsafe=True) == expected
    assert fixed(code, {"ASL501"}) == code  # unsafe only


def test_asl502_leaves_the_async_twin_itself_and_shadowed_names_alone():
    code = (
        "def load(pk):\n    return pk\n\n\n"
        "async def aload(pk):\n    return load(pk)\n\n\n"
        "async def view(load, pk):\n    return load(pk)\n"
    )
    assert findings(code, {"ASL502"}) == []


def test_asl502_fix_inside_an_expression_is_parenthesised():
    code = (
        "from asgiref.sync import sync_to_async\n\n\n"
        "class Repo:\n"
        "    def load(self):\n        return {}\n\n"
        "    async def aload(self):\n        return await sync_to_async(self.load)()\n\n"
        "    async def name(self):\n        return self.load().get('name')\n"
    )
    assert fixed(code, {"ASL502"}).endswith("        return (await self.aload()).get('name')\n")


def test_regenerated_session_writes_use_the_subscript_sessions_have():
    code = (
        "def remember(request, value):\n"
        "    request.session['k'] = value\n\n\n"
        "# async-lint: twin-canonical: async\n"
        "async def aremember(request, value):\n"
        "    await request.session.aset('k', value)\n"
        "    await request.session.aset('seen', True)\n"
    )
    assert fixed(code, {"ASL501"}, unsafe=True).startswith(
        "def remember(request, value):\n    request.session['k'] = value\n    request.session['seen'] = True\n"
    )


def test_no_regeneration_through_a_library_coroutine_with_no_sync_form():
    code = (
        "import asyncio\n\n\n"
        "def run(proc):\n    return proc.wait()\n\n\n"
        "# async-lint: twin-canonical: async\n"
        "async def arun(proc):\n    return await asyncio.wait_for(proc.wait(), 5)\n"
    )
    (finding,) = findings(code, {"ASL501"})
    assert finding.fix is None
