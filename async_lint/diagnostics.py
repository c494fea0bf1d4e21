"""Findings and fixes as data.  Rules produce them; the fix engine and the outputs consume them."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

# The tool's own findings, about a file rather than its code: not parsed, not read, its fix not
# written (documented with the rules, in rules/asl90*).
SYNTAX_ERROR = "ASL901"
UNREADABLE = "ASL902"
FIX_FAILED = "ASL903"


class Applicability(str, Enum):
    """As in ruff: safe fixes keep behaviour; unsafe ones may change it and are opt-in."""

    SAFE = "safe"
    UNSAFE = "unsafe"


@dataclass(frozen=True, order=True)
class Edit:
    """Replace text[start:end] (character offsets) with `content`."""

    start: int
    end: int
    content: str

    def overlaps(self, other: "Edit") -> bool:
        if self == other:
            return False
        if self.start == self.end == other.start == other.end:
            return True  # two insertions at one point: their order would be arbitrary
        return self.start < other.end and other.start < self.end


@dataclass(frozen=True)
class Fix:
    message: str
    edits: tuple[Edit, ...]
    applicability: Applicability = Applicability.SAFE


# The longest first line of a message: what a one-line format (concise, JSON, an editor's
# hover, a CI annotation) shows; the rest goes to the notes of the full output.
HEADLINE = 120
# Where a long message is cut, in order of preference: before its advice (`…; use X`), before
# its explanation (`X is sync: …`), at a comma.
_CUTS = ("; ", ": ", ", ")
_SHORTEST = 40  # a headline cut shorter than this says too little ("SyntaxError")


@dataclass(frozen=True)
class Diagnostic:
    code: str
    message: str
    path: str
    start: int
    end: int
    fix: Fix | None = None
    # More about the finding, shown under it in the full output (`= note: ...`).
    notes: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        headline, rest = split_headline(self.message)
        if rest:
            object.__setattr__(self, "message", headline)
            object.__setattr__(self, "notes", (rest, *self.notes))


def split_headline(message: str) -> tuple[str, str]:
    """(the first line, at most HEADLINE characters, the rest); the rest is "" when the message
    fits, or has no place to be cut."""
    if len(message) <= HEADLINE and "\n" not in message:
        return message, ""
    first, _, more = message.partition("\n")
    if len(first) <= HEADLINE:
        return first, more
    for cut in _CUTS:
        at = first.rfind(cut, 0, HEADLINE)
        while at >= _SHORTEST:
            head = first[:at]
            # Not inside a code span or a parenthesis: the headline must read as a whole.
            if head.count("`") % 2 == 0 and head.count("(") == head.count(")"):
                rest = first[at + len(cut):]
                return head, f"{rest}\n{more}" if more else rest
            at = first.rfind(cut, 0, at)
    # No place to cut: the headline ends at a word, and the note repeats the whole message.
    head = first[: first.rfind(" ", 0, HEADLINE - 1)].rstrip(",;:")
    return f"{head}…", message
