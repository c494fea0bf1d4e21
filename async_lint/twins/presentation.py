"""What a finding about a pair says: the most important difference on its first line (at most
120 characters), the others as notes; and both twins in compared form, for a diff."""

from __future__ import annotations

import ast
import difflib
import re

from .comparison import EFFECT, EXCEPTION, GUARD, PARAMETER, RETURN, VALUE, Comparison, Difference

FIRST_LINE = 120


def statement_source(lines: list[str], node: ast.AST) -> str:
    """A statement on one line: a simple statement whole, a compound one's header, comments
    left out."""
    if isinstance(node, ast.ExceptHandler):
        last = node.body[0].lineno - 1 if node.body and node.body[0].lineno > node.lineno else node.lineno
    else:
        last = node.end_lineno or node.lineno
        body = getattr(node, "body", None)
        if isinstance(body, list) and body and hasattr(body[0], "lineno"):
            last = max(node.lineno, body[0].lineno - 1)
    text = " ".join(lines[row - 1].strip() for row in range(node.lineno, min(last, len(lines)) + 1))
    text = re.sub(r"\s*#[^'\"]*$", "", text) if "#" in text else text
    return re.sub(r"\s+", " ", text).rstrip(":").strip()


_FORM_ONLY = re.compile(r"^\s*(?:await|async)?\s*a?$")


def _first_real_difference(sync_text: str, async_text: str) -> tuple[int, int]:
    """Where two statement texts first differ in more than `await`/`async`/an `a` prefix."""
    matcher = difflib.SequenceMatcher(None, sync_text, async_text, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        if tag == "insert" and _FORM_ONLY.match(async_text[j1:j2]):
            continue
        return i1, j1
    return len(sync_text), len(async_text)


def _window(text: str, at: int, limit: int) -> str:
    if len(text) <= limit:
        return text
    start = max(0, min(at - limit // 3, len(text) - limit))
    piece = text[start : start + limit]
    return ("…" if start > 0 else "") + piece + ("…" if start + limit < len(text) else "")


def _focus(sync_text: str, async_text: str, limit: int) -> tuple[str, str]:
    """Both texts cut down to where they differ, with a little context either side."""
    if len(sync_text) <= limit and len(async_text) <= limit:
        return sync_text, async_text
    sync_at, async_at = _first_real_difference(sync_text, async_text)
    suffix = 0
    while (
        suffix < len(sync_text) - sync_at
        and suffix < len(async_text) - async_at
        and sync_text[len(sync_text) - 1 - suffix] == async_text[len(async_text) - 1 - suffix]
    ):
        suffix += 1
    return _cut(sync_text, sync_at, len(sync_text) - suffix, limit), _cut(async_text, async_at, len(async_text) - suffix, limit)


def _cut(text: str, start: int, end: int, limit: int) -> str:
    """At most `limit` characters of `text` around `text[start:end]`."""
    if len(text) <= limit:
        return text
    room = limit - (end - start)
    if room <= 0:
        begin, stop = start, start + limit
    else:
        after_room = len(text) - end
        before = min(start, max(room // 2, room - after_room))
        begin, stop = start - before, min(len(text), end + room - before)
    return ("…" if begin > 0 else "") + text[begin:stop] + ("…" if stop < len(text) else "")


# (one side only, both sides differently)
_WORDS = {
    GUARD: ("checks", "The twins check differently"),
    PARAMETER: ("fills in an input:", "The twins take their inputs differently"),
    EXCEPTION: ("raises", "The twins raise differently"),
    EFFECT: ("runs", "The twins write differently"),
    RETURN: ("returns", "The twins return differently"),
    VALUE: ("computes", "The twins compute differently"),
}


def _verb(difference: Difference, node: ast.AST) -> str:
    if isinstance(node, ast.ExceptHandler):
        return "catches"
    if isinstance(node, ast.Expr) and isinstance(node.value, (ast.Yield, ast.YieldFrom)):
        return "yields"
    if isinstance(node, ast.Return):
        return "returns"
    return _WORDS[difference.kind][0]


def _shown(lines: list[str], node: ast.AST) -> str:
    if isinstance(node, ast.Return):
        text = statement_source(lines, node)
        return text[len("return") :].strip() or "None"
    if isinstance(node, ast.ExceptHandler):
        return ast.unparse(node.type) if node.type is not None else "every exception"
    if isinstance(node, ast.Raise) and node.exc is not None:
        exc = node.exc.func if isinstance(node.exc, ast.Call) else node.exc
        return ast.unparse(exc)
    return statement_source(lines, node)


def sentence(difference: Difference, lines: list[str], limit: int, *, where: bool = True) -> str:
    """One difference in words: "Only the sync twin checks `...` (line 12)"; without `where`,
    no line numbers (the first line of a finding)."""
    if difference.kind == PARAMETER and difference.detail:
        return difference.detail
    if difference.sync is not None and difference.async_ is not None:
        sync_text, async_text = _focus(_shown(lines, difference.sync), _shown(lines, difference.async_), limit)
        sync_line = f" (line {difference.sync.lineno})" if where else ""
        async_line = f" (line {difference.async_.lineno})" if where else ""
        kind = difference.kind
        return f"{_WORDS[kind][1]}: sync `{sync_text}`{sync_line} vs async `{async_text}`{async_line}"
    present = difference.sync if difference.sync is not None else difference.async_
    side = "sync" if difference.sync is not None else "async"
    text = _window(_shown(lines, present), 0, limit + 24)
    line = f" (line {present.lineno})" if where else ""
    return f"Only the {side} twin {_verb(difference, present)} `{text}`{line}"


def describe(comparison: Comparison, lines: list[str]) -> tuple[str, tuple[str, ...]]:
    """The finding's message (the most important difference, in at most 120 characters) and its
    notes (that difference where it is, then the others)."""
    first, *others = comparison.differences
    limit = 64
    message = sentence(first, lines, limit, where=False)
    while len(message) > FIRST_LINE and limit > 16:
        limit -= 4
        message = sentence(first, lines, limit, where=False)
    notes = [] if first.detail else [sentence(first, lines, 200)]
    notes += [sentence(d, lines, 72) for d in others[:5]]
    if len(others) > 5:
        notes.append(f"and {len(others) - 5} more differences (`async-lint twins --diff` shows both twins in compared form)")
    return message, tuple(notes)


def compared_text(name: str, body: list[ast.stmt], arguments: ast.arguments) -> str:
    """A twin in compared form, as code (`ast.unparse`), for a diff."""
    node = ast.FunctionDef(name=name, args=arguments, body=body or [ast.Pass()], decorator_list=[], returns=None)
    if hasattr(node, "type_params"):
        node.type_params = []
    ast.fix_missing_locations(node)
    return ast.unparse(node) + "\n"
