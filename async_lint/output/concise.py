from __future__ import annotations

from . import display_path, fix_marker, location


def render(report, unsafe: bool) -> str:
    lines = []
    for d in report.diagnostics:
        where = location(report.sources.get(d.path), d.start)
        lines.append(f"{display_path(d.path)}:{where['row']}:{where['column']}: {d.code} {fix_marker(d, unsafe)}{d.message}")
    return "\n".join(lines)
