"""Async code in its sync form, as text edits: the one translator.

`translate()` reads an `async def` and returns the edits that turn its text into the sync
function it stands for, and the imports that text needs:

- `async def`, `async for`, `async with` and async comprehensions lose `async`; `await` goes;
- calls of async twins call their sync names: Django's (`aget` → `get`, `aget_object_or_404` →
  `get_object_or_404`), Python's (`__anext__`, `StopAsyncIteration`), libraries'
  (`asyncio.sleep` → `time.sleep`, `httpx.AsyncClient` → `httpx.Client`), the module's own twin
  pairs, and names whose sync form the sync twin itself uses ("evidence": `await svc.afetch()`
  where the sync twin calls `svc.fetch()`);
- work sent to a thread runs in place: `sync_to_async(f)(x)`, `asyncio.to_thread(f, x)`,
  `loop.run_in_executor(None, f, x)` and a `@sync_to_async` helper become `f(x)`;
- forms only async code has to write read as what they stand for: `await request.auser()` is
  `request.user`, `await self._aget_session()` is the `self._session` the sync twin reads, and
  `await session.aset(k, v)` is `session[k] = v` where the sync twin stores by subscript.

Two modes.  *Reading* (ASL5's comparison) drops an `await` it does not know and keeps line
numbers, so the compared statements point at the lines they came from.  *Writing* (ASL501's
regenerated twin, ASL303's generated sync method) refuses (`CannotTranslate`) as soon as
something async has no known sync form, and awaits of the module's own coroutine functions become
`async_to_sync(f)(...)`.
"""

from __future__ import annotations

import ast
import re
from collections import ChainMap
from dataclasses import dataclass, field
from typing import Callable, Iterable

from .. import django_api as api
from ..diagnostics import Edit
from ..fixes import apply_edits
from ..imports import bound_by, qualify
from ..source import SourceFile
from .pairs import Function, find_pairs, iter_containers, own_nodes, sync_candidates


class CannotTranslate(Exception):
    """Writing mode: the async code does something with no known sync form."""


def local_imports(function: Function) -> dict[str, str]:
    """Names bound by imports inside a function body (absolute imports only)."""
    bound: dict[str, str] = {}
    for node in own_nodes(function.body):
        if isinstance(node, ast.Import) or (isinstance(node, ast.ImportFrom) and node.level == 0 and node.module):
            bound.update(bound_by(node))
    return bound


@dataclass
class Names:
    """What the names of one file refer to."""

    imports: dict[str, str]  # local name → qualified name (module-level imports)
    patterns: tuple[str, ...]
    # async name → sync name for the twin pairs defined in this file.
    own_twins: dict[str, str] = field(default_factory=dict)
    module_functions: dict[str, Function] = field(default_factory=dict)
    module_classes: dict[str, ast.ClassDef] = field(default_factory=dict)

    @classmethod
    def of(cls, tree: ast.Module, imports: dict[str, str], patterns: Iterable[str]) -> "Names":
        patterns = tuple(patterns)
        own = {}
        for body, owner, _ in iter_containers(tree):
            for pair in find_pairs(body, owner, patterns):
                own[pair.async_.name] = pair.sync.name
        functions = {s.name: s for s in tree.body if isinstance(s, (ast.FunctionDef, ast.AsyncFunctionDef))}
        classes = {s.name: s for s in tree.body if isinstance(s, ast.ClassDef)}
        return cls(imports, patterns, own, functions, classes)

    def qualname(self, node: ast.expr, local: dict[str, str] | None = None) -> str | None:
        """Through the function's own imports (`local`) first, then the module's."""
        return qualify(node, ChainMap(local, self.imports) if local else self.imports)

    def is_sync_to_async(self, func: ast.expr, local: dict[str, str] | None = None) -> bool:
        qualname = self.qualname(func, local)
        if qualname is not None:
            return qualname in api.SYNC_TO_ASYNC
        return isinstance(func, ast.Name) and func.id in api.SYNC_TO_ASYNC_NAMES

    def is_async_to_sync(self, func: ast.expr, local: dict[str, str] | None = None) -> bool:
        qualname = self.qualname(func, local)
        if qualname is not None:
            return qualname in api.ASYNC_TO_SYNC
        return isinstance(func, ast.Name) and func.id == "async_to_sync"

    def sync_name_of(self, name: str, evidence: "Evidence", *, method: bool) -> str | None:
        """The sync twin of an async callable's name: the module's own pairs, Django's tables
        (methods only), or a pattern whose sync name the sync twin itself uses."""
        if name in self.own_twins:
            return self.own_twins[name]
        if method and name in api.ASYNC_METHOD_NAMES:
            return api.ASYNC_METHOD_NAMES[name]
        if name in api.PYTHON_ASYNC_NAMES:
            return api.PYTHON_ASYNC_NAMES[name]
        for candidate in sync_candidates(name, self.patterns):
            for option in (candidate, candidate.lstrip("_")):
                if option in evidence.names:
                    return option
        return None


