"""Templates as the template rules (ASL119, ASL120, ASL204) read them: what a template reads
through extends, blocks and includes, the restated lexer against Django's, and the real
command line on a small project (settings, app and project template folders, the cache)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from async_lint.templates import ITEM, PRINTED, Templates, _restated_lexer, _tokens, template_settings

ROOT = Path(__file__).resolve().parent.parent


def reads_of(files: dict[str, str], name: str, tmp_path: Path) -> dict:
    for relative, text in files.items():
        path = tmp_path / "app" / "templates" / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    (tmp_path / "app" / "views.py").write_text("")
    templates = Templates.of_modules([str(tmp_path / "app" / "views.py")], lambda p: Path(p).read_text())
    found = templates.reads([name])
    return {p: line for p, (_, line) in found.paths.items()} if found else None


def test_loops_withs_and_filters(tmp_path):
    found = reads_of(
        {"t.html": "{% for b in books %}{{ b.author.name|upper }}{% with p=b.publisher %}{{ p.name }}{% endwith %}"
         "{% empty %}{{ fallback }}{% endfor %}{% with n=books.count %}{{ n }}{% endwith %}"},
        "t.html",
        tmp_path,
    )
    assert ("books",) in found
    assert ("books", ITEM, "author", "name") in found
    assert ("books", ITEM, "publisher", "name") in found
    assert ("books", "count") in found
    assert ("fallback", PRINTED) in found
    assert ("n", PRINTED) not in found  # bound to a call's result: not a context path


def test_extends_renders_the_childs_blocks_and_block_super(tmp_path):
    files = {
        "base.html": "{{ user.username }}{% block a %}{{ parent_a }}{% endblock %}{% block b %}{{ parent_b }}{% endblock %}",
        "child.html": "{% extends 'base.html' %}ignored {{ outside }}{% block a %}{{ child_a }}{% endblock %}"
        "{% block b %}{{ block.super }}{{ child_b }}{% endblock %}",
    }
    found = {p[0] for p in reads_of(files, "child.html", tmp_path)}
    assert found == {"user", "child_a", "parent_b", "child_b"}


def test_include_with_only_binds_just_its_arguments(tmp_path):
    files = {
        "page.html": "{% for b in books %}{% include 'row.html' with item=b only %}{% include 'all.html' %}{% endfor %}",
        "row.html": "{{ item.author.name }}{{ books }}",
        "all.html": "{{ b.title }}",
    }
    found = reads_of(files, "page.html", tmp_path)
    assert ("books", ITEM, "author", "name") in found
    assert ("books", PRINTED) not in found  # `only`: the outer context is not visible
    assert ("books", ITEM, "title") in found


def test_comments_and_verbatim_read_nothing(tmp_path):
    found = reads_of({"t.html": "{# {{ a.b }} #}{% comment %}{{ c.d }}{% endcomment %}{% verbatim %}{{ e.f }}{% endverbatim %}{{ g }}"}, "t.html", tmp_path)
    assert {p[0] for p in found} == {"g"}


def test_a_name_in_two_folders_with_different_text_is_not_guessed(tmp_path):
    for app, text in (("one", "{{ a }}"), ("two", "{{ b }}")):
        (tmp_path / app / "templates").mkdir(parents=True)
        (tmp_path / app / "templates" / "t.html").write_text(text)
        (tmp_path / app / "views.py").write_text("")
    templates = Templates.of_modules([str(tmp_path / a / "views.py") for a in ("one", "two")], lambda p: Path(p).read_text())
    assert templates.reads(["t.html"]) is None


def test_the_restated_lexer_tokenizes_as_djangos():
    texts = [p.read_text() for p in (ROOT / "fixtures").rglob("*.html")]
    texts.append("a {% verbatim %}{{ x }}{% if %}{% endverbatim %} {{ y }}\n{# c #}{% z %}")
    for text in texts:
        assert list(_restated_lexer(text)) == _tokens(text)


def test_settings_read_processors_and_middleware(tmp_path):
    (tmp_path / "settings.py").write_text(
        "TEMPLATES = [{'BACKEND': 'x', 'OPTIONS': {'context_processors': ['django.contrib.auth.context_processors.auth']}}]\n"
        "MIDDLEWARE = ['django.contrib.sessions.middleware.SessionMiddleware']\n"
    )
    found = template_settings({"site.settings": str(tmp_path / "settings.py")}, lambda p: Path(p).read_text())
    assert "django.contrib.auth.context_processors.auth" in found.context_processors
    assert not found.user_in_context  # no AuthenticationMiddleware: no request.user


# -- the command line ---------------------------------------------------------------------------

SETTINGS = """\
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {"context_processors": ["django.contrib.auth.context_processors.auth"]},
    }
]
"""
MODELS = """\
from django.db import models


class Author(models.Model):
    name = models.CharField(max_length=100)


class Book(models.Model):
    title = models.CharField(max_length=100)
    author = models.ForeignKey(Author, on_delete=models.CASCADE)
"""
VIEWS = """\
from django.shortcuts import render

from shop.models import Book


async def books(request):
    return render(request, "shop/books.html", {"books": Book.objects.all()})


async def home(request):
    return render(request, "home.html")
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "pyproject.toml").write_text('[tool.async-lint]\ntarget-version = "5.2"\n')
    (tmp_path / "site").mkdir()
    (tmp_path / "site" / "__init__.py").write_text("")
    (tmp_path / "site" / "settings.py").write_text(SETTINGS)
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "home.html").write_text("{% if user.is_authenticated %}hi{% endif %}")
    app = tmp_path / "shop"
    (app / "templates" / "shop").mkdir(parents=True)
    (app / "templates" / "shop" / "books.html").write_text("{% for b in books %}{{ b.title }}{% endfor %}")
    for name, text in {"__init__": "", "models": MODELS, "views": VIEWS}.items():
        (app / f"{name}.py").write_text(text)
    return tmp_path


def check(project: Path, *options: str) -> list[tuple[int, str]]:
    result = subprocess.run(
        [sys.executable, "-m", "async_lint", "check", ".", "--select", "ASL119,ASL120,ASL204", "--output-format", "json", *options],
        cwd=project, capture_output=True, text=True, timeout=120,
    )
    assert "Traceback" not in result.stderr, result.stderr
    return sorted((d["location"]["row"], d["code"]) for d in json.loads(result.stdout))


def test_app_and_project_templates_are_read(project):
    assert check(project, "--no-cache") == [(7, "ASL119"), (11, "ASL120")]


def test_a_template_edit_voids_the_cached_findings(project):
    assert check(project) == [(7, "ASL119"), (11, "ASL120")]
    (project / "shop" / "templates" / "shop" / "books.html").write_text("{% for b in books %}{{ b.author.name }}{% endfor %}")
    assert check(project) == [(7, "ASL119"), (7, "ASL204"), (11, "ASL120")]
    (project / "shop" / "templates" / "shop" / "books.html").write_text("no books")
    (project / "templates" / "home.html").write_text("hello")
    assert check(project) == []


def test_without_the_auth_context_processor_user_is_not_the_requests(project):
    (project / "site" / "settings.py").write_text(SETTINGS.replace("django.contrib.auth.context_processors.auth", "django.template.context_processors.debug"))
    assert check(project, "--no-cache") == [(7, "ASL119")]
