"""What the ASL6 rules share (this module defines no rule): where the request is in a function,
which local values are computed from it, and how a module-level name is used by the functions
of the file.

The ASL6 rules look at a whole file at once (they are handed the `ast.Module`), because what
they flag is a relation between places: a `threading.local()` defined at the top and written
from a view, a `global` assigned in middleware.  Each rule checks the file's text for what it
needs before it calls anything here, so files that cannot matter cost one substring search.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from typing import Iterator

from .. import django_api as api
from ..semantic import FileModel, iter_scope_nodes

Function = ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda
_FUNCTIONS = (ast.FunctionDef, ast.AsyncFunctionDef)
_TRANSPARENT_DECORATORS = frozenset({"staticmethod", "classmethod"})


# -- the request and what comes from it ----------------------------------------------------------


def request_parameters(function: Function, file: FileModel) -> frozenset[str]:
    """Parameters that hold the request: `request` without an annotation (as `semantic.py`
    reads it), or any parameter annotated with Django's or DRF's request class."""
    if isinstance(function, ast.Lambda):
        return frozenset()
    names = set()
    arguments = function.args
    for arg in (*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs):
        annotation = arg.annotation
        if annotation is None:
            if arg.arg == "request":
                names.add(arg.arg)
            continue
        if isinstance(annotation, ast.Constant) and isinstance(annotation.value, str):
            try:
                annotation = ast.parse(annotation.value, mode="eval").body
            except SyntaxError:
                continue
        if file.qualname_of(annotation) in api.HTTP_REQUEST_CLASSES:
            names.add(arg.arg)
    return frozenset(names)


def mentions(expr: ast.AST | None, names: frozenset[str] | set[str]) -> bool:
    """Whether `expr` reads one of `names`."""
    if expr is None or not names:
        return False
    return any(isinstance(n, ast.Name) and n.id in names and isinstance(n.ctx, ast.Load) for n in ast.walk(expr))


def target_names(target: ast.expr) -> Iterator[ast.Name]:
    if isinstance(target, ast.Name):
        yield target
    elif isinstance(target, (ast.Tuple, ast.List)):
        for element in target.elts:
            yield from target_names(element)
    elif isinstance(target, ast.Starred):
        yield from target_names(target.value)


def bindings_of(function: Function) -> list[tuple[list[ast.Name], ast.expr | None]]:
    """(names bound, the value they are computed from) for each binding in the function's own
    frame, in source order."""
    if isinstance(function, ast.Lambda):
        return []
    found: list[tuple[list[ast.Name], ast.expr | None]] = []
    for node in iter_scope_nodes(function.body):
        if isinstance(node, ast.Assign):
            found.append(([n for t in node.targets for n in target_names(t)], node.value))
        elif isinstance(node, (ast.AnnAssign, ast.AugAssign)) and node.value is not None:
            found.append((list(target_names(node.target)), node.value))
        elif isinstance(node, ast.NamedExpr):
            found.append(([node.target], node.value))
        elif isinstance(node, (ast.For, ast.AsyncFor)):
            found.append((list(target_names(node.target)), node.iter))
        elif isinstance(node, (ast.With, ast.AsyncWith)):
            for item in node.items:
                if item.optional_vars is not None:
                    found.append((list(target_names(item.optional_vars)), item.context_expr))
    return found


def request_derived(function: Function, seeds: frozenset[str]) -> frozenset[str]:
    """The request parameters and the local names computed from them (`user = request.user`,
    then `name = user.username`), to a fixed point."""
    derived = set(seeds)
    if not derived:
        return frozenset()
    bindings = bindings_of(function)
    changed = True
    while changed:
        changed = False
        for names, value in bindings:
            if mentions(value, derived):
                for name in names:
                    if name.id not in derived:
                        derived.add(name.id)
                        changed = True
    return frozenset(derived)


# -- frames: which function a node runs in -------------------------------------------------------


class Frames:
    """Parents of every node of a file, and the function frame each node runs in."""

    def __init__(self, tree: ast.Module):
        self.tree = tree
        self.parent: dict[int, ast.AST] = {}
        for node in ast.walk(tree):
            for child in ast.iter_child_nodes(node):
                self.parent[id(child)] = node
        self._locals: dict[int, frozenset[str]] = {}
        self.module_functions = {s.name: s for s in tree.body if isinstance(s, _FUNCTIONS)}

    def parent_of(self, node: ast.AST) -> ast.AST | None:
        return self.parent.get(id(node))

    def frames(self, node: ast.AST) -> list[Function]:
        """The functions whose frame `node` runs in, innermost first.  Decorators, default
        values and annotations run in the frame around the function they belong to."""
        found: list[Function] = []
        child, parent = node, self.parent_of(node)
        while parent is not None:
            if isinstance(parent, _FUNCTIONS) and any(child is s for s in parent.body):
                found.append(parent)
            elif isinstance(parent, ast.Lambda) and child is parent.body:
                found.append(parent)
            child, parent = parent, self.parent_of(parent)
        return found

    def frame(self, node: ast.AST) -> Function | None:
        frames = self.frames(node)
        return frames[0] if frames else None

    def owner_class(self, function: Function) -> ast.ClassDef | None:
        parent = self.parent_of(function)
        return parent if isinstance(parent, ast.ClassDef) else None

    def local_names(self, function: Function) -> frozenset[str]:
        key = id(function)
        if key not in self._locals:
            self._locals[key] = local_names(function)
        return self._locals[key]

    def refers_to_module_name(self, node: ast.Name) -> bool:
        """Whether a name read or written in a function means the module-level binding."""
        return not any(node.id in self.local_names(f) for f in self.frames(node))


def local_names(function: Function) -> frozenset[str]:
    """Names local to a function: its parameters and what it binds, unless declared
    `global` / `nonlocal`."""
    arguments = function.args
    names = {
        a.arg
        for a in (*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs, arguments.vararg, arguments.kwarg)
        if a is not None
    }
    declared: set[str] = set()
    nodes = ast.walk(function.body) if isinstance(function, ast.Lambda) else iter_scope_nodes(function.body)
    for node in nodes:
        if isinstance(node, (ast.Global, ast.Nonlocal)):
            declared.update(node.names)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, (ast.Store, ast.Del)):
            names.add(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and node is not function:
            names.add(node.name)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names.update((a.asname or a.name).split(".")[0] for a in node.names)
        elif isinstance(node, ast.ExceptHandler) and node.name:
            names.add(node.name)
    return frozenset(names - declared)


def on_event_loop(frame: Function | None) -> bool:
    return isinstance(frame, ast.AsyncFunctionDef)


# -- sync helpers called on the event loop --------------------------------------------------------


def plain(function: ast.AST) -> bool:
    """A sync def whose decorators leave it a sync callable (`@sync_to_async` would not)."""
    return isinstance(function, ast.FunctionDef) and all(
        isinstance(d, ast.Name) and d.id in _TRANSPARENT_DECORATORS for d in function.decorator_list
    )


def called_helpers(function: Function, frames: Frames) -> Iterator[tuple[ast.Call, ast.FunctionDef]]:
    """Calls, in `function`'s own frame, of a sync function of this file: a module function, a
    function nested in this one, or a method of the same class through `self`/`cls`."""
    if isinstance(function, ast.Lambda):
        return
    nested = {s.name: s for s in iter_scope_nodes(function.body) if isinstance(s, ast.FunctionDef)}
    module_functions = frames.module_functions
    owner = frames.owner_class(function)
    methods = {s.name: s for s in owner.body if isinstance(s, _FUNCTIONS)} if owner is not None else {}
    for node in iter_scope_nodes(function.body):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        target = None
        if isinstance(func, ast.Name):
            if func.id in nested:
                target = nested[func.id]
            elif frames.refers_to_module_name(func):
                target = module_functions.get(func.id)
        elif (
            isinstance(func, ast.Attribute)
            and isinstance(func.value, ast.Name)
            and func.value.id in ("self", "cls")
            and methods
        ):
            target = methods.get(func.attr)
        if target is not None and plain(target):
            yield node, target


@dataclass
class LoopReach:
    """Which sync functions of a file run on the event loop, called directly from an `async def`
    (through up to `depth` calls), and from where."""

    frames: Frames
    depth: int = 4
    _reached: dict[int, tuple[ast.FunctionDef, ast.Call]] | None = field(default=None, init=False)

    def reached(self) -> dict[int, tuple[ast.FunctionDef, ast.Call]]:
        """id(helper) → (helper, the call on the event loop that first leads to it)."""
        if self._reached is None:
            reached: dict[int, tuple[ast.FunctionDef, ast.Call]] = {}
            queue: list[tuple[Function, ast.Call | None, int]] = [
                (n, None, 0) for n in ast.walk(self.frames.tree) if isinstance(n, ast.AsyncFunctionDef)
            ]
            while queue:
                function, origin, level = queue.pop()
                if level >= self.depth:
                    continue
                for call, helper in called_helpers(function, self.frames):
                    if id(helper) in reached:
                        continue
                    reached[id(helper)] = (helper, origin or call)
                    queue.append((helper, origin or call, level + 1))
            self._reached = reached
        return self._reached

    def loop_origin(self, frame: Function | None) -> ast.AST | None:
        """For code in `frame`: the `async def` it is in, or the call on the loop that runs
        it; None when it does not run on the event loop."""
        if frame is None:
            return None
        if isinstance(frame, ast.AsyncFunctionDef):
            return frame
        hit = self.reached().get(id(frame))
        return hit[1] if hit is not None else None
