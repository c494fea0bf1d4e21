"""What a rule is: a code, a name, its documentation, its examples, and a detector.

The class docstring is the rule's documentation (ruff's sections: what it does, why is this
bad, fix safety).  `INVALID` and `VALID` are its examples: the first invalid example and its fix
are rendered into the docs, and every example is a test case, so a rule cannot exist without
them.
"""

from __future__ import annotations

import ast
import inspect
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar, Iterable

if TYPE_CHECKING:
    from ..context import Context
    from ..diagnostics import Diagnostic

DOCS_URL = "https://github.com/async-lint/async-lint/blob/main/docs/rules.md"


@dataclass(frozen=True)
class Valid:
    code: str
    target_version: str | None = None


@dataclass(frozen=True)
class Invalid:
    code: str
    # The code after `--fix` (safe fixes) and after `--fix --unsafe-fixes`; None: unchanged.
    fixed: str | None = None
    unsafe_fixed: str | None = None
    target_version: str | None = None
    count: int = 1  # findings of this rule in `code`


EVENT_LOOP = "event-loop"  # nodes that run on the event loop: bodies of `async def`
MODULE = "module"  # every node of the file


class Rule:
    code: ClassVar[str]
    name: ClassVar[str]
    # The node types `check` is called with, and where: nodes that run on the event loop (an
    # `async def` is also handed its own node, for its decorators), or every node of the file.
    node_types: ClassVar[tuple[type[ast.AST], ...]]
    looks_at: ClassVar[str] = EVENT_LOOP
    # A file is parsed for this rule only if its text contains one of these.
    requires_text: ClassVar[tuple[str, ...]] = ("async",)
    # Whether this hazard also counts inside a sync helper called from async code (ASL117).
    counts_in_helpers: ClassVar[bool] = True
    default_enabled: ClassVar[bool] = True
    VALID: ClassVar[list[Valid]] = []
    INVALID: ClassVar[list[Invalid]] = []

    def check(self, node: ast.AST, ctx: "Context") -> Iterable["Diagnostic"]:
        raise NotImplementedError

    @classmethod
    def family(cls) -> str:
        return cls.code[:4] + "xx"

    @classmethod
    def doc(cls) -> str:
        return inspect.cleandoc(cls.__doc__ or "")

    @classmethod
    def summary(cls) -> str:
        return cls.doc().splitlines()[0] if cls.__doc__ else cls.name

    @classmethod
    def url(cls) -> str:
        return f"{DOCS_URL}#{cls.code.lower()}-{cls.name}"

    @classmethod
    def has_fix(cls) -> bool:
        return any(e.fixed is not None or e.unsafe_fixed is not None for e in cls.INVALID)
