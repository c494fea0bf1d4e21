"""Findings and fixes as data.  Rules produce them; the fix engine and the outputs consume them."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


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
