"""Rule documentation, rendered from each rule's docstring and examples (docs/rules.md and
`async-lint rule CODE`)."""

from __future__ import annotations

from .rules import RULES
from .rules.base import Rule


def rule_markdown(rule: type[Rule]) -> str:
    doc = rule.doc()
    summary, _, body = doc.partition("\n")
    parts = [f"## {rule.code} ({rule.name})", "", summary.strip(), "", body.strip(), ""]
    example = next((e for e in rule.INVALID if e.fixed or e.unsafe_fixed), rule.INVALID[0] if rule.INVALID else None)
    if example is not None:
        parts += ["### Example", "", "```python", example.code.rstrip(), "```", ""]
        fixed = example.fixed or example.unsafe_fixed
        if fixed:
            parts += ["Use instead:" + (" (unsafe fix)" if not example.fixed else ""), "", "```python", fixed.rstrip(), "```", ""]
        if example.target_version:
            parts += [f"(with `--target-version {example.target_version}`)", ""]
    return "\n".join(parts).rstrip() + "\n"


def rules_markdown() -> str:
    lines = [
        "# async-lint rules",
        "",
        "Generated from the rule modules by `python -m async_lint.docs`; a test fails when this file is stale.",
        "",
        "| code | name | fix |",
        "|---|---|---|",
    ]
    for code, rule in RULES.items():
        lines.append(f"| [{code}](#{code.lower()}-{rule.name}) | {rule.name} | {'yes' if rule.has_fix() else ''} |")
    lines.append("")
    return "\n".join(lines) + "\n" + "\n".join(rule_markdown(r) for r in RULES.values())


if __name__ == "__main__":
    print(rules_markdown(), end="")
