"""`--statistics`: how many findings of each rule, most frequent first, as ruff prints them.

    47  ASL101  [*] sync-queryset-method

`[*]`: every one of them can be fixed with the fixes enabled; `[-]`: some can.  With
`--output-format json`, the same as a list of objects."""

from __future__ import annotations

import json
from collections import defaultdict

from ..fixes import applicable
from ..rules import RULES


def as_dicts(report, unsafe: bool) -> list[dict]:
    by_code = defaultdict(list)
    for d in report.diagnostics:
        by_code[d.code].append(d)
    rows = []
    for code, found in sorted(by_code.items(), key=lambda item: (-len(item[1]), item[0])):
        fixable = sum(applicable(d.fix, unsafe) for d in found)
        rule = RULES.get(code)
        rows.append(
            {
                "code": code,
                "name": rule.name if rule else "",
                "count": len(found),
                "fixable": fixable == len(found),
                "fixable_count": fixable,
            }
        )
    return rows


def render(report, unsafe: bool) -> str:
    rows = as_dicts(report, unsafe)
    if not rows:
        return ""
    width = max(len(str(r["count"])) for r in rows)
    lines = []
    for r in rows:
        marker = "[*]" if r["fixable"] else "[-]" if r["fixable_count"] else "   "
        lines.append(f"{r['count']:>{width}}\t{r['code']}\t{marker} {r['name']}")
    return "\n".join(lines)


def render_json(report, unsafe: bool) -> str:
    return json.dumps(as_dicts(report, unsafe), indent=2)
