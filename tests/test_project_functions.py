"""Functions followed across modules, through the real command line on a small project: the
helpers an async view calls (imported, two modules deep, methods of models and of bases in
other modules), what they return, models of packages outside the tree, and look-alikes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

MODELS = """\
from django.db import models


class Client(models.Model):
    name = models.CharField(max_length=100)


class Case(models.Model):
    client = models.ForeignKey(Client, on_delete=models.CASCADE)
    title = models.CharField(max_length=100)

    def mark_cancelled(self):
        Case.objects.filter(pk=self.pk).update(title="cancelled")
        self.refresh_from_db()

    def label(self):
        return self.title.upper()


class Party(models.Model):
    case = models.ForeignKey(Case, on_delete=models.CASCADE)
"""
SERVICES = """\
from office import queries
from office.models import Case


def load_case(pk):
    case = Case.objects.get(pk=pk)
    return case


def load_case_with_client(pk):
    return Case.objects.select_related("client").get(pk=pk)


def load_and_touch(pk):
    case = Case.objects.get(pk=pk)
    print(case.client.name)
    return case


def count_cases():
    return queries.total()


async def aload(pk) -> tuple[Case, dict]:
    from remote import load  # the body says nothing: the annotation does

    return await load(pk)


def ping(n):
    return pong(n - 1) if n else 0


def pong(n):
    return ping(n)


class Base:
    def current_user(self, request):
        return request.user.get_username()
"""
QUERIES = """\
from office.models import Case


def total():
    return Case.objects.count()
