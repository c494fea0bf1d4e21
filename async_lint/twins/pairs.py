"""Which functions are twins: `x` and `ax` (or a configured naming pattern) defined side by side
in one class or module, and which pairs are not compared at all.

Not compared: a twin that calls the other (it delegates, so they agree by construction), an
interface stub, and test code (a test and its async copy exercise two paths on purpose, and a
test module's helpers differ as the tests need).
"""

from __future__ import annotations

import ast
import os
import re
from dataclasses import dataclass, field
from typing import Iterable, Iterator

Function = ast.FunctionDef | ast.AsyncFunctionDef


def twin_name(sync_name: str, pattern: str) -> str:
    """`get` → `aget`; `_get_session` → `_aget_session`; `__enter__` → `__aenter__`."""
    stripped = sync_name.lstrip("_")
    return sync_name[: len(sync_name) - len(stripped)] + pattern.format(stripped)


def sync_candidates(async_name: str, patterns: Iterable[str]) -> Iterator[str]:
    """The sync names an async name could be the twin of, by pattern."""
    stripped = async_name.lstrip("_")
    underscores = async_name[: len(async_name) - len(stripped)]
    for pattern in patterns:
        prefix, _, suffix = pattern.partition("{}")
        if stripped.startswith(prefix) and stripped.endswith(suffix) and len(stripped) > len(prefix) + len(suffix):
            core = stripped[len(prefix) : len(stripped) - len(suffix)]
            if core[:1].isalpha() or core[:1] == "_":
                yield underscores + core


def decorator_names(function: Function) -> set[str]:
    names = set()
    for decorator in function.decorator_list:
        target = decorator.func if isinstance(decorator, ast.Call) else decorator
        if isinstance(target, ast.Name):
            names.add(target.id)
        elif isinstance(target, ast.Attribute):
            names.add(target.attr)
    return names


# A static or class method is not the twin of an instance method of the same name.
_BINDING_DECORATORS = frozenset({"staticmethod", "classmethod"})
# Protocol methods that Python calls for `for`/`with` and their `async` forms: an object offers
# both so that either statement works, and each side does what its protocol needs.
PROTOCOL_PAIRS = frozenset({("__iter__", "__aiter__"), ("__next__", "__anext__"), ("__enter__", "__aenter__"), ("__exit__", "__aexit__")})


@dataclass(eq=False)
class TwinPair:
    sync: ast.FunctionDef
    async_: ast.AsyncFunctionDef
    owner: ast.ClassDef | None  # None: module-level functions
    pattern: str
    # The functions of the same class or module body, by name.
    siblings: dict[str, Function] = field(default_factory=dict, repr=False)
    # The names of the classes (and functions) the pair is defined in, outermost first.
    path: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        prefix = f"{self.owner.name}." if self.owner is not None else ""
        return f"`{prefix}{self.sync.name}()` and `{prefix}{self.async_.name}()`"

    @property
    def names(self) -> tuple[str, str]:
        return self.sync.name, self.async_.name

    @property
    def is_protocol(self) -> bool:
        return self.names in PROTOCOL_PAIRS


def find_pairs(
    body: list[ast.stmt], owner: ast.ClassDef | None, patterns: Iterable[str], path: tuple[str, ...] = ()
) -> list[TwinPair]:
    """Twin pairs among the definitions of one class or module body (the last definition of a
    name is the one that counts, as at run time)."""
    functions: dict[str, Function] = {}
    for stmt in body:
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
            functions[stmt.name] = stmt
    pairs, taken = [], set()
    patterns = tuple(patterns)
    for name, sync in functions.items():
        if not isinstance(sync, ast.FunctionDef) or "overload" in decorator_names(sync):
            continue
        for pattern in patterns:
            twin = functions.get(twin_name(name, pattern))
            if isinstance(twin, ast.AsyncFunctionDef) and twin.name not in taken:
                if (decorator_names(sync) & _BINDING_DECORATORS) != (decorator_names(twin) & _BINDING_DECORATORS):
                    break
                pairs.append(TwinPair(sync, twin, owner, pattern, functions, path))
                taken.add(twin.name)
                break
    return pairs


def iter_containers(tree: ast.Module) -> Iterator[tuple[list[ast.stmt], ast.ClassDef | None, tuple[str, ...]]]:
    """The module body and every class body, with the path of names that leads to it."""
    stack: list[tuple[ast.AST, tuple[str, ...]]] = [(tree, ())]
    while stack:
        node, path = stack.pop()
        if isinstance(node, ast.Module):
            yield node.body, None, path
        elif isinstance(node, ast.ClassDef):
            yield node.body, node, path
        for child in reversed(list(ast.iter_child_nodes(node))):
            if isinstance(child, (ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
                stack.append((child, (*path, child.name)))
            elif isinstance(child, ast.stmt) and not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                stack.append((child, path))  # classes under `if`/`try` at module or class level


def all_pairs(tree: ast.Module, patterns: Iterable[str]) -> Iterator[TwinPair]:
    patterns = tuple(patterns)
    for body, owner, path in iter_containers(tree):
        yield from find_pairs(body, owner, patterns, path)


# -- pairs that are not compared ---------------------------------------------------------------

def _docstring_free(body: list[ast.stmt]) -> list[ast.stmt]:
    first = body[0] if body else None
    if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) and isinstance(first.value.value, str):
        return body[1:]
    return body


def is_stub(function: Function) -> bool:
    """An interface body: nothing but `pass`, `...`, or `raise NotImplementedError`."""
    for stmt in _docstring_free(function.body):
        if isinstance(stmt, ast.Pass):
            continue
        if isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant) and stmt.value.value is Ellipsis:
            continue
        if isinstance(stmt, ast.Raise) and stmt.exc is not None:
            exc = stmt.exc.func if isinstance(stmt.exc, ast.Call) else stmt.exc
            if isinstance(exc, ast.Name) and exc.id == "NotImplementedError":
                continue
            if isinstance(exc, ast.Attribute) and exc.attr == "NotImplementedError":
                continue
        if isinstance(stmt, ast.Return) and isinstance(stmt.value, ast.Name) and stmt.value.id == "NotImplemented":
            continue
        return False
    return True


