"""ASL5: how twin pairs are found, translated, brought to one form, compared and described
(`async_lint.twins`), beyond the rules' documented examples."""

from __future__ import annotations

import ast
import re
import textwrap

import pytest

from async_lint import twins
from async_lint.config import CANONICAL_SIDES, DEFAULT_TWIN_PATTERNS, TwinSettings
from async_lint.imports import import_bindings
from async_lint.source import SourceFile
from async_lint.twins.comparison import EFFECT, EXCEPTION, GUARD, PARAMETER, RETURN, VALUE
from async_lint.twins.pairs import canonical_side
from async_lint.twins.presentation import FIRST_LINE, describe

from .helpers import findings, fixed


def judge(code: str, patterns=DEFAULT_TWIN_PATTERNS, path: str = "library/snippet.py") -> list[twins.Comparison]:
    code = textwrap.dedent(code)
    tree = ast.parse(code)
    file_twins = twins.FileTwins(
        SourceFile(path, code), tree, import_bindings(tree, "library.snippet", False), TwinSettings(tuple(patterns))
    )
    return [file_twins.comparison(pair) for pair in file_twins.pairs]


def verdict(code: str, patterns=DEFAULT_TWIN_PATTERNS) -> str:
    (comparison,) = judge(code, patterns)
    return comparison.verdict


def kinds(code: str) -> list[str]:
    (comparison,) = judge(code)
    return [d.kind for d in comparison.differences]


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
    "code, path",
    [
        ("def test_x():\n    assert f() == 1\nasync def test_x_async():\n    assert await af() == 2\n", "app/checks.py"),
        ("class TestViews:\n    def load(self):\n        return 1\n    async def aload(self):\n        return 2\n", "app/checks.py"),
        ("class ViewTests(TestCase):\n    def load(self):\n        return 1\n    async def aload(self):\n        return 2\n", "app/checks.py"),
        ("def endpoint(request):\n    return 'a'\nasync def async_endpoint(request):\n    return 'b'\n", "tests/test_views.py"),
    ],
)
def test_test_code_is_not_compared(code, path):
    (comparison,) = judge(code, path=path)
    assert comparison.verdict == twins.TEST


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
        # session reads: `session[k]`, or `aget(k)` and the missing-key check
        ("return request.session['k']", "value = await request.session.aget('k')\n    if value is None:\n        raise KeyError()\n    return value"),
        ("try:\n        del request.session['k']\n    except KeyError:\n        pass", "try:\n        await request.session.apop('k')\n    except KeyError:\n        pass"),
        # a materialised temporary, and sync_to_async over a lambda
        ("return sorted(qs)", "rows = [row async for row in qs]\n    return sorted(rows)"),
        ("return len(qs)", "return await sync_to_async(lambda: len(qs))()"),
        # mirror-image adapters
        ("if iscoroutinefunction(x):\n        x = async_to_sync(x)\n    return x()", "if not iscoroutinefunction(x):\n        x = sync_to_async(x)\n    return await x()"),
        # subprocess and its asyncio form
        ("done = subprocess.run([x, url], stdout=subprocess.PIPE)\n    if done.returncode != 0:\n        raise RuntimeError(done.stderr)\n    return done.stdout",
         "proc = await asyncio.create_subprocess_exec(x, url, stdout=asyncio.subprocess.PIPE)\n    out, err = await proc.communicate()\n    if proc.returncode != 0:\n        raise RuntimeError(err)\n    return out"),
        # a file handle and the bytes read first
        ("with open(url, 'rb') as handle:\n        return httpx.post(x, files={'f': handle})", "async with aiofiles.open(url, 'rb') as handle:\n        data = await handle.read()\n        return await httpx.AsyncClient().post(x, files={'f': data})"),
        # a loop and asyncio.gather over the same per-item call
        ("return [ok(x) for x in xs]", "return await asyncio.gather(*(aok(x) for x in xs))"),
        # a lock and the double-checked locking only the async twin needs
        ("if x.cached:\n        return x.cached\n    x.cached = ok(x)\n    return x.cached",
         "if x.cached:\n        return x.cached\n    if x._async_lock is None:\n        x._async_lock = asyncio.Lock()\n    async with x._async_lock:\n        if x.cached:\n            return x.cached\n        x.cached = await aok(x)\n        return x.cached"),
        # iter/next, with/async with, close/aclose
        ("return next(iter(rows))", "return await anext(aiter(rows))"),
        ("with x.open() as y:\n        y.close()", "async with x.open() as y:\n        await y.aclose()"),
        # a version shim for Djangos without the async API
        ("return request.user.pk", "if hasattr(request, 'auser'):\n        user = await request.auser()\n    else:\n        user = await get_user(request)\n    return user.pk"),
        # the same statements in another order where none depends on the other
        ("x.a = 1\n    x.b = 2", "x.b = 2\n    x.a = 1"),
        # a check that only the async twin needs (an asyncio.CancelledError handler that re-raises)
        ("return ok(x)", "try:\n        return await aok(x)\n    except asyncio.CancelledError:\n        logger.info('cancelled')\n        raise"),
    ],
)
def test_differences_of_form_only_are_equal(sync_body, async_body):
    assert_equal(sync_body, async_body)