"""


def run_check(project: Path, path: str) -> list[dict]:
    result = subprocess.run(
        [sys.executable, "-m", "async_lint", "check", path, "--output-format", "json", "--no-cache"],
        cwd=project, capture_output=True, text=True, timeout=120,
    )
    assert "Traceback" not in result.stderr, result.stderr
    return json.loads(result.stdout)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "pyproject.toml").write_text('[tool.async-lint]\ntarget-version = "5.2"\n')
    app = tmp_path / "office"
    app.mkdir()
    for name, text in {"__init__": "", "models": MODELS, "services": SERVICES, "queries": QUERIES}.items():
        (app / f"{name}.py").write_text(text)
    return tmp_path


def findings_in(project: Path, code: str) -> list[tuple[int, str, str]]:
    (project / "office" / "views.py").write_text(code)
    return [
        (d["location"]["row"], d["code"], d["message"])
        for d in run_check(project, "office/views.py")
    ]


def test_chain_of_imported_helpers_is_named(project: Path):
    found = findings_in(
        project,
        "from office.services import count_cases\n\n\nasync def view(request):\n    return count_cases()\n",
    )
    assert [(row, code) for row, code, _ in found] == [(5, "ASL117")]
    assert "office/queries.py:5" in found[0][2]
    # The full output names each step of the chain.
    result = subprocess.run(
        [sys.executable, "-m", "async_lint", "check", "office/views.py", "--no-cache"],
        cwd=project, capture_output=True, text=True, timeout=120,
    )
    assert "view → count_cases (office/services.py:20) → total (office/queries.py:4)" in result.stdout


def test_model_method_that_queries_and_one_that_does_not(project: Path):
    found = findings_in(
        project,
        "from office.models import Case\n\n\nasync def view(pk):\n"
        "    case = await Case.objects.aget(pk=pk)\n    case.label()\n    case.mark_cancelled()\n",
    )
    assert [(row, code) for row, code, _ in found] == [(7, "ASL117")]


def test_method_of_a_base_class_in_another_module(project: Path):
    found = findings_in(
        project,
        "from office.services import Base\n\n\nclass Tags(Base):\n"
        "    def collect(self, request):\n        return [self.current_user(request)]\n\n"
        "    async def __acall__(self, request):\n        return self.collect(request)\n",
    )
    assert [(row, code) for row, code, _ in found] == [(9, "ASL117")]


def test_instance_returned_by_a_helper_carries_what_its_query_loaded(project: Path):
    found = findings_in(
        project,
        "from asgiref.sync import sync_to_async\n"
        "from office.services import load_and_touch, load_case, load_case_with_client\n\n\n"
        "async def view(pk):\n"
        "    a = await sync_to_async(load_case)(pk)\n"
        "    b = await sync_to_async(load_case_with_client)(pk)\n"
        "    c = await sync_to_async(load_and_touch)(pk)\n"
        "    return a.client.name, b.client.name, c.client.name\n",
    )
    assert [(row, code) for row, code, _ in found] == [(9, "ASL201")]
    full = subprocess.run(
        [sys.executable, "-m", "async_lint", "check", "office/views.py", "--no-cache"],
        cwd=project, capture_output=True, text=True, timeout=120,
    )
    assert "the query in load_case (office/services.py:5)" in full.stdout  # the note under the headline


def test_annotated_tuple_return_types_its_items_with_an_unknown_origin(project: Path):
    found = findings_in(
        project,
        "from office.services import aload\n\n\nasync def view(pk):\n"
        "    case, extra = await aload(pk)\n"
        "    name = case.client.name\n"  # origin unknown: not flagged
        "    return case.party_set.exists()\n",
    )
    assert [(row, code) for row, code, _ in found] == [(7, "ASL101")]


def test_recursive_helpers_end(project: Path):
    found = findings_in(project, "from office.services import ping\n\n\nasync def view():\n    return ping(3)\n")
    assert found == []


def test_models_of_a_package_outside_the_tree(project: Path):
    found = findings_in(
        project,
        "from django.apps import apps\nfrom corelib.plugin.models import Artifact\n\n\n"
        "async def view(pk, thing):\n"
        "    Artifact.objects.get(pk=pk)\n"
        "    Artifact(name='x').save()\n"
        "    apps.get_model('office', 'Case').objects.count()\n"
        "    thing.party_set.count()\n"
        "    artifact = await Artifact.objects.aget(pk=pk)\n"
        "    return artifact.owner.name, thing.unknown_set.count()\n",
    )
    assert [(row, code) for row, code, _ in found] == [(6, "ASL101"), (7, "ASL104"), (8, "ASL101"), (9, "ASL101")]


def test_a_query_run_once_per_process_is_not_a_hazard_of_each_call(project: Path):
    """`if CACHED is None: CACHED = query()` with a module global: warmed once (pulpcore's
    default domain is cached at start-up), not a query on every call."""
    (project / "office" / "domains.py").write_text(
        "from office.models import Client\n\ndefault = None\n\n\ndef get_default():\n"
        "    global default\n    if default is None:\n        default = Client.objects.get(name='default')\n"
        "    return default\n\n\ndef get_fresh():\n    return Client.objects.get(name='default')\n"
    )
    found = findings_in(
        project,
        "from office.domains import get_default, get_fresh\n\n\nasync def view():\n"
        "    return get_default(), get_fresh()\n",
    )
    assert [(row, code, message.split("`")[1]) for row, code, message in found] == [(5, "ASL117", "get_fresh()")]


def test_a_queryset_the_helper_already_fetched_is_not_evaluated_again(project: Path):
    found = findings_in(
        project,
        "from django.db.models import QuerySet\nfrom office.models import Case\n\n\n"
        "async def counted() -> QuerySet:\n    cases = Case.objects.all()\n    async for case in cases:\n"
        "        case.extra = 1\n    return cases\n\n\n"
        "async def view():\n    cases = await counted()\n    return [c.title for c in cases]\n",
    )
    assert found == []


def test_models_of_an_installed_package_are_read_without_importing_it(project: Path, tmp_path_factory):
    """A plugin's models come from a package installed beside it (found on sys.path, never
    imported: importing it would raise here): relations and model methods are known."""
    site = tmp_path_factory.mktemp("site")
    package = site / "corelib" / "plugin" / "models"
    package.mkdir(parents=True)
    (site / "corelib" / "__init__.py").write_text("raise ImportError('never imported')\n")
    (site / "corelib" / "plugin" / "__init__.py").write_text("")
    (package / "__init__.py").write_text("from .content import Artifact, Owner\n")
    (package / "base.py").write_text(
        "from django.db import models\n\n\nclass BaseModel(models.Model):\n    class Meta:\n        abstract = True\n"
    )
    (package / "content.py").write_text(
        "from django.db import models\n\nfrom corelib.plugin.models.base import BaseModel\n\n\n"
        "class Owner(BaseModel):\n    name = models.CharField(max_length=10)\n\n\n"
        "class Artifact(BaseModel):\n    owner = models.ForeignKey(Owner, on_delete=models.CASCADE)\n\n"
        "    def touch(self):\n        Artifact.objects.filter(pk=self.pk).update()\n"
    )
    code = (
        "from corelib.plugin.models import Artifact\n\n\nasync def view(pk):\n"
        "    artifact = await Artifact.objects.aget(pk=pk)\n"
        "    artifact.touch()\n"
        "    return artifact.owner.name\n"
    )
    (project / "office" / "views.py").write_text(code)
    result = subprocess.run(
        [sys.executable, "-m", "async_lint", "check", "office/views.py", "--output-format", "json"],
        cwd=project, capture_output=True, text=True, timeout=120, env={**os.environ, "PYTHONPATH": str(site)},
    )
    assert "Traceback" not in result.stderr, result.stderr
    found = [(d["location"]["row"], d["code"]) for d in json.loads(result.stdout)]
    assert found == [(6, "ASL117"), (7, "ASL201")]


def test_optional_and_queryset_return_annotations(project: Path):
    (project / "office" / "lookups.py").write_text(
        # Bodies that say nothing (a value from elsewhere): the annotations type the results.
        "from typing import Optional\n\nfrom django.db.models import QuerySet\nfrom vendor import lookup\n\n"
        "from office.models import Case\n\n\n"
        "async def find(pk) -> Optional[Case]:\n    return await lookup(pk)\n\n\n"
        "def open_cases(client) -> 'QuerySet[Case]':\n    return lookup(client)\n"
    )
    found = findings_in(
        project,
        "from office.lookups import find, open_cases\n\n\nasync def view(pk, client):\n"
        "    case = await find(pk)\n"
        "    parties = case.party_set.count()\n"
        "    cases = open_cases(client)\n"
        "    return parties, list(cases)\n",
    )
    assert [(row, code) for row, code, _ in found] == [(6, "ASL101"), (8, "ASL102")]


def test_a_helper_reading_request_user_from_an_authenticated_ninja_operation(project: Path):
    """As in the operation itself (ASL107), django-ninja resolved the user before it runs."""
    (project / "office" / "checks.py").write_text(
        "def require_admin(request):\n    user = getattr(request, 'user', None)\n    return bool(user and user.is_staff)\n"
    )
    found = findings_in(
        project,
        "from ninja import Router\n\nfrom office.checks import require_admin\n\nrouter = Router()\n\n\n"
        "@router.post('/x')\nasync def create(request):\n    return require_admin(request)\n\n\n"
        "async def plain(request):\n    return require_admin(request)\n",
    )
    assert [(row, code) for row, code, _ in found] == [(14, "ASL117")]


def test_modules_re_exporting_each_other_end_the_search(project: Path):
    """`a` takes `Thing` from `b` and `b` from `a`: the lookup of a class (here for an
    annotation) stops after a few hops instead of recursing until the file is given up."""
    (project / "office" / "first.py").write_text("from office.second import Thing\n")
    (project / "office" / "second.py").write_text("from office.first import Thing\n")
    found = findings_in(
        project,
        "from office.first import Thing\n\n\nasync def view(thing: Thing):\n    return thing.label()\n",
    )
    assert found == []


def test_methods_of_a_module_level_object_of_a_project_class_are_followed(project: Path):
    found = findings_in(
        project,
        "from office.models import Case\n\n\nclass Registry:\n    def total(self):\n        return Case.objects.count()\n\n"
        "    def label(self):\n        return 'cases'\n\n\n_registry = Registry()\n\n\n"
        "async def view():\n    return _registry.label(), _registry.total()\n",
    )
    assert [(row, code) for row, code, _ in found] == [(16, "ASL117")]
    assert "`_registry.total()` runs `Case.objects.count()`" in found[0][2]


def test_files_evicted_from_memory_are_read_again_with_the_same_answers(project: Path, monkeypatch):
    """Only the most recently used files stay parsed (memory stays bounded on a large project):
    with room for one file, chains through three modules are still followed, each module read
    again when reached, and the answers are those of a run that keeps every file."""
    from async_lint import functions as functions_module
    from async_lint.engine import lint_source
    from async_lint.project_setup import Project, ProjectModel
    from async_lint.source import SourceFile

    views = {
        "views.py": "from office.services import count_cases\n\n\nasync def view(request):\n    return count_cases()\n",
        "other.py": "from office.services import load_and_touch\n\n\nasync def view(pk):\n    return load_and_touch(pk)\n",
    }
    for name, text in views.items():
        (project / "office" / name).write_text(text)
    loaded = Project.load([str(project)])
    model = ProjectModel.of_files([str(p) for p in (project / "office").glob("*.py")], ())

    def check_in_turn(kept: int) -> tuple[list, list[str]]:
        monkeypatch.setattr(functions_module, "KEPT_FILES", kept)
        reads: list[str] = []
        read = ProjectModel.read.__get__(model)  # not `model.read`: the previous call's wrapper
        monkeypatch.setattr(model, "read", lambda path: reads.append(Path(path).name) or read(path))
        functions = model.functions(loaded.target, loaded.dispatch())
        found = []
        for name in ("views.py", "other.py", "views.py", "other.py"):
            path = str(project / "office" / name)
            source = SourceFile(path, views[name])
            diagnostics = lint_source(source, model.index, loaded.settings(), loaded.dispatch(), None, functions)
            found.append([(d.code, d.message) for d in diagnostics])
        return found, reads

    everything, reads_once = check_in_turn(kept=128)
    one_file, reads_again = check_in_turn(kept=1)
    assert [[code for code, _ in file] for file in everything] == [["ASL117"], ["ASL117"]] * 2
    assert one_file == everything
    assert sorted(reads_once) == ["queries.py", "services.py"]  # each read once, then kept
    assert reads_again.count("services.py") > 1 and reads_again.count("queries.py") > 1


def test_a_model_method_is_judged_with_what_the_callers_query_loaded(project: Path):
    """`self` in a model method called on a fetched instance is that instance: its relations
    are loaded when the caller's query loaded them (through a helper that fetched it too, and
    through `self.other()` calls), and are queries when it did not."""
    (project / "office" / "models.py").write_text(MODELS.replace(
        "    def label(self):\n",
        "    def summary(self):\n        return self.describe()\n\n"
        "    def describe(self):\n        return self.client.name, [party.pk for party in self.party_set.all()]\n\n"
        "    async def afetch_full(self):\n"
        "        return await Case.objects.select_related('client').prefetch_related('party_set').aget(pk=self.pk)\n\n"
        "    def label(self):\n",
    ))
    found = findings_in(
        project,
        "from office.models import Case\n\n\n"
        "async def loaded(pk):\n    case = await Case.objects.aget(pk=pk)\n    full = await case.afetch_full()\n    return full.summary()\n\n\n"
        "async def bare(pk):\n    case = await Case.objects.aget(pk=pk)\n    return case.summary()\n",
    )
    assert [(row, code) for row, code, _ in found] == [(12, "ASL117")]
    assert "`case.summary()` runs `self.client`" in found[0][2]
