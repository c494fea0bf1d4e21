"""ruff's JSON output fields, so tools that read `ruff --output-format json` read ours."""

from __future__ import annotations

import json
import os

from ..rules import RULES
from . import location


def as_dicts(report) -> list[dict]:
    items = []
    for d in report.diagnostics:
        source = report.sources.get(d.path)
        start = location(source, d.start)
        fix = None
        if d.fix is not None:
            fix = {
                "applicability": d.fix.applicability.value,
                "message": d.fix.message,
                "edits": [
                    {
                        "content": edit.content,
                        "location": location(source, edit.start),
                        "end_location": location(source, edit.end),
                    }
                    for edit in d.fix.edits
                ],
            }
        rule = RULES.get(d.code)
        items.append(
            {
                "cell": None,
                "code": d.code,
                "end_location": location(source, d.end),
                "filename": os.path.abspath(d.path),
                "fix": fix,
                "location": start,
                "message": d.message,
                "noqa_row": start["row"],
                "url": rule.url() if rule else None,
            }
        )
    return items


def render(report, unsafe: bool) -> str:
    return json.dumps(as_dicts(report), indent=2)
