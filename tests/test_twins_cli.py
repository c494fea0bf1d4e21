"""`async-lint twins` and the `twins.*` configuration, as a user meets them: the real CLI in a
subprocess, on a copy of fixtures/twins (a small library with every kind of pair)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FIXTURE = ROOT / "fixtures" / "twins"
PYPROJECT = (FIXTURE / "pyproject.toml").read_text()


def run(cwd: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONDONTWRITEBYTECODE": "1"}
    process = subprocess.run(
        [sys.executable, "-m", "async_lint", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=120
    )
    assert "Traceback" not in process.stderr, process.stderr
    return process


@pytest.fixture
def project(tmp_path: Path) -> Path:
    shutil.copytree(FIXTURE, tmp_path / "shop-project")
    return tmp_path / "shop-project"


def configure(project: Path, twins_table: str) -> None:
    (project / "pyproject.toml").write_text(PYPROJECT + "\n[tool.async-lint.twins]\n" + twins_table)


def test_listing_names_every_pair_and_exits_0(project):
    process = run(project, "twins")
    assert process.returncode == 0, process.stderr
    out = process.stdout
    assert "`price_of()` and `aprice_of()` delegating" in out
    assert "`Catalogue.active_names()` and `Catalogue.aactive_names()` equal" in out
    assert "`Catalogue.cached_price()` and `Catalogue.acached_price()` equal" in out
    assert "marked (the async twin streams in chunks of 500 for the websocket feed)" in out
    assert "shop/services.py:52: ASL501 The twins return differently: sync `…name__icontains=text, active=True)]` vs async `…filter(name__icontains=text)]`" in out
    assert "shop/services.py:63: ASL501 Only the async twin runs `order.paid = True`\n" in out
    assert out.splitlines()[-1] == "6 twin pairs: 1 delegating, 2 equal, 1 marked as differing, 2 diverging."
    assert "---" not in out  # diffs only with --check or --diff


def test_check_prints_only_diverging_pairs_with_a_diff_and_exits_1(project):
    process = run(project, "twins", "--check", "shop")
    assert process.returncode == 1
    out = process.stdout
    assert "delegating" not in out.replace("1 delegating", "")
    assert "  = note: Only the async twin runs `order.paid = True` (line 65)" in out
    assert "--- shop/services.py:49 Catalogue.search (sync, compared form)" in out
    assert "+++ shop/services.py:52 Catalogue.asearch (async, compared form)" in out
    # keywords sorted, names qualified
    assert "-    return [p.name for p in shop.models.Product.objects.filter(active=True, name__icontains=text)]" in out
    assert "+    return [p.name for p in shop.models.Product.objects.filter(name__icontains=text)]" in out
    assert "+    shop.models.Order.objects.get(pk=order_id).paid = True" in out


def test_check_passes_on_agreeing_twins(project):
    services = project / "shop" / "services.py"
    text = services.read_text()
    text = text.replace("Product.objects.filter(name__icontains=text)]", "Product.objects.filter(name__icontains=text, active=True)]")
    text = text.replace('    order = Order.objects.get(pk=order_id)\n    order.save', '    order = Order.objects.get(pk=order_id)\n    order.paid = True\n    order.save')
    services.write_text(text)
    process = run(project, "twins", "--check")
    assert process.returncode == 0, process.stdout
    assert process.stdout.splitlines() == ["6 twin pairs: 1 delegating, 4 equal, 1 marked as differing."]


def test_noqa_counts_as_marked(project):
    services = project / "shop" / "services.py"
    text = services.read_text()
    text = text.replace("    async def asearch(self, text):", "    async def asearch(self, text):  # noqa: ASL501")
    text = text.replace("async def apay(order_id):", "async def apay(order_id):  # noqa")
    services.write_text(text)
    assert run(project, "twins", "--check").returncode == 0


def test_canonical_async_regenerates_the_sync_twins_and_then_check_passes(project):
    configure(project, 'canonical = "async"\n')
    check = run(project, "check", "--select", "ASL5", "--fix", "--unsafe-fixes")
    assert check.returncode == 0, check.stdout + check.stderr
    text = (project / "shop" / "services.py").read_text()
    assert "    def search(self, text):\n        return [p.name for p in Product.objects.filter(name__icontains=text)]\n" in text
    assert "    order = Order.objects.get(pk=order_id)\n    order.paid = True\n    order.save(update_fields=[\"paid\"])\n" in text
    assert "    return await apay(order_id)\n" in text  # ASL502
    assert run(project, "twins", "--check").returncode == 0


def test_a_marker_on_the_pair_overrides_the_configured_side(project):
    configure(project, 'canonical = "async"\n')
    services = project / "shop" / "services.py"
    services.write_text(
        services.read_text().replace(
            "    def search(self, text):", "    # async-lint: twin-canonical: sync\n    def search(self, text):"
        )
    )
    assert run(project, "check", "--select", "ASL501", "--fix", "--unsafe-fixes").returncode == 0
    text = services.read_text()
    # The sync twin carried the fix: the async twin now runs it.
    assert "    async def asearch(self, text):\n        return await sync_to_async(self.search)(text)\n" in text
    assert "active=True)]" in text


def test_without_a_canonical_side_there_is_no_fix(project):
    before = (project / "shop" / "services.py").read_text()
    process = run(project, "check", "--select", "ASL501", "--fix", "--unsafe-fixes")
    assert process.returncode == 1
    assert "if that is intended, say why with `# async-lint: twin-differs: <reason>`" in process.stdout
    assert (project / "shop" / "services.py").read_text() == before


def test_configured_patterns_find_other_names(project):
    (project / "shop" / "extra.py").write_text(
        "def fetch(x):\n    return x\n\n\nasync def co_fetch(x):\n    return x + 1\n"
    )
    configure(project, 'patterns = ["co_{}"]\n')
    process = run(project, "twins", "shop/extra.py")
    assert process.stdout.splitlines()[-1] == "1 twin pair: 1 diverging."


@pytest.mark.parametrize(
    "table, named",
    [
        ('canonical = "both"\n', "twins.canonical"),
        ("canonical = 1\n", "twins.canonical"),
        ('patterns = "a{}"\n', "twins.patterns"),
        ('patterns = ["async"]\n', "twins.patterns"),
        ('patterns = ["{}-x"]\n', "twins.patterns"),
        ('canonicle = "async"\n', "`twins.canonicle`"),
    ],
)
def test_bad_twins_configuration_exits_2_naming_the_key(project, table, named):
    configure(project, table)
    for command in (("twins",), ("check",)):
        process = run(project, *command)
        assert process.returncode == 2
        assert named in process.stderr
        assert process.stdout == ""


def test_twins_must_be_a_table(project):
    (project / "pyproject.toml").write_text(PYPROJECT.replace('target-version = "5.2"', 'target-version = "5.2"\ntwins = "async"'))
    process = run(project, "twins")
    assert process.returncode == 2 and "twins must be" in process.stderr


def test_missing_path_exits_2(project):
    process = run(project, "twins", "nowhere")
    assert process.returncode == 2 and "nowhere" in process.stderr