_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_%]*")


@dataclass(frozen=True)
class Evidence:
    """What the sync twin itself uses: a name there is proof that an async name following a
    twin pattern is that name's twin (`await svc.afetch()` where the sync twin calls
    `svc.fetch()`).  Empty when there is no sync twin yet."""

    names: frozenset[str] = frozenset()  # every Name and attribute
    variables: frozenset[str] = frozenset()  # every Name
    called: frozenset[str] = frozenset()  # names and attributes that are called
    words: frozenset[str] = frozenset()  # words in string constants
    subscript_stores: bool = False  # `x[k] = v`
    # Imported names the sync twin uses: qualified name → the local name.
    imported: dict[str, str] = field(default_factory=dict)

    @classmethod
    def of(cls, function: Function | None, names: Names | None = None) -> "Evidence":
        if function is None:
            return cls()
        found_names, variables, called, words = set(), set(), set(), set()
        local = local_imports(function) if names is not None else {}
        imported: dict[str, str] = {}
        subscript_stores = False
        for node in ast.walk(function):
            if isinstance(node, ast.Name):
                found_names.add(node.id)
                variables.add(node.id)
                if names is not None:
                    qualname = names.qualname(node, local)
                    if qualname is not None:
                        imported.setdefault(qualname, node.id)
            elif isinstance(node, ast.Attribute):
                found_names.add(node.attr)
            elif isinstance(node, ast.Call):
                if isinstance(node.func, ast.Name):
                    called.add(node.func.id)
                elif isinstance(node.func, ast.Attribute):
                    called.add(node.func.attr)
            elif isinstance(node, ast.Constant) and isinstance(node.value, str):
                words.update(_WORD.findall(node.value))
            elif isinstance(node, ast.Assign) and any(isinstance(t, ast.Subscript) for t in node.targets):
                subscript_stores = True
        return cls(frozenset(found_names), frozenset(variables), frozenset(called), frozenset(words), subscript_stores, imported)


_GETTER = re.compile(r"^(?P<underscores>_*)get_(?P<name>\w+)$")
_ASYNC_WORDS = frozenset({"async", "aio"})


def strip_word(name: str, words: frozenset[str]) -> str:
    """`_get_async_client` → `_get_client`; `create_browser_async` → `create_browser`."""
    stripped = name.lstrip("_")
    parts = stripped.split("_")
    kept = [p for p in parts if p.lower() not in words]
    if len(kept) == len(parts) or not kept or not all(kept):
        return name
    return name[: len(name) - len(stripped)] + "_".join(kept)


@dataclass
class Translation:
    edits: list[Edit]
    imports: set[tuple[str, str]]  # (module, name) pairs the sync text needs (writing mode)


# How the caller knows more about a receiver than names tell (writing mode, ASL303): whether
# `await <receiver>.a<name>()` is a Django twin call, and whether `async for` can iterate it.
Receivers = Callable[[ast.expr], bool]

_AWAIT_KEYWORD = re.compile(r"await(?:[ \t]|\\\r?\n|\\\r)*")
_ASYNC_KEYWORD = re.compile(r"async(?:[ \t]|\\\r?\n|\\\r)*")
_ASYNC_FOR = re.compile(r"async((?:\s|\\\r?\n|\\\r)+)(?=for(?:\s|\\\r?\n|\\\r)+$)")