def is_generator(function: Function) -> bool:
    return any(isinstance(n, (ast.Yield, ast.YieldFrom)) for n in own_nodes(function.body))


def own_nodes(body: list[ast.stmt]) -> Iterator[ast.AST]:
    """Every node of a body, without entering nested functions, lambdas and classes."""
    stack: list[ast.AST] = list(body)
    while stack:
        node = stack.pop()
        yield node
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)):
            stack.extend(ast.iter_child_nodes(node))


def refers_to(function: Function, name: str, owner: ast.ClassDef | None) -> bool:
    """Whether `function` uses the function `name` of its class (`self.name`, `cls.name`,
    `Owner.name`, `type(self).name`, `cast(T, self).name`) or module (`name`), directly or in a
    nested function."""
    receivers = {"self", "cls"} | ({owner.name} if owner is not None else set())
    for node in ast.walk(function):
        if owner is None and isinstance(node, ast.Name) and node.id == name and isinstance(node.ctx, ast.Load):
            return True
        if owner is not None and isinstance(node, ast.Attribute) and node.attr == name:
            value = node.value
            if isinstance(value, ast.Name) and value.id in receivers:
                return True
            if isinstance(value, ast.Call) and isinstance(value.func, (ast.Name, ast.Attribute)):
                called = value.func.id if isinstance(value.func, ast.Name) else value.func.attr
                if called in ("type", "cast", "super"):
                    return True
            if isinstance(value, ast.Attribute) and value.attr == "__class__":
                return True
    return False


def delegates_to_sync(pair: TwinPair) -> bool:
    """The async twin runs the sync one (`sync_to_async(self.x)`)."""
    return refers_to(pair.async_, pair.sync.name, pair.owner)


def delegates(pair: TwinPair) -> bool:
    return delegates_to_sync(pair) or refers_to(pair.sync, pair.async_.name, pair.owner)


_TEST_FILE = re.compile(r"^(test_.*|.*_tests?|tests?|conftest)\.py$")
_TEST_FOLDERS = frozenset({"tests", "test", "testing"})
_TEST_CLASS = re.compile(r"^Test|Tests?$|TestCase$|TestMixin$")


def is_test_path(path: str) -> bool:
    """A test module: `test_x.py`, `x_test.py`, `tests.py`, `conftest.py`, or under `tests/`."""
    parts = os.path.normpath(path).split(os.sep)
    return bool(_TEST_FILE.match(parts[-1])) or any(part in _TEST_FOLDERS for part in parts[:-1])


def is_test_class(node: ast.ClassDef) -> bool:
    return bool(_TEST_CLASS.search(node.name)) or any(_TEST_CLASS.search(_base_name(b) or "") for b in node.bases)


def is_test_code(path: str, pair: TwinPair) -> bool:
    """Tests, test classes and test modules: a test and its async copy (`test_x`/`test_x_async`)
    check two paths on purpose, and test helpers differ as the tests need."""
    if pair.sync.name.startswith("test") or pair.async_.name.startswith("test"):
        return True
    if any(_TEST_CLASS.search(name) for name in pair.path):
        return True
    return (pair.owner is not None and is_test_class(pair.owner)) or is_test_path(path)


def _base_name(base: ast.expr) -> str | None:
    if isinstance(base, ast.Name):
        return base.id
    if isinstance(base, ast.Attribute):
        return base.attr
    return None


# -- markers --------------------------------------------------------------------------------------

_DIFFERS = re.compile(r"#\s*async-lint:\s*twin-differs\b:?\s*(?P<reason>.*)$")
_CANONICAL = re.compile(r"#\s*async-lint:\s*twin-canonical\b:?\s*(?P<side>\w+)")


def header_lines(function: Function, lines: list[str]) -> Iterator[str]:
    """The comment lines right above a definition (and its decorators), and its header lines."""
    first = min([function.lineno, *(d.lineno for d in function.decorator_list)])
    row = first - 1
    above = []
    while 1 <= row <= len(lines) and lines[row - 1].strip().startswith("#"):
        above.append(lines[row - 1])
        row -= 1
    yield from reversed(above)
    body_start = function.body[0].lineno if function.body else function.lineno
    for row in range(first, max(body_start, function.lineno + 1)):
        if row <= len(lines):
            yield lines[row - 1]


def marker_reason(pair: TwinPair, lines: list[str]) -> str | None:
    """The reason of a `# async-lint: twin-differs: <reason>` on either twin."""
    for function in (pair.sync, pair.async_):
        for line in header_lines(function, lines):
            match = _DIFFERS.search(line)
            if match and match.group("reason").strip():
                return match.group("reason").strip()
    return None


def canonical_side(pair: TwinPair, lines: list[str], default: str | None, sides: Iterable[str]) -> str | None:
    """`# async-lint: twin-canonical: async|sync` on either twin, else the configured side."""
    for function in (pair.sync, pair.async_):
        for line in header_lines(function, lines):
            match = _CANONICAL.search(line)
            if match and match.group("side") in sides:
                return match.group("side")
    return default