@pytest.mark.parametrize(
    "sync_body, async_body",
    [
        # a loop over field tuples taken from a queryset first
        ("for r in qs:\n        ok(r.role)", "rows = [(r.role, r.pk) async for r in qs]\n    for role, pk in rows:\n        await aok(role)"),
        # a list filled by a loop, another statement between
        ("found = []\n    n = len(xs)\n    for v in xs:\n        found.append(ok(v))\n    return found, n", "n = len(xs)\n    return [await aok(v) for v in xs], n"),
        # one HTTP body under requests' and httpx's names
        ("return x.post(url, data=book)", "return await x.post(url, content=book)"),
        # an optional import
        ("return ok(x)", "try:\n        import orjson\n    except ImportError:\n        pass\n    return await aok(x)"),
        # getattr with a literal name
        ("return x.pk", "return getattr(x, 'pk')"),
        # an object the twin makes and sets up, and closes
        ("s = requests.Session()\n    s.headers.update({'a': '1'})\n    return s.get(url)",
         "async with httpx.AsyncClient(headers={'a': '1'}, follow_redirects=True) as c:\n        response = await c.get(url)\n    await c.aclose()\n    return response"),
        # a lazily made resource the other twin does not name
        ("return ok(x)", "if x._async_pool is None:\n        x._async_pool = make_pool()\n        await x._async_pool.start()\n    return await aok(x)"),
    ],
)
def test_more_differences_of_form_only_are_equal(sync_body, async_body):
    assert_equal(sync_body, async_body)


def assert_equal(sync_body: str, async_body: str) -> None:
    code = (
        "import asyncio, logging, subprocess, time\nimport aiofiles, httpx, requests\n"
        "from asgiref.sync import async_to_sync, sync_to_async\nfrom django.db import transaction\n"
        "from django.shortcuts import aget_object_or_404, get_object_or_404\n"
        "from inspect import iscoroutinefunction\n"
        "logger = logging.getLogger(__name__)\n"
        f"def ok(x):\n    return x\nasync def aok(x):\n    return x\n"
        f"def f(request, qs, pk, book, x, xs, rows, url):\n    {sync_body}\n"
        f"async def af(request, qs, pk, book, x, xs, rows, url):\n    {async_body}\n"
    )
    (comparison,) = [c for c in judge(code) if c.pair.names == ("f", "af")]
    assert comparison.verdict == twins.EQUAL, [(d.kind, ast.unparse(d.sync or d.async_)) for d in comparison.differences]


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


def test_a_helper_called_on_one_side_is_read_through_its_body():
    code = """
    class Backend:
        def set(self, key, value):
            old = self.get(key)
            self._store.set(key, value)
            changed.send(sender=self, key=key, old=old, new=value)

        async def aset(self, key, value):
            old = await self.aget(key)
            await self._aset_internal(key, value, old)

        async def _aset_internal(self, key, value, old):
            await self._store.aset(key, value)
            await changed.asend(sender=self, key=key, old=old, new=value)

        def get(self, key):
            return self._store.get(key)

        async def aget(self, key):
            return await self._store.aget(key)
    """
    assert {c.pair.sync.name: c.verdict for c in judge(code)}["set"] == twins.EQUAL


