"""GitHub Actions workflow commands: one `::error` annotation per finding, shown on the pull
request's diff and in the job summary.  The exit code still decides whether the job fails.

    ::error file=app/views.py,line=5,col=12,endLine=5,endColumn=34,title=ASL101 (sync-queryset-method)::message

Escaping follows GitHub's toolkit (`@actions/core`, `command.ts`): in the message `%`, CR and
LF; in property values also `:` and `,`.
"""

from __future__ import annotations

from ..rules import RULES
from . import display_path, location


def escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def render(report, unsafe: bool) -> str:
    lines = []
    for d in report.diagnostics:
        source = report.sources.get(d.path)
        start, end = location(source, d.start), location(source, d.end)
        rule = RULES.get(d.code)
        title = f"{d.code} ({rule.name})" if rule else d.code
        properties = {
            "file": display_path(d.path),
            "line": start["row"],
            "col": start["column"],
            "endLine": end["row"],
            "endColumn": end["column"],
            "title": title,
        }
        joined = ",".join(f"{key}={escape_property(str(value))}" for key, value in properties.items())
        lines.append(f"::error {joined}::{escape_data(d.message)}")
    return "\n".join(lines)
