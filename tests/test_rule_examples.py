"""Every rule's documented examples are its tests: invalid ones must be found (and fixed as
documented), valid ones must not."""

from __future__ import annotations

import pytest

from async_lint.fixes import parses
from async_lint.rules import RULES

from .helpers import findings, fixed

INVALID = [
    pytest.param(rule, example, id=f"{code}-invalid-{n}")
    for code, rule in RULES.items()
    for n, example in enumerate(rule.INVALID)
    if rule.node_types
]
VALID = [
    pytest.param(rule, example, id=f"{code}-valid-{n}")
    for code, rule in RULES.items()
    for n, example in enumerate(rule.VALID)
]


def test_every_checking_rule_has_examples():
    for code, rule in RULES.items():
        if rule.node_types:
            assert rule.INVALID and rule.VALID, f"{code} needs VALID and INVALID examples"


@pytest.mark.parametrize("rule, example", INVALID)
def test_invalid_example_is_found_and_fixed(rule, example):
    codes = {rule.code}
    found = findings(example.code, codes, example.target_version)
    assert len(found) == example.count, [f.message for f in found]
    safe = fixed(example.code, codes, example.target_version)
    assert safe == (example.fixed or example.code)
    unsafe = fixed(example.code, codes, example.target_version, unsafe=True)
    assert unsafe == (example.unsafe_fixed or example.fixed or example.code)
    assert parses(unsafe)
    # Idempotent: a second pass changes nothing.
    assert fixed(unsafe, codes, example.target_version, unsafe=True) == unsafe


@pytest.mark.parametrize("rule, example", VALID)
def test_valid_example_is_not_flagged(rule, example):
    assert findings(example.code, {rule.code}, example.target_version) == []


def test_the_registry_knows_codes_and_defaults_without_importing_the_rules():
    """Choosing rules reads the module names and OFF_BY_DEFAULT; both must match the classes."""
    from async_lint import rules

    assert rules.codes() == tuple(RULES)
    assert rules.OFF_BY_DEFAULT == {code for code, rule in RULES.items() if not rule.default_enabled}


@pytest.mark.parametrize(
    "head, fixed_head",
    [
        # After the last third-party import.
        (
            "import os\n\nfrom django.db import models\n\nfrom library.models import Book\n",
            "import os\n\nfrom django.db import models\nfrom asgiref.sync import sync_to_async\n\nfrom library.models import Book\n",
        ),
        # In a block of its own, before the project's imports.
        (
            "import os\n\nfrom library.models import Book\n",
            "import os\n\nfrom asgiref.sync import sync_to_async\n\nfrom library.models import Book\n",
        ),
    ],
)
def test_an_import_a_fix_adds_goes_into_the_third_party_block(head, fixed_head):
    body = "\n\nasync def view(pk):\n    return await sync_to_async(os.getpid)(), Book.objects.in_bulk([pk])\n"
    code = head + body.replace("await sync_to_async(os.getpid)(), ", "os.getpid(), ")
    assert fixed(code, {"ASL101"}, "4.0") == fixed_head + body.replace(
        "Book.objects.in_bulk([pk])", "await sync_to_async(Book.objects.in_bulk)([pk])"
    ).replace("await sync_to_async(os.getpid)(), ", "os.getpid(), ")