@pytest.mark.parametrize(
    "sync_body, async_body, kind",
    [
        # a guard on one side only
        ("if not x.ok:\n        raise ValueError('no')\n    x.save()", "await x.asave()", GUARD),
        # another exception class
        ("raise ValueError('no')", "raise TypeError('no')", EXCEPTION),
        # an exception caught and swallowed on one side only
        ("try:\n        x.save()\n    except IntegrityError:\n        pass", "await x.asave()", EXCEPTION),
        # a write on one side only: ORM, session, attribute
        ("x.save()\n    x.log.create(x=1)", "await x.asave()", EFFECT),
        ("request.session['seen'] = True\n    return 1", "return 1", EFFECT),
        ("x.modified = True\n    del x.data['k']", "del x.data['k']", EFFECT),
        # the same write with other arguments
        ("x.save(update_fields=['a'])", "await x.asave()", EFFECT),
        # another shape of result
        ("return (x, 1)", "return (x, 1, 2)", RETURN),
        ("return {'a': x}", "return {'a': x, 'b': 1}", RETURN),
        ("x.save()", "await x.asave()\n    return x", RETURN),
        # a value computed from other data
        ("key = request.META['REMOTE_USER']\n    x.login(key)", "key = request.META['HTTP_REMOTE_USER']\n    await x.alogin(key)", VALUE),
        # a result computed from more inputs
        ("return pick(qs or x)", "return pick(choose(qs, request, x))", RETURN),
        ("return qs.filter(published=True)", "return qs.filter()", RETURN),
        # a write made in two places on one side, in one on the other
        ("try:\n        x.load()\n    except ImportError:\n        logout(request)\n    else:\n        logout(request)",
         "try:\n        await x.aload()\n    except ImportError:\n        pass\n    else:\n        await alogout(request)", EFFECT),
        # an object made for its call alone (Django's timing-attack mitigation)
        ("x.save()\n    User().set_password(qs)", "await x.asave()", EFFECT),
        # a deadline on one side only
        ("return x.wait()", "return await asyncio.wait_for(x.wait(), 5)", RETURN),
        # an input one twin fills in
        ("return x.run()", "if x is None:\n        x = default()\n    return await x.arun()", PARAMETER),
    ],
)
def test_what_changes_behaviour_is_reported_by_kind(sync_body, async_body, kind):
    code = (
        "import asyncio\nfrom django.contrib.auth import alogout, logout\n\n"
        f"def f(request, qs, x):\n    {sync_body}\n\nasync def af(request, qs, x):\n    {async_body}\n"
    )
    assert kinds(code)[0] == kind


@pytest.mark.parametrize(
    "sync, async_, detail",
    [
        # a parameter the other twin's **kwargs swallows
        ("def f(pk, overwrite=True, **kwargs):\n    return overwrite", "async def af(pk, **kwargs):\n    return True", "`af()` has no parameter `overwrite`: its `**kwargs` takes it and ignores it"),
        # a default that differs
        ("def f(chunk_size=None):\n    return chunk_size", "async def af(chunk_size=2000):\n    return chunk_size", "`chunk_size` defaults to `None` in `f()` and to `2000` in `af()`"),
        # a parameter one twin never reads
        ("def f(pk, timeout):\n    return get(pk, timeout=timeout)", "async def af(pk, timeout):\n    return get(pk)", "`af()` never reads its parameter `timeout`; `f()` does"),
    ],
)
def test_parameters_one_twin_ignores_or_defaults_otherwise(sync, async_, detail):
    (comparison,) = judge(f"{sync}\n\n{async_}\n")
    assert comparison.verdict == twins.DIVERGES
    assert any(d.kind == PARAMETER and d.detail == detail for d in comparison.differences)


@pytest.mark.parametrize(
    "sync, async_",
    [
        # only the parameter names differ
        ("def __exit__(self, exc_type, exc_val, exc_tb):\n    self.close()", "async def __aexit__(self, exc_type, exc, tb):\n    await self.aclose()"),
        # an extra input one twin takes where the other reads an attribute (an interface difference)
        ("def f(self):\n    if self.page is None:\n        return None\n    return self.page.title()",
         "async def af(self, page):\n    if page is None:\n        return None\n    return await page.title()"),
    ],
)
def test_interface_differences_are_not_divergences(sync, async_):
    code = "class C:\n" + textwrap.indent(f"{sync}\n\n{async_}\n", "    ")
    assert verdict(code) == twins.EQUAL


def test_a_helper_inherited_from_a_base_of_the_module_is_read_through_its_body():
    code = """
    class Backend:
        def set(self, key, value):
            self._store.set(key, value)
            changed.send(sender=self, key=key)

        async def _aset_internal(self, key, value):
            await self._astore.aset(key, value)
            await changed.asend(sender=self, key=key)


    class CachingBackend(Backend):
        def set(self, key, value):
            with self._lock:
                super().set(key, value)
                self._remember(key, value)

        async def aset(self, key, value):
            async with self._get_async_lock():
                await self._aset_internal(key, value)
                self._remember(key, value)
    """
    verdicts = {(c.pair.owner.name, c.pair.sync.name): c.verdict for c in judge(code)}
    assert verdicts[("CachingBackend", "set")] == twins.EQUAL