class _Translator:
    def __init__(
        self,
        source: SourceFile,
        function: ast.AsyncFunctionDef,
        names: Names,
        evidence: Evidence,
        *,
        writing: bool,
        django_receiver: Receivers | None,
        coroutines: frozenset[str],
    ):
        self.source, self.function, self.names, self.evidence = source, function, names, evidence
        self.writing, self.django_receiver, self.coroutines = writing, django_receiver, coroutines
        self.local = local_imports(function)
        self.edits: list[Edit] = []
        self.imports: set[tuple[str, str]] = set()
        self.parents: dict[int, ast.AST] = {}
        # Calls given their sync form: an awaited one loses its `await`.
        self.translated: set[int] = set()
        # Nodes rewritten as a whole with their await (`await s.aset(k, v)` → `s[k] = v`).
        self.claimed: set[int] = set()

    # -- helpers ------------------------------------------------------------------------------

    def start(self, node: ast.AST) -> int:
        return self.source.start(node)

    def end(self, node: ast.AST) -> int:
        return self.source.end(node)

    def qualname(self, node: ast.expr) -> str | None:
        return self.names.qualname(node, self.local)

    def refuse(self, why: str) -> None:
        if self.writing:
            raise CannotTranslate(why)

    def replace(self, start: int, end: int, text: str) -> None:
        """Replace a span; in reading mode the span's line breaks stay, so lines keep their
        numbers (inside the brackets the rewrites keep: after an opening one, before a closing
        one)."""
        if not self.writing:
            breaks = "".join(re.findall(r"\r\n|\r|\n", self.source.text[start:end]))
            text = breaks + text if text.startswith(")") else text + breaks
        self.edits.append(Edit(start, end, text))

    def drop_keyword(self, node: ast.AST, keyword: re.Pattern) -> None:
        """`await `, `async ` at the start of a node (with a line continuation after it)."""
        start = self.start(node)
        match = keyword.match(self.source.text, start)
        if match:
            self.replace(start, match.end(), "")

    def spelling(self, qualname: str) -> str:
        """How the sync code names a qualified name: an existing import of it or of its module,
        else (writing) a new `from module import name`, else (reading) the dotted name."""
        module, _, name = qualname.rpartition(".")
        for bindings in (self.local, self.names.imports):
            for alias, bound in bindings.items():
                if bound == qualname:
                    return alias
                if module and bound == module:
                    return f"{alias}.{name}"
        if not module:
            return name
        if self.writing:
            self.imports.add((module, name))
            return name
        return qualname

    # -- the walk -----------------------------------------------------------------------------

    def run(self) -> Translation:
        nodes = list(ast.walk(self.function))
        for parent in nodes:
            for child in ast.iter_child_nodes(parent):
                self.parents[id(child)] = parent
        self.drop_keyword(self.function, _ASYNC_KEYWORD)
        awaits = [n for n in nodes if isinstance(n, ast.Await)]
        # Whole forms first, then calls (so that `async for`/`async with`/`await` know what was
        # translated), then names, then the async keywords and awaits.
        for node in awaits:
            if isinstance(node.value, ast.Call):
                self.await_form(node, node.value)
        for node in nodes:
            if isinstance(node, ast.Call) and id(node) not in self.claimed:
                self.call(node)
        for node in nodes[1:]:
            if isinstance(node, ast.Name):
                self.name(node)
            elif isinstance(node, ast.Attribute):
                self.attribute(node)
            elif isinstance(node, ast.Constant):
                self.constant(node)
            elif isinstance(node, ast.FunctionDef):
                self.helper(node)
            elif isinstance(node, ast.AsyncFunctionDef):
                self.refuse("a nested async function")
                self.drop_keyword(node, _ASYNC_KEYWORD)
            elif isinstance(node, ast.AsyncFor):
                if not self.sync_iterable(node.iter):
                    self.refuse("async for over an async iterable")
                self.drop_keyword(node, _ASYNC_KEYWORD)
            elif isinstance(node, ast.AsyncWith):
                if not all(id(item.context_expr) in self.translated for item in node.items):
                    self.refuse("async with over an async context manager")
                self.drop_keyword(node, _ASYNC_KEYWORD)
            elif isinstance(node, ast.comprehension) and node.is_async:
                self.comprehension(node)
        for node in awaits:
            self.await_(node)
        return Translation(self.edits, self.imports)

    # -- awaits -------------------------------------------------------------------------------

    def await_form(self, node: ast.Await, call: ast.Call) -> None:
        """`await` forms that become something else than a call."""
        func = call.func
        if not isinstance(func, ast.Attribute):
            return
        # `await session.aset(k, v)` as a statement is `session[k] = v` where the sync twin
        # stores by subscript (sessions have no `set`).
        if func.attr == "aset" and self.session_store(node, call):
            key, value = call.args
            self.replace(self.end(func.value), self.start(key), "[")
            self.replace(self.end(key), self.start(value), "] = ")
            self.replace(self.end(value), self.end(call), "")
            self.claimed.add(id(call))
            self.translated.add(id(call))
            return
        # `await request.auser()` is `request.user`; `await self._aget_session()` is the
        # `self._session` the sync twin reads.
        if not call.args and not call.keywords:
            prop = self.property_of(func.attr)
            if prop is not None:
                self.replace(self.end(func) - len(func.attr), self.end(call), prop)
                self.claimed.add(id(call))
                self.translated.add(id(call))

    def await_(self, node: ast.Await) -> None:
        call = node.value
        if id(call) in self.translated:
            self.drop_keyword(node, _AWAIT_KEYWORD)
            return
        if isinstance(call, ast.Call) and self.own_coroutine(call.func) and self.writing:
            # No sync twin: run the module's (or class's) own coroutine function from sync code.
            self.drop_keyword(node, _AWAIT_KEYWORD)
            self.imports.add(("asgiref.sync", "async_to_sync"))
            self.edits.append(Edit(self.start(call.func), self.start(call.func), "async_to_sync("))
            self.edits.append(Edit(self.end(call.func), self.end(call.func), ")"))
            return
        self.refuse("an await with no known sync form")
        self.drop_keyword(node, _AWAIT_KEYWORD)

    def session_store(self, node: ast.Await, call: ast.Call) -> bool:
        statement = self.parents.get(id(node))
        if not (isinstance(statement, ast.Expr) and len(call.args) == 2 and not call.keywords):
            return False
        if any(isinstance(a, ast.Starred) for a in call.args) or "set" in self.evidence.called:
            return False  # `set` called: a cache, whose `aset` is `set`
        if self.evidence.subscript_stores:
            return True
        receiver = call.func.value
        return self.writing and self.django_receiver is not None and self.django_receiver(receiver) and _named_session(receiver)

    def property_of(self, name: str) -> str | None:
        if name == "auser":
            return "user"
        candidates = list(sync_candidates(name, self.names.patterns))
        if strip_word(name, _ASYNC_WORDS) != name:
            candidates.append(strip_word(name, _ASYNC_WORDS))
        for candidate in candidates:
            if candidate in self.evidence.called:
                return None
            if candidate in self.evidence.names:
                return candidate  # a property of the sync twin, an awaited method of the async one
            getter = _GETTER.match(candidate)
            if getter:
                for prop in (getter["underscores"] + getter["name"], "_" + getter["name"]):
                    if prop in self.evidence.names and prop not in self.evidence.called:
                        return prop
        return None

    def own_coroutine(self, func: ast.expr) -> bool:
        if isinstance(func, ast.Name):
            return func.id in self.coroutines and func.id not in self.local
        return (
            isinstance(func, ast.Attribute)
            and isinstance(func.value, ast.Name)
            and func.value.id in ("self", "cls")
            and func.attr in self.coroutines
        )

    # -- calls ----------------------------------------------------------------------------------

    def call(self, node: ast.Call) -> None:
        func = node.func
        # sync_to_async(f, ...)(args) → f(args)
        if isinstance(func, ast.Call) and func.args and self.names.is_sync_to_async(func.func, self.local):
            wrapped = func.args[0]
            if self.writing and any(k.arg != "thread_sensitive" for k in func.keywords):
                self.refuse("sync_to_async with options other than thread_sensitive")
            bare = self.writing and isinstance(wrapped, (ast.Name, ast.Attribute, ast.Subscript, ast.Call))
            self.replace(self.start(func), self.start(wrapped), "" if bare else "(")
            self.replace(self.end(wrapped), self.end(func), "" if bare else ")")
            self.translated.add(id(node))
            return
        qualname = self.qualname(func)
        # asyncio.to_thread(f, *args) → f(*args); loop.run_in_executor(None, f, *args) → f(*args)
        skip = None
        if qualname in api.TO_THREAD and node.args:
            skip = 0
        elif isinstance(func, ast.Attribute) and func.attr == "run_in_executor" and len(node.args) >= 2:
            if self.writing and not (isinstance(node.args[0], ast.Constant) and node.args[0].value is None):
                self.refuse("run_in_executor on an executor")
            skip = 1
        if skip is not None:
            # `(f)(args)`: the brackets keep a callable written over several lines one expression.
            wrapped = node.args[skip]
            rest = [*node.args[skip + 1 :], *node.keywords]
            bare = self.writing and isinstance(wrapped, (ast.Name, ast.Attribute))
            self.replace(self.start(node), self.start(wrapped), "" if bare else "(")
            if rest:
                first = min(rest, key=lambda n: (n.lineno, n.col_offset))
                self.replace(self.end(wrapped), self.start(first), "(" if bare else ")(")
            else:
                self.replace(self.end(wrapped), self.end(node), "()" if bare else ")()")
            self.translated.add(id(node))
            return
        if qualname in api.ASYNC_FUNCTION_NAMES:
            sync_qualname = api.ASYNC_FUNCTION_NAMES[qualname]
            if isinstance(func, ast.Attribute):
                self.rename_attribute(func, sync_qualname.rsplit(".", 1)[1])
            else:
                self.replace(self.start(func), self.end(func), self.spelling(sync_qualname))
            self.claimed.add(id(func))
            self.translated.add(id(node))
            return
        if qualname in api.ASYNC_LIBRARY_NAMES:
            self.replace(self.start(func), self.end(func), self.spelling(api.ASYNC_LIBRARY_NAMES[qualname]))
            self.claimed.add(id(func))
            self.translated.add(id(node))
            return
        if isinstance(func, ast.Name) and self.inline_helper(func.id):
            self.translated.add(id(node))  # `await helper()` of a `@sync_to_async def helper()`
            return
        if isinstance(func, ast.Attribute):
            sync = self.method_sync_name(func)
            if sync is not None:
                self.rename_attribute(func, sync)
                self.claimed.add(id(func))
                self.translated.add(id(node))
        elif isinstance(func, ast.Name):
            sync = self.names.sync_name_of(func.id, self.evidence, method=False) or self.imported_twin(func)
            if sync is not None and (func.id in self.names.own_twins or not self.writing or sync in self.evidence.names or func.id in api.PYTHON_ASYNC_NAMES):
                self.replace(self.start(func), self.end(func), sync)
                self.claimed.add(id(func))
                self.translated.add(id(node))

    def rename_attribute(self, node: ast.Attribute, name: str) -> None:
        self.replace(self.end(node) - len(node.attr), self.end(node), name)

    def method_sync_name(self, func: ast.Attribute) -> str | None:
        name = func.attr
        sync = self.names.sync_name_of(name, self.evidence, method=True)
        if sync is None or not self.writing:
            return sync
        # Writing: the module's own twin, a name the sync twin uses, or a receiver known to be
        # Django's (the caller can tell, ASL303).
        if name in self.names.own_twins or sync in self.evidence.names or name in api.PYTHON_ASYNC_NAMES:
            return sync
        if self.django_receiver is not None and self.django_receiver(func.value):
            return sync
        return None

    def imported_twin(self, node: ast.Name) -> str | None:
        """`redis_adispatch` (`from m import adispatch as redis_adispatch`) where the sync twin
        uses `m.dispatch` under whatever local name."""
        qualname = self.qualname(node)
        if qualname is None or "." not in qualname:
            return None
        module, _, name = qualname.rpartition(".")
        for candidate in sync_candidates(name, self.names.patterns):
            local = self.evidence.imported.get(f"{module}.{candidate}")
            if local is not None:
                return local
        return None

    def inline_helper(self, name: str) -> bool:
        """A nested `@sync_to_async def name()` of this function."""
        for node in own_nodes(self.function.body):
            if isinstance(node, ast.FunctionDef) and node.name == name:
                return any(self.is_thread_decorator(d) for d in node.decorator_list)
        return False

    def is_thread_decorator(self, decorator: ast.expr) -> bool:
        return self.names.is_sync_to_async(decorator.func if isinstance(decorator, ast.Call) else decorator, self.local)

    def sync_iterable(self, node: ast.expr) -> bool:
        """What a sync `for` can iterate: a translated call (`qs.aiterator()` → `qs.iterator()`),
        a QuerySet chain, a receiver the caller knows, or a name the sync twin uses too."""
        if id(node) in self.translated:
            return True
        if self.django_receiver is not None and self.django_receiver(node):
            return True
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            return node.func.attr in api.LAZY_QUERYSET_METHODS or not self.writing
        if isinstance(node, ast.Name):
            return node.id in self.evidence.variables or not self.writing
        if isinstance(node, ast.Attribute):
            return node.attr in self.evidence.names or node.attr == "objects" or not self.writing
        if isinstance(node, ast.Subscript):
            return self.sync_iterable(node.value)
        return not self.writing

    # -- everything else ------------------------------------------------------------------------

    def helper(self, node: ast.FunctionDef) -> None:
        """`@sync_to_async def helper(): ...` runs in place once `await helper()` loses its await."""
        for decorator in node.decorator_list:
            if self.is_thread_decorator(decorator):
                at = self.source.text.rfind("@", 0, self.start(decorator))
                row = decorator.end_lineno
                line_end = self.source.line_starts[row] if row < len(self.source.line_starts) else self.end(decorator)
                self.replace(at, line_end, "")

    def comprehension(self, node: ast.comprehension) -> None:
        if not self.sync_iterable(node.iter):
            self.refuse("async comprehension over an async iterable")
        target = self.start(node.target)
        window = max(0, target - 400)
        match = None
        for match in _ASYNC_FOR.finditer(self.source.text, window, target):
            pass
        if match is not None:
            self.replace(match.start(), match.end(), "")

    def name(self, node: ast.Name) -> None:
        if id(node) in self.claimed or not isinstance(node.ctx, ast.Load):
            return
        if node.id in api.PYTHON_ASYNC_NAMES and node.id not in self.local:
            self.replace(self.start(node), self.end(node), api.PYTHON_ASYNC_NAMES[node.id])
            return
        qualname = self.qualname(node)
        if qualname in api.ASYNC_LIBRARY_NAMES:
            self.replace(self.start(node), self.end(node), self.spelling(api.ASYNC_LIBRARY_NAMES[qualname]))
            return
        # A reference to one of the module's async twins (`run(_aexecute_task, task)`).
        sync = self.names.own_twins.get(node.id) or self.imported_twin(node)
        if sync is not None:
            self.replace(self.start(node), self.end(node), sync)

    def attribute(self, node: ast.Attribute) -> None:
        if id(node) in self.claimed or not isinstance(node.ctx, ast.Load):
            return
        qualname = self.qualname(node)
        if qualname in api.ASYNC_LIBRARY_NAMES:
            self.replace(self.start(node), self.end(node), self.spelling(api.ASYNC_LIBRARY_NAMES[qualname]))
            self.claimed.update(id(n) for n in ast.walk(node))
            return
        if node.attr in api.PYTHON_ASYNC_NAMES:
            self.rename_attribute(node, api.PYTHON_ASYNC_NAMES[node.attr])
            return
        parent = self.parents.get(id(node))
        if isinstance(parent, ast.Call) and parent.func is node:
            return  # a call the translation did not rename
        # A method reference that is not called here: `func = self._cache.aadd`.
        sync = self.names.sync_name_of(node.attr, self.evidence, method=True)
        if sync is not None and (not self.writing or sync in self.evidence.names):
            self.rename_attribute(node, sync)

    def constant(self, node: ast.Constant) -> None:
        """A one-word string that names a twin (`hasattr(backend, "ahas_perm")`) names the
        sync one, where the sync twin's strings use that name."""
        if not isinstance(node.value, str) or not self.evidence.words or not node.value.isidentifier():
            return
        segment = self.source.segment(node)
        if segment[1:-1] != node.value:
            return  # a prefix, an escape or a concatenation: left as written
        for candidate in sync_candidates(node.value, self.names.patterns):
            if candidate in self.evidence.words:
                self.replace(self.start(node) + 1, self.end(node) - 1, candidate)
                return


