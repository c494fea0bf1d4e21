"""The human format: each finding with its source line, a caret under it, and the fix; then a
table of counts by rule.  Colour only when the stream is a terminal (rich decides; NO_COLOR is
honoured)."""

from __future__ import annotations

from collections import Counter

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from ..diagnostics import Applicability
from ..rules import RULES
from . import display_path, fix_marker, location


def render(report, unsafe: bool, console: Console) -> None:
    for d in report.diagnostics:
        source = report.sources.get(d.path)
        where = location(source, d.start)
        marker = escape(fix_marker(d, unsafe))
        console.print(
            f"[bold]{escape(display_path(d.path))}[/]:{where['row']}:{where['column']}: "
            f"[bold red]{d.code}[/] {marker}{escape(d.message)}",
            highlight=False,
        )
        if source is not None and source.text:
            row, column = where["row"], where["column"]
            end_row, end_column = source.row_col(d.end)
            line = source.line_text(row).expandtabs(1)
            width = max(1, (end_column if end_row == row else len(line) + 1) - column)
            gutter = " " * len(str(row))
            console.print(f"[blue]{gutter} |[/]", highlight=False)
            console.print(f"[blue]{row} |[/] {escape(line)}", highlight=False)
            console.print(f"[blue]{gutter} |[/] {' ' * (column - 1)}[red]{'^' * width}[/]", highlight=False)
        for note in d.notes:
            console.print(f"  [cyan]= note[/]: {escape(note)}", highlight=False)
        if d.fix is not None:
            kind = "" if d.fix.applicability is Applicability.SAFE else " (unsafe fix)"
            console.print(f"  [cyan]= help[/]: {escape(d.fix.message)}{kind}", highlight=False)
        console.print()
    if report.diagnostics:
        counts = Counter(d.code for d in report.diagnostics)
        table = Table(box=None, show_header=True, header_style="bold", pad_edge=False)
        table.add_column("count", justify="right")
        table.add_column("code")
        table.add_column("name")
        for code, count in sorted(counts.items()):
            rule = RULES.get(code)
            table.add_row(str(count), code, rule.name if rule else "")
        console.print(table)
