"""docs/rules.md is generated from the rule modules; it must not go stale."""

from async_lint.docs import rules_markdown

from .helpers import ROOT


def test_rules_doc_is_current():
    current = (ROOT / "docs" / "rules.md").read_text(encoding="utf-8")
    assert current == rules_markdown(), "docs/rules.md is stale: run `python -m async_lint.docs > docs/rules.md`"


def test_every_rule_doc_has_the_sections_a_reader_needs():
    from async_lint.rules import RULES

    for code, rule in RULES.items():
        doc = rule.doc()
        assert "## What it does" in doc, code
        if rule.node_types and code < "ASL9":
            assert "## Why is this bad?" in doc and "## Fix" in doc, code
