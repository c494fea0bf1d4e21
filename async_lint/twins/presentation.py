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
    text = re.sub(r"\s+", " ", text).rstrip(":").strip()
    # A call laid out over lines reads as it would on one: no space inside brackets, no
    # trailing comma (string literals left as written).
    pieces = _STRING.split(text)
    pieces[::2] = [_TIGHT_CLOSE.sub(r"\1", _TIGHT_OPEN.sub(r"\1", piece)) for piece in pieces[::2]]
    return "".join(pieces)


_STRING = re.compile(r"(\"(?:[^\"\\]|\\.)*\"|'(?:[^'\\]|\\.)*')")
_TIGHT_OPEN = re.compile(r"([(\[{]) ")
_TIGHT_CLOSE = re.compile(r",? ([)\]}])")


_FORM_ONLY = re.compile(r"^\s*(?:await|async)?\s*a?$")


def _telling_difference(sync_text: str, async_text: str) -> tuple[int, int]:
    """Where two statement texts differ, word by word, in more than `await`/`async`/an `a`
    prefix: the first thing one side has and the other lacks (an argument), else the first
    replacement (a different client object is usually form, a dropped argument rarely is)."""
    sync_words, async_words = _WORD.findall(sync_text), _WORD.findall(async_text)
    sync_starts, async_starts = _starts(sync_words), _starts(async_words)
    matcher = difflib.SequenceMatcher(None, sync_words, async_words, autojunk=False)
    changes = [
        (tag, sync_starts[i1], async_starts[j1])
        for tag, i1, i2, j1, j2 in matcher.get_opcodes()
        if tag != "equal" and not (tag == "insert" and _FORM_ONLY.match("".join(async_words[j1:j2])))
    ]
    one_sided = [(i, j) for tag, i, j in changes if tag in ("insert", "delete")]
    if one_sided:
        return one_sided[0]
    if changes:
        return changes[0][1], changes[0][2]
    return len(sync_text), len(async_text)


_WORD = re.compile(r"\w+|\s+|[^\w\s]")


def _starts(words: list[str]) -> list[int]:
    """Where each word starts in the text, and the text's end."""
    starts = [0]
    for word in words:
        starts.append(starts[-1] + len(word))
    return starts


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
    sync_at, async_at = _telling_difference(sync_text, async_text)
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
    # Whole words: a cut through a name reads as another name.
    while begin > 0 and _in_word(text, begin):
        begin -= 1
    while stop < len(text) and _in_word(text, stop):
        stop += 1
    return ("…" if begin > 0 else "") + text[begin:stop] + ("…" if stop < len(text) else "")


def _in_word(text: str, at: int) -> bool:
    """Whether `at` falls between two characters of one name or number."""
    return (text[at - 1].isalnum() or text[at - 1] == "_") and (text[at].isalnum() or text[at] == "_")


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
        said = difference.detail or _WORDS[difference.kind][1]
        return f"{said}: sync `{sync_text}`{sync_line} vs async `{async_text}`{async_line}"
    present = difference.sync if difference.sync is not None else difference.async_
    side = "sync" if difference.sync is not None else "async"
    text = _window(_shown(lines, present), 0, limit + 24)
    line = f" (line {present.lineno})" if where else ""
    return f"Only the {side} twin {_verb(difference, present)} `{text}`{line}"


def describe(comparison: Comparison, lines: list[str]) -> tuple[str, tuple[str, ...]]:
    """The finding's message (the most important difference, in at most 120 characters) and its
    notes (that difference where it is, then the others)."""
    first, *_ = differences = _one_per_statement(comparison.differences)
    limit = 64
    message = sentence(first, lines, limit, where=False)
    while len(message) > FIRST_LINE and limit > 16:
        limit -= 4
        message = sentence(first, lines, limit, where=False)
    if len(message) > FIRST_LINE and first.detail:
        message = first.detail  # the statements are in the notes
    notes = [] if first.kind == PARAMETER and first.detail else [sentence(first, lines, 200)]
    notes += [sentence(d, lines, 72) for d in differences[1:6]]
    if len(differences) > 6:
        notes.append(f"and {len(differences) - 6} more differences (`async-lint twins --diff` shows both twins in compared form)")
    return message, tuple(notes)


def _one_per_statement(differences: list[Difference]) -> list[Difference]:
    """One pair of statements can differ in several ways (what it writes, what it returns): it
    is named once, under the most important (differences come most important first)."""
    said: set[tuple[int, int]] = set()
    kept = []
    for difference in differences:
        statements = (id(difference.sync), id(difference.async_))
        if difference.detail or statements not in said:
            said.add(statements)
            kept.append(difference)
    return kept


def compared_text(name: str, body: list[ast.stmt], arguments: ast.arguments) -> str:
    """A twin in compared form, as code (`ast.unparse`), for a diff."""
    node = ast.FunctionDef(name=name, args=arguments, body=body or [ast.Pass()], decorator_list=[], returns=None)
    if hasattr(node, "type_params"):
        node.type_params = []
    ast.fix_missing_locations(node)
    return ast.unparse(node) + "\n"
