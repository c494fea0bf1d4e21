"""ASL4 under real Django 5.2 with `AsyncClient`: each middleware of the fixture app
(fixtures/project/asyncparts/middleware.py) is the whole middleware stack of a handler, each view
is routed, before and after the real CLI's `--fix` (probes in tests/test_asl34_probes.py).

- unmarked `async def __call__`, or a sync `__call__` returning `self.__acall__(request)` in
  async mode (ASL401): `Http404` raised in it escapes the handler as an exception; after the
  fix it is a 404 response;
- the legacy `_is_coroutine` marker (ASL402): the same escape on Python 3.12+ (run when an
  interpreter with Django is found), a 404 after the fix; on 3.11 the marker still works;
- no flags (ASL403) and an undecorated factory (ASL405): every request fails, then works;
- a sync `__call__` declared `async_capable = True` without a marker (ASL403): Django hands it a
  coroutine and every request fails (TypeError); the fix declares it sync-only and it serves;
- marked with a sync `__call__` (ASL404, no fix): fails before and after;
- mixed handlers (ASL406): `as_view()` raises ImproperlyConfigured before, serves after;
  `async def dispatch` with sync handlers (ASL407): ValueError before, 200 after;
- a sync `options()` / `http_method_not_allowed()` on an async view (ASL412): the OPTIONS or
  POST request fails (TypeError) before, answers after.
"""

from __future__ import annotations

from collections import Counter

import pytest

from .fixture_oracle import cli, findings_of
from .test_asl34_probes import copy_app, other_python_with_django, run_probes

SELECT = ("--select", "ASL4", "--target-version", "5.2")
EXPECTED = Counter(
    {"ASL401": 2, "ASL402": 1, "ASL403": 2, "ASL404": 1, "ASL405": 1, "ASL406": 2, "ASL407": 1, "ASL412": 2}
)
NOT_FOUND = {"outcome": "returned", "value": {"status": 404, "x_async": None}}


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    base = tmp_path_factory.mktemp("asl4")
    folders = {name: copy_app(base, name) for name in ("original", "safe", "unsafe")}
    found = findings_of(cli(["asyncparts"], *SELECT, cwd=folders["original"]))
    left_safe = findings_of(cli(["asyncparts"], *SELECT, "--fix", cwd=folders["safe"]))
    left_unsafe = findings_of(cli(["asyncparts"], *SELECT, "--fix", "--unsafe-fixes", cwd=folders["unsafe"]))
    observed = {name: run_probes(folder) for name, folder in folders.items()}
    return {"found": found, "left_safe": left_safe, "left_unsafe": left_unsafe, "folders": folders, "observed": observed}


def _middleware(runs, variant, name):
    return runs["observed"][variant]["middleware"][name]


def test_findings(runs):
    assert Counter(f["code"] for f in runs["found"]) == EXPECTED
    assert Counter(f["code"] for f in runs["left_safe"]) == Counter({"ASL404": 1, "ASL406": 2, "ASL407": 1})
    assert Counter(f["code"] for f in runs["left_unsafe"]) == Counter({"ASL404": 1})


@pytest.mark.parametrize("name", ["UnmarkedMiddleware", "ReplicaStyleMiddleware"])
def test_unmarked_middleware_lets_http404_escape_until_marked(runs, name):
    before = _middleware(runs, "original", name)
    assert before["ok"]["value"]["status"] == 200
    assert before["missing"]["outcome"] == "raised" and before["missing"]["type"] == "Http404"
    after = _middleware(runs, "safe", name)
    assert after["ok"]["value"]["status"] == 200
    assert after["missing"] == NOT_FOUND


def test_legacy_marker_on_this_python(runs):
    """Python < 3.12: asgiref's iscoroutinefunction is asyncio's, which reads the legacy marker."""
    before = _middleware(runs, "original", "LegacyMarkedMiddleware")
    if tuple(runs["observed"]["original"]["python"]) < (3, 12):
        assert before["missing"] == NOT_FOUND
    assert _middleware(runs, "safe", "LegacyMarkedMiddleware")["missing"] == NOT_FOUND


def test_legacy_marker_is_not_seen_on_python_312(runs):
    python = other_python_with_django((3, 12))
    if python is None:
        pytest.skip("no Python 3.12+ with Django installed")
    before = run_probes(runs["folders"]["original"], python, only="middleware")["middleware"]["LegacyMarkedMiddleware"]
    assert before["missing"]["outcome"] == "raised" and before["missing"]["type"] == "Http404"
    after = run_probes(runs["folders"]["safe"], python, only="middleware")["middleware"]["LegacyMarkedMiddleware"]
    assert after["missing"] == NOT_FOUND


@pytest.mark.parametrize("name, header", [("UnflaggedMiddleware", None), ("header_middleware", "1")])
def test_unflagged_middleware_fails_every_request_until_flagged(runs, name, header):
    before = _middleware(runs, "original", name)
    assert before["ok"]["outcome"] == "raised" and before["missing"]["outcome"] == "raised"
    after = _middleware(runs, "safe", name)
    assert after["ok"] == {"outcome": "returned", "value": {"status": 200, "x_async": header}}
    assert after["missing"] == NOT_FOUND


def test_sync_call_declared_async_capable_fails_until_declared_sync_only(runs):
    before = _middleware(runs, "original", "AsyncCapableSyncMiddleware")
    assert before["ok"]["outcome"] == "raised" and before["ok"]["type"] == "TypeError"
    after = _middleware(runs, "safe", "AsyncCapableSyncMiddleware")
    assert after["ok"] == {"outcome": "returned", "value": {"status": 200, "x_async": None}}
    assert after["missing"] == NOT_FOUND


def test_marked_sync_call_has_no_fix_and_still_fails(runs):
    for variant in ("original", "unsafe"):
        assert _middleware(runs, variant, "MarkedSyncMiddleware")["ok"]["type"] == "TypeError"


@pytest.mark.parametrize("name, get_status", [("MixedView", 200), ("AsyncPostRedirectView", 302)])
def test_mixed_handlers_raise_on_as_view_until_all_async(runs, name, get_status):
    before = runs["observed"]["original"]["views"][name]
    assert before["as_view"]["outcome"] == "raised" and before["as_view"]["type"] == "ImproperlyConfigured"
    assert runs["observed"]["safe"]["views"][name] == before  # an unsafe fix
    after = runs["observed"]["unsafe"]["views"][name]
    assert after["as_view"] == {"outcome": "returned", "value": True}
    assert after["get"]["value"]["status"] == get_status
    assert after["post"]["value"]["status"] == 200


def test_async_dispatch_with_sync_handlers_fails_until_handlers_are_async(runs):
    before = runs["observed"]["original"]["views"]["AsyncDispatchView"]
    assert before["get"]["outcome"] == "raised" and before["get"]["type"] == "ValueError"
    after = runs["observed"]["unsafe"]["views"]["AsyncDispatchView"]
    assert after["get"]["value"]["status"] == 200


@pytest.mark.parametrize("name, method, status", [("AsyncCorsView", "options", 200), ("AsyncReadOnlyView", "post", 405)])
def test_sync_fallback_on_an_async_view_fails_until_it_is_async(runs, name, method, status):
    before = runs["observed"]["original"]["views"][name][method]
    assert before["outcome"] == "raised" and before["type"] == "TypeError"
    after = runs["observed"]["safe"]["views"][name][method]
    assert after == {"outcome": "returned", "value": {"status": status, "x_async": None}}