def test_an_async_twin_loading_a_relation_before_it_is_read_is_not_a_write():
    code = textwrap.dedent(
        """
        def dispatch(payload):
            task = Task.objects.create(**payload)
            return task

        async def adispatch(payload):
            task = await Task.objects.acreate(**payload)
            task.domain = get_domain()
            return task
        """
    )
    tree = ast.parse(code)
    relations = frozenset({"domain"})
    found = twins.FileTwins(SourceFile("app/tasks.py", code), tree, {}, TwinSettings(), relations)
    (pair,) = found.pairs
    assert found.comparison(pair).verdict == twins.EQUAL
    without = twins.FileTwins(SourceFile("app/tasks.py", code), tree, {}, TwinSettings())
    assert without.comparison(pair).verdict == twins.DIVERGES


def test_protocol_pairs_count_only_effects():
    code = """
    class Stream:
        def __iter__(self):
            if self.closed:
                raise ValueError('closed')
            return iter(self.rows)

        async def __aiter__(self):
            for row in self.rows:
                yield row
    """
    assert verdict(code) == twins.EQUAL


def test_django_remote_user_header_divergence_is_found():
    """RemoteUserMiddleware.aprocess_request built its header name differently from
    process_request (Django ticket #36300); the shape of Django 5.2's two methods."""
    code = """
    class RemoteUserMiddleware:
        header = "REMOTE_USER"

        def process_request(self, request):
            try:
                username = request.META[self.header]
            except KeyError:
                return
            if request.user.is_authenticated:
                if request.user.get_username() == self.clean_username(username, request):
                    return
            user = auth.authenticate(request, remote_user=username)
            if user:
                request.user = user
                auth.login(request, user)

        async def aprocess_request(self, request):
            try:
                username = request.META["HTTP_" + self.header]
            except KeyError:
                return
            user = await request.auser()
            if user.is_authenticated:
                if user.get_username() == self.clean_username(username, request):
                    return
            user = await auth.aauthenticate(request, remote_user=username)
            if user:
                request.user = user
                await auth.alogin(request, user)
    """
    (comparison,) = judge(code)
    assert comparison.verdict == twins.DIVERGES
    message, _ = describe(comparison, textwrap.dedent(code).splitlines())
    assert "request.META[self.header]" in message and '"HTTP_" + self.header' in message


def test_django_session_test_cookie_divergence_is_found():
    """SessionBase.adelete_test_cookie deletes from the session data, not through
    `__delitem__`, so it does not mark the session modified as delete_test_cookie does."""
    code = """
    class SessionBase:
        def __delitem__(self, key):
            del self._session[key]
            self.modified = True

        def _get_session(self):
            return self._session_cache

        async def _aget_session(self):
            return self._session_cache

        def delete_test_cookie(self):
            del self[self.TEST_COOKIE_NAME]

        async def adelete_test_cookie(self):
            del (await self._aget_session())[self.TEST_COOKIE_NAME]
    """
    verdicts = {c.pair.sync.name: c for c in judge(code)}
    comparison = verdicts["delete_test_cookie"]
    assert comparison.verdict == twins.DIVERGES
    assert comparison.differences[0].kind == EFFECT


def test_a_finding_names_one_difference_in_at_most_120_characters_and_the_rest_in_notes():
    code = (
        "def f(request, x):\n"
        "    if not request.user.has_perm('library.change_book_with_a_very_long_permission_name'):\n"
        "        raise PermissionDenied('no')\n"
        "    x.save(update_fields=['title', 'subtitle', 'author', 'publisher', 'pages'])\n"
        "    return x\n\n"
        "async def af(request, x):\n"
        "    await x.asave()\n"
    )
    (comparison,) = judge(code)
    message, notes = describe(comparison, code.splitlines())
    assert len(message) <= FIRST_LINE
    assert message.startswith("Only the sync twin checks")
    assert any("(line 2)" in note for note in notes)
    assert any("update_fields=" in note and "(line 4)" in note for note in notes)


