"""What a rule sees while it checks one node: the file, its semantic model, the scope the node
runs in, the node's parents, and the target Django version."""

from __future__ import annotations

import ast
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .config import TwinSettings
from .diagnostics import Diagnostic, Fix
from .django_api import Version
from .semantic import FileModel, Scope
from .source import SourceFile

if TYPE_CHECKING:
    from .functions import ProjectFunctions


@dataclass
class Context:
    source: SourceFile
    file: FileModel
    target: Version
    scope: Scope | None  # None at module level
    parents: tuple[ast.AST, ...] = ()
    # The project's functions, followed across modules (ASL117); None while a sync helper's
    # body is probed on behalf of an async caller.
    functions: "ProjectFunctions | None" = None
    twins: TwinSettings = TwinSettings()  # `twins.*` from the configuration (ASL5)
    reach: Version | None = None  # the newest Django the code runs on (None: the target)

    def reaches(self, version: Version) -> bool:
        """Whether the project runs on `version` or newer: a hazard of newer Django applies
        even when the oldest supported version (the target, which fixes are written for) is
        older."""
        return version <= (self.reach or self.target)

    @property
    def parent(self) -> ast.AST | None:
        return self.parents[-1] if self.parents else None

    def infer(self, node: ast.expr | None) -> object | None:
        return self.file.infer(node, self.scope)

    def as_attribute(self, node: ast.expr) -> ast.expr:
        """`getattr(x, "name")` as the attribute `x.name`; any other expression as it is."""
        if isinstance(node, ast.Call):
            return self.file.getattr_attribute(node, self.scope) or node
        return node

    def qualname(self, node: ast.expr) -> str | None:
        """The imported name an expression refers to (through the function's own imports
        too), unless a local name shadows it."""
        root = node
        while isinstance(root, ast.Attribute):
            root = root.value
        if isinstance(root, ast.Name) and self.scope is not None and self.scope.binds(root.id):
            return self.file._imported_name(node, self.scope)
        return self.file.qualname_of(node)

    def text(self, node: ast.AST) -> str:
        return self.source.segment(node)

    def report_definition(
        self, code: str, function: ast.FunctionDef | ast.AsyncFunctionDef, message: str, fix: Fix | None = None,
        notes: tuple[str, ...] = (),
    ) -> Diagnostic:
        """A finding on `def name` (`async def name`) of a definition, not its whole body."""
        start = self.source.start(function)
        name_at = self.source.text.find(function.name, start)
        end = name_at + len(function.name) if name_at >= 0 else start
        return Diagnostic(code, message, self.source.path, start, end, fix, notes)

    def report(
        self, code: str, node: ast.AST, message: str, fix: Fix | None = None, *, end_node: ast.AST | None = None
    ) -> Diagnostic:
        return Diagnostic(
            code,
            message,
            self.source.path,
            self.source.start(node),
            self.source.end(end_node or node),
            fix,
        )
