"""`# noqa` and `# noqa: ASL101, ASL102` on the line where a finding starts suppress it."""

from __future__ import annotations

import io
import re
import tokenize

from .diagnostics import Diagnostic
from .source import SourceFile

_NOQA = re.compile(r"#\s*noqa(?::\s*(?P<codes>[A-Z]+[0-9]+(?:[,\s]+[A-Z]+[0-9]+)*))?", re.IGNORECASE)


def noqa_codes(source: SourceFile, row: int) -> frozenset[str] | None:
    """None: no noqa on that line; empty: a bare `# noqa`; else the codes it names."""
    line = source.line_text(row)
    if "noqa" not in line.lower():
        return None
    comment = _comment_of(line)
    if comment is None:
        return None
    match = _NOQA.search(comment)
    if match is None:
        return None
    codes = match.group("codes")
    return frozenset(re.split(r"[,\s]+", codes.upper())) if codes else frozenset()


def _comment_of(line: str) -> str | None:
    """The comment of a single line, found with the tokenizer so `"# noqa"` in a string is not one."""
    read_to = 0
    try:
        for token in tokenize.generate_tokens(io.StringIO(line).readline):
            if token.type == tokenize.COMMENT:
                return token.string
            if token.end[0] == 1:
                read_to = token.end[1]
    except (tokenize.TokenError, SyntaxError, IndentationError):
        # A line that does not tokenize alone (part of a bracketed or multi-line construct):
        # take the text from the first `#` past the tokens read, which may be in no string.
        hash_index = line.find("#", read_to)
        return line[hash_index:] if hash_index >= 0 else None
    return None


def suppressed(source: SourceFile, diagnostic: Diagnostic) -> bool:
    codes = noqa_codes(source, source.row_col(diagnostic.start)[0])
    return codes is not None and (not codes or diagnostic.code in codes)
