"""ASL6 beyond the documented examples: where a file is, look-alikes, fixes in awkward places,
and the prefilters that keep these rules free on code that does not use what they look for."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest

from async_lint.rules import asl6_request_data
from async_lint.rules.asl603_allow_async_unsafe import is_test_file

from .helpers import findings, fixed


def dedent(code: str) -> str:
    return textwrap.dedent(code).lstrip("\n")


# -- ASL601 ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "code",
    [
        # Rebound by a function: not one object the tool can follow.
        """
        import threading
        _locals = threading.local()
        def reset():
            global _locals
            _locals = threading.local()
        async def view(request):
            _locals.user = request.user
        """,
        # Used on the loop, but what it holds is not per request.
        """
        import threading
        _cache = threading.local()
        async def view(request):
            _cache.parser = object()
            return _cache.parser
        """,
        # A helper run with sync_to_async, by decorator: it does not run on the loop.
        """
        import threading
        from asgiref.sync import sync_to_async
        _locals = threading.local()
        @sync_to_async
        def remember(request):
            _locals.user = request.user
        async def view(request):
            await remember(request)
        """,
        # werkzeug's / asgiref's Local and a class attribute are not module thread-locals.
        """
        import threading
        from asgiref.local import Local as local
        _locals = local()
        class Holder:
            state = threading.local()
        async def view(request):
            _locals.user = request.user
            Holder.state.user = request.user
        """,
    ],
)
def test_thread_local_lookalikes(code):
    assert findings(dedent(code), {"ASL601"}) == []


def test_thread_local_reached_through_two_sync_helpers():
    code = dedent(
        """
        import threading
        _locals = threading.local()
        def _store(user):
            _locals.user = user
        def login_user(request):
            _store(request.user)
        async def view(request):
            login_user(request)
        """
    )
    [finding] = findings(code, {"ASL601"})
    assert "called on the loop at line 8" in finding.message


def test_thread_local_in_all_gets_an_unsafe_fix():
    code = dedent(
        """
        import threading
        __all__ = ["_locals"]
        _locals = threading.local()
        async def view(request):
            _locals.user = request.user
        """
    )
    assert fixed(code, {"ASL601"}) == code
    assert "_locals = Local()" in fixed(code, {"ASL601"}, unsafe=True)


def test_thread_local_fix_is_not_offered_when_local_is_taken():
    code = dedent(
        """
        import threading
        from .models import Local
        _locals = threading.local()
        async def view(request):
            _locals.user = request.user
        """
    )
    [finding] = findings(code, {"ASL601"})
    assert finding.fix is None


# -- ASL602 ---------------------------------------------------------------------------------


def test_global_written_through_a_keyword_argument_and_a_tuple():
    code = dedent(
        """
        _user = None
        _tenant = None
        def remember(*, user, tenant):
            global _user, _tenant
            _user, _tenant = user, tenant
        async def view(request):
            remember(user=request.user, tenant="acme")
        """
    )
    found = findings(code, {"ASL602"})
    # The tuple is one value computed from both: both names are reported.
    assert sorted(f.message.split("`")[1] for f in found) == ["_tenant", "_user"]


def test_global_refreshed_when_expired_is_a_cache():
    code = dedent(
        """
        _site = None
        def view(request):
            global _site
            if _site is None or not _site.get("fresh"):
                _site = {"host": request.get_host(), "fresh": True}
            return _site
        """
    )
    assert findings(code, {"ASL602"}) == []


def test_global_in_sync_and_async_handlers_annotated_request():
    code = dedent(
        """
        from django.http import HttpRequest
        _ip = None
        async def view(req: HttpRequest):
            global _ip
            _ip = req.META["REMOTE_ADDR"]
        """
    )
    assert len(findings(code, {"ASL602"})) == 1


# -- ASL603: where the file is --------------------------------------------------------------


@pytest.mark.parametrize(
    "path, is_test",
    [
        ("project/app/tests/test_views.py", True),
        ("project/app/tests.py", True),
        ("project/conftest.py", True),
        ("project/app/test_api.py", True),
        ("project/app/api_test.py", True),
        ("project/site/test_settings.py", True),
        ("project/site/settings_test.py", True),
        ("project/site/settings/testing.py", True),
        ("project/site/settings/ci.py", True),
        ("project/e2e/tests/conftest.py", True),
        ("project/site/settings.py", False),
        ("project/site/settings/production.py", False),
        ("project/app/tasks.py", False),
        ("project/app/management/commands/scrape.py", False),
        ("project/app/latest.py", False),
        ("project/app/contest/views.py", False),
    ],
)
def test_test_files_are_recognised(path, is_test):
    assert is_test_file(path) is is_test


def test_allow_async_unsafe_by_path_through_the_cli(tmp_path):
    line = 'import os\nos.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")\n'
    files = {
        "app/tasks.py": True,
        "app/management/commands/scrape.py": True,
        "site/asgi.py": True,
        "app/tests/test_scrape.py": False,
        "app/tests.py": False,
        "conftest.py": False,
        "site/test_settings.py": False,
    }
    for name in files:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(line)
    (tmp_path / "pyproject.toml").write_text("[tool.async-lint]\n")
    process = subprocess.run(
        [sys.executable, "-m", "async_lint", "check", ".", "--select", "ASL603", "--output-format", "json"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert process.returncode in (0, 1), process.stderr
    reported = {item["filename"].replace("\\", "/").split(str(tmp_path.name) + "/")[-1] for item in json.loads(process.stdout)}
    reported = {r.removeprefix("./") for r in reported}
    assert reported == {name for name, flagged in files.items() if flagged}


def test_allow_async_unsafe_set_for_a_child_inline_is_reported_once():
    code = 'import os, subprocess\nsubprocess.run(["x"], env={**os.environ, "DJANGO_ALLOW_ASYNC_UNSAFE": "1"})\n'
    assert len(findings(code, {"ASL603"})) == 1


def test_allow_async_unsafe_in_a_function_for_tests_is_not_reported():
    code = 'import os\n\ndef setup_test_environment():\n    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "1"\n'
    assert findings(code, {"ASL603"}) == []


# -- ASL604: where the body read goes -----------------------------------------------------------

NOTE = "request.body  # noqa: B018 - Django < 4.2: read the body before POST/FILES (ticket #34063)"


@pytest.mark.parametrize(
    "code, expected",
    [
        (  # an `elif` test: before the whole `if`
            """
            async def v(request):
                if request.method == "GET":
                    return 1
                elif request.POST.get("a"):
                    return 2
            """,
            f"""
            async def v(request):
                {NOTE}
                if request.method == "GET":
                    return 1
                elif request.POST.get("a"):
                    return 2
            """,
        ),
        (  # a one-line `if`: before the `if`
            """
            async def v(request):
                if True: x = request.POST
                return x
            """,
            f"""
            async def v(request):
                {NOTE}
                if True: x = request.POST
                return x
            """,
        ),
        (  # inside `try`: in the block
            """
            async def v(request):
                try:
                    x = request.FILES["f"]
                except KeyError:
                    x = None
                return x
            """,
            f"""
            async def v(request):
                try:
                    {NOTE}
                    x = request.FILES["f"]
                except KeyError:
                    x = None
                return x
            """,
        ),
    ],
)
def test_post_before_body_fix_placement(code, expected):
    assert fixed(dedent(code), {"ASL604"}, "4.1", unsafe=True) == dedent(expected)


def test_post_before_body_keeps_crlf_line_endings():
    code = "async def v(request):\r\n    return request.POST\r\n"
    assert fixed(code, {"ASL604"}, "4.1", unsafe=True) == f"async def v(request):\r\n    {NOTE}\r\n    return request.POST\r\n"


def test_post_before_body_nested_sync_function_and_self_request_are_left_alone():
    code = dedent(
        """
        async def v(request):
            def inner():
                return request.POST
            return inner
        class View:
            async def post(self, *args):
                return self.request.POST
        """
    )
    assert findings(code, {"ASL604"}, "4.1") == []


# -- cost ---------------------------------------------------------------------------------------


def test_files_without_the_trigger_text_never_build_the_file_analysis(monkeypatch):
    def fail(*args, **kwargs):
        raise AssertionError("ASL6 analysed a file that cannot have findings")

    monkeypatch.setattr("async_lint.rules.asl601_thread_local.Frames", fail)
    monkeypatch.setattr("async_lint.rules.asl602_global_request_state._functions", fail)
    monkeypatch.setattr("async_lint.rules.asl603_allow_async_unsafe.Frames", fail)
    monkeypatch.setattr(asl6_request_data, "Frames", fail)
    code = dedent(
        """
        from library.models import Book
        async def view(request):
            global_count = 0  # the word global, but no statement
            return [b.title async for b in Book.objects.filter(title=request.GET.get("q"))]
        """
    )
    assert findings(code, {"ASL601", "ASL602", "ASL603", "ASL604"}, "4.1") == []


def test_rules_are_registered_with_prefilters():
    from async_lint.rules import RULES

    from async_lint.rules.base import EVENT_LOOP, MODULE

    # A module rule whose prefilter matches makes the engine walk every node of the file, so
    # theirs name what they look for; ASL604 looks only inside `async def`s.
    assert "threading.local" in RULES["ASL601"].requires_text and "threading" not in RULES["ASL601"].requires_text
    assert "\n    global " in RULES["ASL602"].requires_text and "\n\tglobal " in RULES["ASL602"].requires_text
    assert not any("global " in t for t in RULES["ASL602"].requires_text if not t.startswith("\n"))
    assert RULES["ASL603"].requires_text == ("DJANGO_ALLOW_ASYNC_UNSAFE",)
    assert (RULES["ASL604"].looks_at, RULES["ASL604"].requires_text) == (EVENT_LOOP, ("async",))
    assert {RULES[c].looks_at for c in ("ASL601", "ASL602", "ASL603")} == {MODULE}

