"""ASL6 at run time, with the installed Django: what the rules claim happens, happens, and the
code their fixes produce behaves as documented.

Each snippet is linted, fixed by async-lint, and then both the original and the fixed module are
imported and run in a subprocess (`python -m tests.test_asl6_runtime SPEC.json`), so Django's
settings never leak into the test process.

The pre-4.2 request-body bug (ASL604, ticket #34063) lives in Django's test client, which 4.2
changed: `AsyncRequestFactory.request()` used to hand `ASGIRequest` the raw `FakePayload`, and
from 4.2 wraps it in `LimitedStream`.  Only the installed Django is available to the test suite,
so `_Pre42AsyncRequestFactory` below builds the request exactly as the 4.1 factory did
(`test/client.py`, 4.1.13) on top of the installed Django's `ASGIRequest`, with
`DATA_UPLOAD_MAX_MEMORY_SIZE=None` so that the installed `HttpRequest.body` makes 4.1's single
unbounded `read()` (5.2.19 reads at most the limit + 1 bytes, which the raw payload refuses too).
The same original and fixed views were also run by hand against a real Django 4.1.13 (asgiref
3.13.0) with its own `AsyncRequestFactory` and `AsyncClient`, with the same results: multipart
`POST` raises the AssertionError, urlencoded does not, the fixed view answers both; and the
tenant set by sync middleware reaches the async view only with `Local`.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest

from .helpers import ROOT, findings, fixed

# -- the snippets: each is linted and fixed, then run ---------------------------------------------

ACROSS_THREADS = textwrap.dedent(
    """\
    import threading

    from asgiref.sync import sync_to_async

    _locals = threading.local()


    def read_user():
        return getattr(_locals, "user", None)


    async def view(request):
        _locals.user = request.user
        return await sync_to_async(read_user)()
    """
)

INTERLEAVED = textwrap.dedent(
    """\
    import asyncio
    import threading

    _locals = threading.local()


    async def whoami(request):
        _locals.user = request.user
        await asyncio.sleep(0.01)  # another request runs here
        return _locals.user
    """
)

# Sync middleware (run in a worker thread under ASGI) stores the tenant; an async view reads it.
MIDDLEWARE_AND_ASYNC_VIEW = textwrap.dedent(
    """\
    from threading import local

    from django.http import HttpResponse
    from django.urls import path
    from django.utils.deprecation import MiddlewareMixin

    _state = local()


    class TenantMiddleware(MiddlewareMixin):
        def process_request(self, request):
            _state.tenant = request.headers.get("X-Tenant")


    def current_tenant():
        return getattr(_state, "tenant", None)


    async def dashboard(request):
        return HttpResponse(str(current_tenant()))


    urlpatterns = [path("dashboard", dashboard)]
    """
)

# A thread-local kept on the middleware instance: one for every request of the worker.
CLASS_LOCAL = textwrap.dedent(
    """\
    import asyncio
    import threading


    class CurrentUserMiddleware:
        def __init__(self, get_response):
            self.get_response = get_response
            self._state = threading.local()

        async def __call__(self, request):
            self._state.user = request.user
            return await self.get_response(request)

        def current_user(self):
            return getattr(self._state, "user", None)
    """
)

# Per-request data on the one middleware instance Django builds (ASL605, no fix).
INSTANCE_STATE = textwrap.dedent(
    """\
    class AuditMiddleware:
        def __init__(self, get_response):
            self.get_response = get_response

        async def __call__(self, request):
            self.user = request.user
            response = await self.get_response(request)
            return [response, self.user]
    """
)

GLOBAL_USER = textwrap.dedent(
    """\
    import asyncio

    _current_user = None


    async def whoami(request):
        global _current_user
        _current_user = request.user
        await asyncio.sleep(0.01)  # another request runs here
        return _current_user
    """
)

POST_VIEW = textwrap.dedent(
    """\
    from django.http import HttpResponse


    async def upload(request):
        name = request.POST.get("name", "-")
        return HttpResponse(name + "|" + ",".join(sorted(request.FILES)))
    """
)


def _fixed(code: str, rule: str, target: str | None = None, unsafe: bool = False) -> str:
    found = findings(code, {rule}, target)
    assert len(found) == 1, [f.message for f in found]
    result = fixed(code, {rule}, target, unsafe=unsafe)
    assert result != code
    return result


@pytest.fixture(scope="module")
def outcome(tmp_path_factory) -> dict:
    directory = tmp_path_factory.mktemp("asl6_runtime")
    modules = {
        "across_original": ACROSS_THREADS,
        "across_fixed": _fixed(ACROSS_THREADS, "ASL601"),
        "interleaved_original": INTERLEAVED,
        "interleaved_fixed": _fixed(INTERLEAVED, "ASL601"),
        "middleware_original": MIDDLEWARE_AND_ASYNC_VIEW,
        "middleware_fixed": _fixed(MIDDLEWARE_AND_ASYNC_VIEW, "ASL601"),
        "class_local_original": CLASS_LOCAL,
        "class_local_fixed": _fixed(CLASS_LOCAL, "ASL601", unsafe=True),
        "instance_state_original": INSTANCE_STATE,
        "global_original": GLOBAL_USER,
        "post_original": POST_VIEW,
        "post_fixed": _fixed(POST_VIEW, "ASL604", "4.1", unsafe=True),
    }
    assert len(findings(INSTANCE_STATE, {"ASL605"})) == 1
    assert findings(GLOBAL_USER, {"ASL602"})  # the leak below is one ASL602 reports
    for name, code in modules.items():
        (directory / f"{name}.py").write_text(code)
    process = subprocess.run(
        [sys.executable, "-m", "tests.test_asl6_runtime", str(directory)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert process.returncode == 0, process.stderr
    return {"modules": modules, **json.loads(process.stdout)}


# -- ASL601 ---------------------------------------------------------------------------------


def test_fix_replaces_threading_local_with_asgiref_local(outcome):
    assert "_locals = Local()" in outcome["modules"]["across_fixed"]
    assert "from asgiref.local import Local" in outcome["modules"]["across_fixed"]


def test_threading_local_set_on_the_loop_is_lost_in_sync_to_async_and_local_keeps_it(outcome):
    assert outcome["across"] == {"original": None, "fixed": "alice"}


def test_threading_local_leaks_between_interleaved_requests_and_local_does_not(outcome):
    assert outcome["interleaved"] == {"original": ["bob", "bob"], "fixed": ["alice", "bob"]}


def test_value_stored_by_sync_middleware_reaches_the_async_view_only_after_the_fix(outcome):
    # A real request through Django's handler (AsyncClient): MiddlewareMixin runs
    # process_request in a worker thread, the async view runs on the loop.
    assert outcome["middleware"] == {"original": "None", "fixed": "acme"}


def test_fix_replaces_a_thread_local_kept_on_the_middleware(outcome):
    assert "self._state = Local()" in outcome["modules"]["class_local_fixed"]


def test_thread_local_on_the_middleware_leaks_between_interleaved_requests_and_local_does_not(outcome):
    assert outcome["class_local"] == {"original": ["bob", "bob"], "fixed": ["alice", "bob"]}


# -- ASL605 ---------------------------------------------------------------------------------


def test_value_on_the_middleware_instance_leaks_between_interleaved_requests(outcome):
    assert outcome["instance_state"] == [["alice", "bob"], ["bob", "bob"]]


# -- ASL602 ---------------------------------------------------------------------------------


def test_module_global_leaks_between_interleaved_requests(outcome):
    assert outcome["global"] == ["bob", "bob"]


# -- ASL603 ---------------------------------------------------------------------------------


def test_any_non_empty_value_turns_the_check_off_and_putenv_does_not_reach_this_process(outcome):
    assert outcome["allow_async_unsafe"] == {
        "unset": "SynchronousOnlyOperation",
        "empty": "SynchronousOnlyOperation",
        "0": "ran",
        "false": "ran",
        "putenv": "SynchronousOnlyOperation",
    }


# -- ASL604 ---------------------------------------------------------------------------------


def test_fix_reads_the_body_before_post(outcome):
    assert "    request.body  # noqa: B018" in outcome["modules"]["post_fixed"]


def test_post_before_body_fails_under_the_pre_42_async_factory_and_the_fix_works(outcome):
    pre42 = outcome["post"]["pre42"]
    assert pre42["original"]["multipart"] == "AssertionError: Cannot read more than the available bytes from the HTTP incoming data."
    assert pre42["original"]["urlencoded"] == "200 x|"  # urlencoded POST already reads the body
    assert pre42["fixed"] == {"multipart": "200 x|f", "urlencoded": "200 x|"}


def test_installed_django_needs_no_fix(outcome):
    assert outcome["post"]["installed"]["original"] == {"multipart": "200 x|f", "urlencoded": "200 x|"}


def test_the_fix_is_unsafe_for_uploads_above_data_upload_max_memory_size(outcome):
    # Why ASL604's fix is marked unsafe: request.FILES streams a large upload to disk, while
    # reading request.body first applies DATA_UPLOAD_MAX_MEMORY_SIZE to the whole body.
    assert outcome["post"]["large_upload"] == {"original": "200 -|f", "fixed": "RequestDataTooBig"}


# -- the subprocess -------------------------------------------------------------------------


def _run(directory: str) -> dict:
    import asyncio
    import contextlib
    import importlib
    import os
    from types import SimpleNamespace

    import django
    from django.conf import settings

    sys.path.insert(0, directory)
    settings.configure(
        DEBUG=False,
        SECRET_KEY="asl6",
        ALLOWED_HOSTS=["*"],
        ROOT_URLCONF="middleware_original",
        MIDDLEWARE=[],
        DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}},
        INSTALLED_APPS=[],
    )
    django.setup()

    from django.core.exceptions import SynchronousOnlyOperation
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.core.handlers.asgi import ASGIRequest
    from django.test import AsyncClient, AsyncRequestFactory, override_settings
    from django.test.client import FakePayload
    from django.utils.asyncio import async_unsafe

    module = importlib.import_module
    result: dict = {}

    async def across():
        return {
            variant: await module(f"across_{variant}").view(SimpleNamespace(user="alice"))
            for variant in ("original", "fixed")
        }

    async def interleaved(name: str):
        whoami = module(name).whoami
        return list(await asyncio.gather(whoami(SimpleNamespace(user="alice")), whoami(SimpleNamespace(user="bob"))))

    async def middleware():
        found = {}
        for variant in ("original", "fixed"):
            with override_settings(ROOT_URLCONF=f"middleware_{variant}", MIDDLEWARE=[f"middleware_{variant}.TenantMiddleware"]):
                response = await AsyncClient().get("/dashboard", headers={"X-Tenant": "acme"})
                found[variant] = response.content.decode()
        return found

    async def one_middleware_two_requests(middleware_class, answer):
        """Django builds each middleware once: two interleaved requests through one instance.
        The view yields to the other request, then answers `answer(instance, request)`."""

        async def view(request):
            await asyncio.sleep(0.01)
            return answer(instance, request)

        instance = middleware_class(view)
        return list(await asyncio.gather(*(instance(SimpleNamespace(user=user)) for user in ("alice", "bob"))))

    @async_unsafe
    def guarded():
        return "ran"

    async def call_guarded():
        try:
            return guarded()
        except SynchronousOnlyOperation:
            return "SynchronousOnlyOperation"

    def allow_async_unsafe():
        found = {}
        for label, value in (("unset", None), ("empty", ""), ("0", "0"), ("false", "false")):
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
            if value is not None:
                os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = value
            found[label] = asyncio.run(call_guarded())
        os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        os.putenv("DJANGO_ALLOW_ASYNC_UNSAFE", "1")
        found["putenv"] = asyncio.run(call_guarded())
        os.unsetenv("DJANGO_ALLOW_ASYNC_UNSAFE")
        return found

    class _Pre42AsyncRequestFactory(AsyncRequestFactory):
        """`AsyncRequestFactory.request()` as Django 3.1–4.1 wrote it: no `LimitedStream`."""

        def request(self, **request):
            body_file = request.pop("_body_file") if "_body_file" in request else FakePayload("")
            return ASGIRequest(self._base_scope(**request), body_file)

    async def post_outcome(factory, view, data):
        try:
            response = await view(factory.post("/upload", **data))
            return f"{response.status_code} {response.content.decode()}"
        except Exception as error:  # noqa: BLE001 - the exception is the outcome
            return f"{type(error).__name__}: {error}" if isinstance(error, AssertionError) else type(error).__name__

    def bodies():
        return {
            "multipart": {"data": {"name": "x", "f": SimpleUploadedFile("f.txt", b"hello")}},
            "urlencoded": {"data": "name=x", "content_type": "application/x-www-form-urlencoded"},
        }

    async def post():
        found: dict = {"pre42": {}, "installed": {}}
        # 4.1's `HttpRequest.body` was one unbounded `self.read()`; 5.2.19 reads at most
        # DATA_UPLOAD_MAX_MEMORY_SIZE + 1 bytes, which the raw payload would refuse as well.
        # Without the limit the installed `body` makes 4.1's call.
        pre42_body = override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=None)
        for label, factory in (("pre42", _Pre42AsyncRequestFactory()), ("installed", AsyncRequestFactory())):
            for variant in ("original", "fixed"):
                view = module(f"post_{variant}").upload
                with pre42_body if label == "pre42" else contextlib.nullcontext():
                    found[label][variant] = {
                        kind: await post_outcome(factory, view, data) for kind, data in bodies().items()
                    }
        big = {"data": {"f": SimpleUploadedFile("big.bin", b"x" * 3_000_000)}}
        found["large_upload"] = {}
        for variant in ("original", "fixed"):
            big["data"]["f"].seek(0)
            found["large_upload"][variant] = await post_outcome(AsyncRequestFactory(), module(f"post_{variant}").upload, big)
        return found

    result["across"] = asyncio.run(across())
    result["interleaved"] = {
        "original": asyncio.run(interleaved("interleaved_original")),
        "fixed": asyncio.run(interleaved("interleaved_fixed")),
    }
    result["middleware"] = asyncio.run(middleware())
    result["class_local"] = {
        variant: asyncio.run(
            one_middleware_two_requests(
                module(f"class_local_{variant}").CurrentUserMiddleware, lambda instance, request: instance.current_user()
            )
        )
        for variant in ("original", "fixed")
    }
    result["instance_state"] = asyncio.run(
        one_middleware_two_requests(module("instance_state_original").AuditMiddleware, lambda instance, request: request.user)
    )
    result["global"] = asyncio.run(interleaved("global_original"))
    result["allow_async_unsafe"] = allow_async_unsafe()
    result["post"] = asyncio.run(post())
    return result


if __name__ == "__main__":
    import io
    import logging

    logging.disable(logging.CRITICAL)  # Django logs the expected request errors
    captured, sys.stdout = sys.stdout, io.StringIO()
    try:
        outcome_data = _run(sys.argv[1])
    finally:
        sys.stdout = captured
    print(json.dumps(outcome_data))
