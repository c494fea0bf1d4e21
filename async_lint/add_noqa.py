"""`--add-noqa`: a `# noqa: ASLnnn` on each line where a finding starts, so that a large codebase
adopts async-lint from a clean baseline (as ruff's `--add-noqa`).

Codes already named by a `# noqa: …` on the line are kept and the new ones added; a bare
`# noqa` already covers them all.  A line that ends inside a string (a triple-quoted string
going on) or with a backslash continuation cannot take a comment: it is left alone and counted.
"""

from __future__ import annotations

import io
import re
import tokenize
from collections import defaultdict

from .diagnostics import Diagnostic
from .noqa import noqa_codes
from .source import SourceFile

_NOQA_CODES = re.compile(r"(#\s*noqa:\s*)([A-Z]+[0-9]+(?:[,\s]+[A-Z]+[0-9]+)*)", re.IGNORECASE)


def with_noqa(source: SourceFile, diagnostics: list[Diagnostic]) -> tuple[str, int, int]:
    """The text with the directives added, how many lines got one, how many could not."""
    rows: dict[int, set[str]] = defaultdict(set)
    for diagnostic in diagnostics:
        rows[source.row_col(diagnostic.start)[0]].add(diagnostic.code)
    closed = _rows_that_cannot_end_in_a_comment(source.text)
    starts = source.line_starts
    lines = [source.text[start:end] for start, end in zip(starts, [*starts[1:], len(source.text)])]
    added = skipped = 0
    for row, codes in sorted(rows.items()):
        if row > len(lines) or row in closed:
            skipped += 1
            continue
        existing = noqa_codes(source, row)
        if existing is not None and (not existing or codes <= existing):
            continue  # a bare noqa, or every code named already
        line = lines[row - 1]
        body = line.rstrip("\r\n")
        ending = line[len(body):]
        if existing:
            merged = ", ".join(sorted(existing | codes))
            body = _NOQA_CODES.sub(lambda m: m.group(1) + merged, body, count=1)
        else:
            body = f"{body.rstrip()}  # noqa: {', '.join(sorted(codes))}"
        lines[row - 1] = body + ending
        added += 1
    return "".join(lines), added, skipped


def _rows_that_cannot_end_in_a_comment(text: str) -> set[int]:
    """Rows whose end is inside a string token, or that end with a backslash continuation."""
    closed: set[int] = set()
    try:
        for token in tokenize.generate_tokens(io.StringIO(text).readline):
            if token.start[0] < token.end[0] and token.type != tokenize.NL:
                # A token over several lines (a triple-quoted string, an f-string's parts on 3.12+):
                # every row but its last ends inside it.
                closed.update(range(token.start[0], token.end[0]))
    except (tokenize.TokenError, SyntaxError):
        return set(range(1, text.count("\n") + 2))
    for row, line in enumerate(io.StringIO(text, newline="").readlines(), 1):
        if line.rstrip("\r\n").rstrip().endswith("\\"):
            closed.add(row)
    return closed