def _named_session(node: ast.expr) -> bool:
    name = node.attr if isinstance(node, ast.Attribute) else getattr(node, "id", "")
    return "session" in str(name).lower()


def translate(
    source: SourceFile,
    function: ast.AsyncFunctionDef,
    names: Names,
    evidence: Evidence = Evidence(),
    *,
    writing: bool = False,
    django_receiver: Receivers | None = None,
    owner: ast.ClassDef | None = None,
    siblings: dict[str, Function] | None = None,
) -> Translation:
    """The edits that turn `function`'s text into its sync form (see the module doc).  In
    writing mode raises CannotTranslate."""
    coroutines = frozenset(
        name for name, f in (siblings if owner is not None and siblings is not None else names.module_functions).items()
        if isinstance(f, ast.AsyncFunctionDef) and name not in names.own_twins
    )
    translator = _Translator(
        source, function, names, evidence, writing=writing, django_receiver=django_receiver, coroutines=coroutines
    )
    translation = translator.run()
    translation.edits = sorted(set(translation.edits))
    return translation


def sync_text(source: SourceFile, function: Function, edits: list[Edit]) -> str:
    """The function from its `def` line to its end with `edits` applied, the `def` line's own
    indentation removed so the text parses alone (line 1 is the function's `lineno`)."""
    start = source.line_starts[function.lineno - 1]
    end = source.end(function)
    inside = [Edit(e.start - start, e.end - start, e.content) for e in edits if start <= e.start and e.end <= end]
    text = apply_edits(source.text[start:end], inside)
    return text[len(text) - len(text.lstrip(" \t")) :]