def test_the_first_line_shows_the_dropped_argument_in_whole_names_and_each_statement_once():
    """From FachuanHybridSystem's hbfy scraper: the async twin drops the request's timeout (the
    client object differs too, which is form).  The statement differs as a write, a result and a
    value: one note says so."""
    code = (
        "def find(self, session, msg):\n"
        "    resp = session.post(\n"
        "        self._PUBLIC_FIND_SMS_INFO_URL,\n"
        "        params={'t': str(int(time.time() * 1000)), 'msg': msg},\n"
        "        timeout=20,\n"
        "    )\n"
        "    return resp.json()\n\n"
        "async def afind(self, client, msg):\n"
        "    resp = await client.post(\n"
        "        self._PUBLIC_FIND_SMS_INFO_URL,\n"
        "        params={'t': str(int(time.time() * 1000)), 'msg': msg},\n"
        "    )\n"
        "    return resp.json()\n"
    )
    (comparison,) = judge(code)
    message, notes = describe(comparison, code.splitlines())
    assert len(message) <= FIRST_LINE
    assert "timeout=20)`" in message, message
    for cut in re.findall(r"…(\w+)|(\w+)…", message):  # a cut never falls inside a name
        word = cut[0] or cut[1]
        assert re.search(rf"\b{word}\b", code), (word, message)
    statement_notes = [n for n in notes if "(line 2)" in n]
    assert len(statement_notes) == 1
    assert "session.post(self._PUBLIC_FIND_SMS_INFO_URL, params=" in statement_notes[0]  # laid out on one line


def test_the_marker_needs_a_reason_and_may_sit_on_either_twin():
    base = "def f():\n    return 1\n{marker}async def af():\n    return 2\n"
    assert verdict(base.format(marker="# async-lint: twin-differs: the async API is v2\n")) == twins.MARKED
    assert verdict(base.format(marker="# async-lint: twin-differs:\n")) == twins.DIVERGES
    above_sync = "# async-lint: twin-differs: v2\n" + base.format(marker="")
    assert verdict(above_sync) == twins.MARKED


def test_canonical_side_comes_from_the_marker_then_the_configuration():
    code = "def f():\n    return 1\n# async-lint: twin-canonical: sync\nasync def af():\n    return 2\n"
    (comparison,) = judge(code)
    assert canonical_side(comparison.pair, code.splitlines(), "async", CANONICAL_SIDES) == "sync"
    (plain,) = judge("def f():\n    return 1\nasync def af():\n    return 2\n")
    assert canonical_side(plain.pair, [], "async", CANONICAL_SIDES) == "async"
    assert canonical_side(plain.pair, [], None, CANONICAL_SIDES) is None


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


_FETCH = """
import aiohttp
import httpx
import requests


def fetch(url):
    {sync}
    return response.text


async def afetch(url):
    {async_}
    return response.text
"""


@pytest.mark.parametrize(
    ("sync", "async_", "expected"),
    [
        # From FachuanHybridSystem's hbfy scraper: requests follows redirects, httpx does not.
        (
            "response = requests.Session().get(url)",
            "async with httpx.AsyncClient(timeout=30) as client:\n        response = await client.get(url)",
            "Only the sync twin's HTTP client follows redirects (httpx needs `follow_redirects=True`)",
        ),
        (
            "response = httpx.get(url, follow_redirects=True)",
            "response = await httpx.AsyncClient().get(url)",
            "Only the sync twin's HTTP client follows redirects (httpx needs `follow_redirects=True`)",
        ),
        (
            "response = requests.get(url, allow_redirects=False)",
            "async with aiohttp.ClientSession() as session:\n        response = await session.get(url)",
            "Only the async twin's HTTP client follows redirects",
        ),
        # The same policy on both sides.
        (
            "response = requests.get(url)",
            "async with httpx.AsyncClient(follow_redirects=True) as client:\n        response = await client.get(url)",
            None,
        ),
        ("response = httpx.Client().get(url)", "response = await httpx.AsyncClient().get(url)", None),
        (
            "response = requests.get(url)",
            "async with aiohttp.ClientSession() as session:\n        response = await session.get(url)",
            None,
        ),
        # Set per request or not as a literal: not known from the code.
        (
            "response = requests.get(url)",
            "response = await httpx.AsyncClient().get(url, follow_redirects=True)",
            None,
        ),
        (
            "response = requests.get(url)",
            "client = httpx.AsyncClient()\n    client.follow_redirects = True\n    response = await client.get(url)",
            None,
        ),
    ],
)
def test_an_http_client_that_follows_redirects_on_one_side_only(sync, async_, expected):
    code = _FETCH.format(sync=sync, async_=async_)
    (comparison,) = judge(code)
    if expected is None:
        assert comparison.verdict == twins.EQUAL, comparison.differences
        return
    assert comparison.verdict == twins.DIVERGES
    message, notes = describe(comparison, code.splitlines())
    assert message.startswith(expected)
    assert "(line 8)" in notes[0] and re.search(r"\(line 1[34]\)", notes[0])
