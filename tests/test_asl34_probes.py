"""What the ASL3/ASL4 runtime tests observe, under real Django, in a subprocess.

`run_probes(app_parent, python)` sets up a Django process for one copy of the `asyncparts`
fixture app (original or fixed by the CLI): the fixture project's settings
(fixtures/project/fixtureproject/settings.py, the SQLite file database of tests/fixture_oracle.py)
plus the app, then `python -m tests.test_asl34_probes OUT.json` runs every probe and writes what
happened.  No pytest in this module: the probes also run under another Python (3.12, for the
legacy coroutine marker).  It holds no tests.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PROJECT = ROOT / "fixtures" / "project"
APP = PROJECT / "asyncparts"
SETTINGS = '''"""The fixture project's settings, with the asyncparts app."""
from fixtureproject.settings import *  # noqa: F401,F403

INSTALLED_APPS = [*INSTALLED_APPS, "asyncparts"]  # noqa: F405
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
ROOT_URLCONF = "asyncparts_probe_urls"
'''
MIDDLEWARE = ("UnmarkedMiddleware", "ReplicaStyleMiddleware", "LegacyMarkedMiddleware", "UnflaggedMiddleware", "MarkedSyncMiddleware", "AsyncCapableSyncMiddleware", "header_middleware")
VIEWS = ("MixedView", "AsyncPostRedirectView", "AsyncDispatchView", "AsyncCorsView", "AsyncReadOnlyView")


def other_python_with_django(minimum: tuple[int, int]) -> str | None:
    """An interpreter of at least `minimum` with Django installed (pyenv's, or on PATH)."""
    import glob
    import shutil

    candidates = sorted(glob.glob(os.path.expanduser("~/.pyenv/versions/3.*/bin/python")))
    candidates += [p for p in (shutil.which(f"python3.{n}") for n in range(minimum[1], 20)) if p]
    for candidate in candidates:
        probe = "import sys, django; sys.exit(0 if sys.version_info[:2] >= %r else 1)" % (minimum,)
        try:
            if subprocess.run([candidate, "-c", probe], capture_output=True, timeout=60).returncode == 0:
                return candidate
        except (OSError, subprocess.SubprocessError):
            continue
    return None


def run_probes(app_parent: Path, python: str = sys.executable, only: str | None = None, timeout: float = 300) -> dict:
    """Run the probes for the app under `app_parent` (a folder holding `asyncparts/`)."""
    (app_parent / "asyncparts_probe_settings.py").write_text(SETTINGS)
    out = app_parent / f"probes-{Path(python).name}.json"
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"} | {
        "PYTHONPATH": os.pathsep.join([str(app_parent), str(PROJECT), str(ROOT)]),
        "DJANGO_SETTINGS_MODULE": "asyncparts_probe_settings",
        "FIXTURE_DB": str(app_parent / f"probes-{Path(python).name}.sqlite3"),
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    command = [python, "-m", "tests.test_asl34_probes", str(out), *([only] if only else [])]
    run = subprocess.run(command, cwd=app_parent, env=env, capture_output=True, text=True, timeout=timeout)
    assert run.returncode == 0, f"the probes failed:\n{run.stdout}\n{run.stderr}"
    return json.loads(out.read_text())


# -- inside the Django process ------------------------------------------------------------------


def _outcome(function) -> dict:
    try:
        return {"outcome": "returned", "value": function()}
    except BaseException as error:  # noqa: BLE001 - every outcome is an observation
        return {"outcome": "raised", "type": type(error).__name__, "message": str(error)[:300]}


def _row(obj, *fields) -> dict:
    fresh = type(obj).objects.get(pk=obj.pk)
    return {f: getattr(fresh, f) for f in fields}


def probe_models() -> dict:
    import asyncio

    from asyncparts.models import AuditedPage, IndexedPage, Member, NaiveTwinArticle, SluggedArticle, StampedNote

    found = {}
    for model in (SluggedArticle, NaiveTwinArticle):
        by_save = model(title="Hello Async World")
        by_save.save()
        by_asave = model(title="Hello Async World")
        found[model.__name__] = {
            "asave": _outcome(lambda: asyncio.run(by_asave.asave())),
            "save_row": _row(by_save, "title", "slug", "saves"),
            "asave_row": _row(by_asave, "title", "slug", "saves") if by_asave.pk else None,
        }
    for model, keyword, value, fields in (
        (IndexedPage, "index", False, ("title", "indexed")),
        (AuditedPage, "user", "ann", ("title", "audited_by")),
    ):
        by_save = model(title="Page")
        by_save.save(**{keyword: value})
        by_asave = model(title="Page")
        found[model.__name__] = {
            "asave": _outcome(lambda: asyncio.run(by_asave.asave(**{keyword: value}))),
            "save_row": _row(by_save, *fields),
            "asave_row": _row(by_asave, *fields) if by_asave.pk else None,
        }
    created = StampedNote.objects.create(text="created")
    saved = StampedNote(text="saved")
    saved.save()
    asaved = StampedNote(text="asaved")
    found["StampedNote"] = {
        "asave": _outcome(lambda: asyncio.run(asaved.asave())),
        "create_row": _row(created, "stamped", "saves"),
        "save_row": _row(saved, "stamped", "saves"),
        "asave_row": _row(asaved, "stamped", "saves") if asaved.pk else None,
    }
    Member.objects.create(name="Ann")
    found["Member"] = {
        "sync": _outcome(lambda: Member.objects.get_by_natural_key("ANN").name),
        "async": _outcome(lambda: asyncio.run(Member.objects.aget_by_natural_key("ANN")).name),
    }
    return found


def probe_auth() -> dict:
    import asyncio

    from django.contrib.auth import aauthenticate, authenticate
    from django.contrib.auth.models import User
    from django.test.utils import override_settings

    found = {}
    ann = User.objects.create_user("ann", "Ann@Example.com", "spice")
    with override_settings(AUTHENTICATION_BACKENDS=["asyncparts.backends.EmailBackend"]):
        credentials = {"username": "ann@example.com", "password": "spice"}
        found["EmailBackend"] = {
            "sync": _outcome(lambda: getattr(authenticate(**credentials), "pk", None) == ann.pk),
            "async": _outcome(lambda: getattr(asyncio.run(aauthenticate(**credentials)), "pk", None) == ann.pk),
        }
    staff = User.objects.create_user("bob", "bob@example.com", "spice", is_staff=True)
    with override_settings(AUTHENTICATION_BACKENDS=["asyncparts.backends.StaffPermissionBackend"]):
        found["StaffPermissionBackend"] = {
            "sync": _outcome(lambda: staff.has_perm("asyncparts.change_member")),
            "async": _outcome(lambda: asyncio.run(staff.ahas_perm("asyncparts.change_member"))),
        }
    return found


def _install_urls(**views) -> None:
    import types

    from django.urls import clear_url_caches, path

    from asyncparts.views import ok

    module = types.ModuleType("asyncparts_probe_urls")
    module.urlpatterns = [path("ok/", ok), *(path(f"{name}/", view) for name, view in views.items())]
    sys.modules[module.__name__] = module
    clear_url_caches()


def _request(client, method: str, path: str) -> dict:
    import asyncio

    def send():
        response = asyncio.run(getattr(client, method)(path))
        return {"status": response.status_code, "x_async": response.get("X-Async")}

    return _outcome(send)


def probe_middleware() -> dict:
    import warnings

    from django.test import AsyncClient
    from django.test.utils import override_settings

    _install_urls()
    found = {}
    for name in MIDDLEWARE:
        with override_settings(MIDDLEWARE=[f"asyncparts.middleware.{name}"]), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "coroutine ... was never awaited" from the broken ones
            client = AsyncClient()
            found[name] = {"ok": _request(client, "get", "/ok/"), "missing": _request(client, "get", "/missing/")}
    return found


def probe_views() -> dict:
    from django.test import AsyncClient
    from django.test.utils import override_settings

    from asyncparts import views

    found, routed = {}, {}
    for name in VIEWS:
        built = _outcome(lambda: getattr(views, name).as_view() and True)
        found[name] = {"as_view": built}
        if built["outcome"] == "returned":
            routed[name] = getattr(views, name).as_view()
    _install_urls(**routed)
    with override_settings(MIDDLEWARE=[]):
        client = AsyncClient()
        for name in routed:
            found[name]["get"] = _request(client, "get", f"/{name}/")
            found[name]["post"] = _request(client, "post", f"/{name}/")
            found[name]["options"] = _request(client, "options", f"/{name}/")
    return found


def probe_overrides() -> dict:
    """ASL307: what the async path of an override's inherited twin does."""
    import asyncio

    from asyncparts.caches import CountingCache
    from asyncparts.models import Label

    by_create = Label.objects.create(name="Hello World")
    by_acreate = _outcome(lambda: asyncio.run(Label.objects.acreate(name="Async World")).slug)
    cache = CountingCache("probe", {})
    cache.set("n", 1)
    cache.incr("n")
    counted = CountingCache.increments
    incremented = _outcome(lambda: asyncio.run(cache.aincr("n")))
    return {
        "Label": {"create_slug": by_create.slug, "acreate_slug": by_acreate},
        "CountingCache": {"incr_counted": counted, "aincr_counted": CountingCache.increments - counted, "aincr": incremented},
    }


PROBES = {
    "models": probe_models, "auth": probe_auth, "middleware": probe_middleware, "views": probe_views,
    "overrides": probe_overrides,
}


def main(argv: list[str]) -> int:
    import django
    from django.core.management import call_command
    from django.test.utils import setup_test_environment

    django.setup()
    setup_test_environment()  # as the test runner does: `testserver` is an allowed host
    call_command("migrate", run_syncdb=True, verbosity=0)
    names = argv[1:] or list(PROBES)
    results = {name: PROBES[name]() for name in names}
    results["python"] = list(sys.version_info[:2])
    Path(argv[0]).write_text(json.dumps(results, indent=1, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))


def copy_app(base, name):
    """A project folder holding a copy of the fixture app, targeting Django 5.2."""
    folder = base / name
    shutil.copytree(APP, folder / "asyncparts", ignore=shutil.ignore_patterns("__pycache__"))
    (folder / "pyproject.toml").write_text('[tool.async-lint]\ntarget-version = "5.2"\n')
    return folder
