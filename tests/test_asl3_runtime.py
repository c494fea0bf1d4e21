"""ASL3 under real Django 5.2: the fixture app `asyncparts` (fixtures/project/asyncparts) is
fixed by the real CLI, and what each half of a sync/async pair writes or answers is compared,
before and after (probes in tests/test_asl34_probes.py, run in a subprocess).

- `SluggedArticle.save()` (ASL301): the generated `asave()` is a translation (a safe fix) and
  writes the row `save()` writes, running the override once;
- `NaiveTwinArticle`, a control: a twin written as `await super().asave()` runs the override
  twice (Django's `asave()` calls `self.save()`), which is why the translation does not;
- `IndexedPage`/`AuditedPage.save(index=/user=)` (ASL302): `asave(index=False)` raises TypeError
  before, and writes the same row as `save(index=False)` after (translated / delegating twin);
- `StampedNote.asave()` only (ASL303): `QuerySet.create()` and `save()` skip it before, run it
  after, and `asave()` still runs it once;
- `MemberManager.get_by_natural_key()` and the two backends (ASL305, ASL304): the async path
  answers as the sync one only after the fix;
- `LabelManager.create()` and `CountingCache.incr()` (ASL307): `Label.objects.acreate()` runs the
  QuerySet's `create()` and writes no slug, `aincr()` is BaseCache's `aget()` + `aset()` and
  skips the override; after the fix both run it.
"""

from __future__ import annotations

from collections import Counter

import pytest

from .fixture_oracle import cli, findings_of
from .test_asl34_probes import copy_app, run_probes

SELECT = ("--select", "ASL3,ASL301", "--target-version", "5.2")
EXPECTED = Counter({"ASL301": 1, "ASL302": 2, "ASL303": 1, "ASL304": 2, "ASL305": 1, "ASL307": 2})


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    base = tmp_path_factory.mktemp("asl3")
    folders = {name: copy_app(base, name) for name in ("original", "safe", "unsafe")}
    found = findings_of(cli(["asyncparts"], *SELECT, cwd=folders["original"]))
    left_safe = findings_of(cli(["asyncparts"], *SELECT, "--fix", cwd=folders["safe"]))
    left_unsafe = findings_of(cli(["asyncparts"], *SELECT, "--fix", "--unsafe-fixes", cwd=folders["unsafe"]))
    again = findings_of(cli(["asyncparts"], *SELECT, "--fix", "--unsafe-fixes", cwd=folders["unsafe"]))
    observed = {name: run_probes(folder, only=None) for name, folder in folders.items()}
    return {
        "found": found, "left_safe": left_safe, "left_unsafe": left_unsafe, "again": again,
        "folders": folders, "observed": observed,
    }


def _source(runs, variant, module="models"):
    return (runs["folders"][variant] / "asyncparts" / f"{module}.py").read_text()


def test_findings(runs):
    assert Counter(f["code"] for f in runs["found"]) == EXPECTED
    # Every finding is fixed with --unsafe-fixes; a second pass finds and changes nothing.
    assert runs["left_unsafe"] == [] and runs["again"] == []
    # The safe fixes are the exact translations: SluggedArticle.asave and IndexedPage.asave.
    assert Counter(f["code"] for f in runs["left_safe"]) == EXPECTED - Counter({"ASL301": 1, "ASL302": 1})


def test_translated_asave_writes_the_row_save_writes(runs):
    assert "await sync_to_async(super().save)(*args, **kwargs)" in _source(runs, "safe")
    for variant in ("original", "safe"):
        article = runs["observed"][variant]["models"]["SluggedArticle"]
        assert article["asave"]["outcome"] == "returned"
        assert article["asave_row"] == article["save_row"] == {"title": "Hello Async World", "slug": "hello-async-world", "saves": 1}


def test_a_twin_calling_super_asave_runs_the_override_twice(runs):
    """Why the translation runs the parent's save() in a thread instead of `super().asave()`."""
    naive = runs["observed"]["original"]["models"]["NaiveTwinArticle"]
    assert naive["save_row"]["saves"] == 1
    assert naive["asave_row"]["saves"] == 2


@pytest.mark.parametrize("model, variant", [("IndexedPage", "safe"), ("AuditedPage", "unsafe")])
def test_extra_parameters_reach_the_twin(runs, model, variant):
    before = runs["observed"]["original"]["models"][model]
    assert before["asave"]["outcome"] == "raised" and before["asave"]["type"] == "TypeError"
    after = runs["observed"][variant]["models"][model]
    assert after["asave"]["outcome"] == "returned"
    assert after["asave_row"] == after["save_row"] == before["save_row"]


def test_sync_twin_of_asave_runs_for_create_and_save_and_once_for_asave(runs):
    before = runs["observed"]["original"]["models"]["StampedNote"]
    assert before["create_row"] == before["save_row"] == {"stamped": False, "saves": 0}
    assert before["asave_row"] == {"stamped": True, "saves": 1}
    after = runs["observed"]["unsafe"]["models"]["StampedNote"]
    assert after["create_row"] == after["save_row"] == after["asave_row"] == {"stamped": True, "saves": 1}
    assert "await sync_to_async(super().save)(*args, **kwargs)" in _source(runs, "unsafe")


def test_natural_key_twin(runs):
    before = runs["observed"]["original"]["models"]["Member"]
    assert before["sync"] == {"outcome": "returned", "value": "Ann"}
    assert before["async"]["type"] == "DoesNotExist"
    assert runs["observed"]["unsafe"]["models"]["Member"]["async"] == before["sync"]


@pytest.mark.parametrize("backend", ["EmailBackend", "StaffPermissionBackend"])
def test_backend_twins_answer_as_the_sync_methods(runs, backend):
    before = runs["observed"]["original"]["auth"][backend]
    assert before == {"sync": {"outcome": "returned", "value": True}, "async": {"outcome": "returned", "value": False}}
    after = runs["observed"]["unsafe"]["auth"][backend]
    assert after["async"] == after["sync"] == {"outcome": "returned", "value": True}
    # Safe fixes leave the auth twins alone (they change what the async path does).
    assert runs["observed"]["safe"]["auth"][backend] == before


def test_manager_acreate_runs_the_override_only_after_the_fix(runs):
    for variant, slug in (("original", ""), ("unsafe", "async-world")):
        label = runs["observed"][variant]["overrides"]["Label"]
        assert label["create_slug"] == "hello-world"
        assert label["acreate_slug"] == {"outcome": "returned", "value": slug}


def test_cache_aincr_runs_the_incr_override_only_after_the_fix(runs):
    for variant, counted in (("original", 0), ("unsafe", 1)):
        cache = runs["observed"][variant]["overrides"]["CountingCache"]
        assert cache["incr_counted"] == 1
        assert cache["aincr"] == {"outcome": "returned", "value": 3}
        assert cache["aincr_counted"] == counted
