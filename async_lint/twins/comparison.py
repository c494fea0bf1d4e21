"""Do the twins still do the same thing?  The verdict on one pair, and what differs.

Both twins in normal form (`normal_form`) are aligned statement by statement (descending into
compound statements whose headers agree; a statement found at another place on the other side
is moved, not missing).  What is left is classified, and only what changes behaviour counts:

- *guard*: a check on one side only that returns, raises or skips (`if not overwrite: ...`), or
  a check that tests something else;
- *exception*: an exception raised, caught or converted on one side only, or another class;
- *effect*: a write on one side only (a call whose result is not used, on anything but a
  local; an attribute or item stored on an object the caller can see; an ORM, cache or session
  write), or the same write with other arguments;
- *return*: another shape of result (a value and None, tuples of other lengths, other keys);
- *parameter*: a parameter or default one side lacks, or a parameter one side never reads;
- *value*: the same statement computing its value from other data (another key, constant,
  operator or argument of the same call).

Not a difference: another API for the same step (`requests` / `httpx`, each side's own client
or lock), a wrapper that is only form (`list(x)`, `file.read()` for an open file), a local
renamed, a check of which world a value belongs to (`iscoroutinefunction`, `hook.is_async`).
"""

from __future__ import annotations

import ast
import difflib
import re
from dataclasses import dataclass, field

from ..config import DEFAULT_TWIN_PATTERNS
from ..imports import dotted_name
from .normal_form import NormalForm, dump, is_form_test, is_lock
from .pairs import TwinPair, own_nodes, twin_name

GUARD = "guard"
EXCEPTION = "exception"
EFFECT = "effect"
RETURN = "return"
PARAMETER = "parameter"
VALUE = "value"
# Most important first: the first difference of a pair is the one its finding names.
KINDS = (GUARD, EXCEPTION, EFFECT, RETURN, PARAMETER, VALUE)

# Methods that write: their call is an effect even when its result is used.
WRITE_METHODS = frozenset(
    "save delete create update bulk_create bulk_update get_or_create update_or_create add remove clear"
    " set set_many delete_many incr decr touch flush cycle_key send send_robust enqueue publish"
    " post put patch close commit rollback write writelines unlink rename mkdir rmdir".split()
)


@dataclass(frozen=True)
class Difference:
    kind: str
    sync: ast.AST | None  # the statement on each side; None where it is missing
    async_: ast.AST | None
    detail: str = ""  # what differs, when the statements alone do not say (a parameter's name)



@dataclass
class Comparison:
    pair: TwinPair
    verdict: str
    differences: list[Difference] = field(default_factory=list)
    reason: str = ""  # a `twin-differs` marker's reason
    forms: tuple[NormalForm, NormalForm] | None = None


DELEGATING = "delegating"
STUB = "stub"
EQUAL = "equal"
MARKED = "marked"
DIVERGES = "diverges"


# -- alignment --------------------------------------------------------------------------------------

_BLOCKS = ("body", "orelse", "finalbody")


def _header(node: ast.AST) -> str:
    """A compound statement without its blocks."""
    fields = {}
    for name, value in ast.iter_fields(node):
        if name in _BLOCKS or name in ("handlers", "cases"):
            continue
        fields[name] = dump(value) if isinstance(value, ast.AST) else repr(value) if not isinstance(value, list) else [dump(v) if isinstance(v, ast.AST) else repr(v) for v in value]
    return f"{type(node).__name__}{fields}"


def _key(stmt: ast.stmt) -> str:
    """What makes two statements the same statement changed: the same kind, and the same target
    or callee."""
    if isinstance(stmt, (ast.Assign, ast.AugAssign, ast.AnnAssign)):
        targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
        return "assign " + " ".join(dump(t) for t in targets)
    if isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call):
        func = stmt.value.func
        return "call " + (func.attr if isinstance(func, ast.Attribute) else dump(func))
    if isinstance(stmt, ast.Delete):
        return "delete"
    if isinstance(stmt, (ast.If, ast.While)):
        return _header(stmt)  # another test is another check, not this one changed
    if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return f"def {stmt.name}"
    return type(stmt).__name__


def _pair_up(
    sync_block: list[ast.stmt], async_block: list[ast.stmt], same_check
) -> list[tuple[ast.stmt | None, ast.stmt | None]]:
    """Statements of a changed stretch paired by kind and target, in order (checks: by a test
    that differs in nothing that matters); the rest alone."""
    pairs: list[tuple[ast.stmt | None, ast.stmt | None]] = []
    taken: set[int] = set()
    for stmt in sync_block:
        key = _key(stmt)
        match = next((i for i, other in enumerate(async_block) if i not in taken and _key(other) == key), None)
        if match is None and isinstance(stmt, (ast.If, ast.While)):
            match = next(
                (
                    i for i, other in enumerate(async_block)
                    if i not in taken and type(other) is type(stmt)
                    and same_check(stmt.test, other.test)
                ),
                None,
            )
        if match is None:
            pairs.append((stmt, None))
        else:
            taken.add(match)
            pairs.append((stmt, async_block[match]))
    pairs.extend((None, stmt) for i, stmt in enumerate(async_block) if i not in taken)
    return pairs


def align(sync_body: list[ast.stmt], async_body: list[ast.stmt], same_check) -> list[tuple[ast.stmt | None, ast.stmt | None]]:
    """The statements that differ, paired where one is the other changed.  `same_check(a, b)`:
    whether two tests check the same thing."""
    sync_dumps = [dump(s) for s in sync_body]
    async_dumps = [dump(s) for s in async_body]
    if sync_dumps == async_dumps:
        return []
    found: list[tuple[ast.stmt | None, ast.stmt | None]] = []
    matcher = difflib.SequenceMatcher(None, sync_dumps, async_dumps, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        for sync_stmt, async_stmt in _pair_up(sync_body[i1:i2], async_body[j1:j2], same_check):
            if sync_stmt is not None and async_stmt is not None and _compound(sync_stmt) and type(sync_stmt) is type(async_stmt):
                if _header(sync_stmt) != _header(async_stmt):
                    found.append((_shallow(sync_stmt), _shallow(async_stmt)))
                for name in _BLOCKS:
                    found += align(getattr(sync_stmt, name, []) or [], getattr(async_stmt, name, []) or [], same_check)
                found += _align_handlers(sync_stmt, async_stmt, same_check)
            else:
                found.append((sync_stmt, async_stmt))
    return found


def _shallow(stmt: ast.stmt) -> ast.stmt:
    """A compound statement's header alone (its blocks are aligned on their own).  An `if`
    keeps whether its blocks exit: that is what makes it a guard."""
    copy = stmt.__class__.__new__(stmt.__class__)
    copy.__dict__.update(stmt.__dict__)
    copy.exits = any(isinstance(n, (ast.Return, ast.Raise, ast.Break, ast.Continue)) for n in own_nodes([*getattr(stmt, "body", []), *getattr(stmt, "orelse", [])]))
    for name in (*_BLOCKS, "handlers"):
        if isinstance(getattr(stmt, name, None), list):
            setattr(copy, name, [])
    return copy


def _compound(stmt: ast.stmt) -> bool:
    return any(isinstance(getattr(stmt, name, None), list) for name in (*_BLOCKS, "handlers"))


def _align_handlers(sync_stmt: ast.stmt, async_stmt: ast.stmt, same_check) -> list[tuple[ast.AST | None, ast.AST | None]]:
    sync_handlers = {dump(h.type) if h.type else "": h for h in getattr(sync_stmt, "handlers", [])}
    async_handlers = {dump(h.type) if h.type else "": h for h in getattr(async_stmt, "handlers", [])}
    found: list[tuple[ast.AST | None, ast.AST | None]] = []
    for key, handler in sync_handlers.items():
        other = async_handlers.get(key)
        found += align(handler.body, other.body, same_check) if other is not None else [(handler, None)]
    found += [(None, h) for key, h in async_handlers.items() if key not in sync_handlers]
    return found


# -- pieces of one-sided statements ------------------------------------------------------------------


def _pieces(node: ast.AST, nested: bool = False, form: bool = False) -> list[ast.AST]:
    """A one-sided statement as the pieces that can have moved: a simple statement whole, a
    compound one as its header (the node itself) and the pieces of its blocks.  Pieces from a
    nested function are marked `nested` (its `return` is not the twin's), pieces under a check
    of which world a value belongs to (`if iscoroutine(response): raise ...`) `form`."""
    if nested:
        node.nested = True
    if form:
        node.form = True
    if not isinstance(node, ast.stmt) or not _compound(node) or isinstance(node, ast.ClassDef):
        if isinstance(node, ast.ExceptHandler):
            return [node, *(p for s in node.body for p in _pieces(s, nested))]
        return [node]
    inner = nested or isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
    form = form or (isinstance(node, (ast.If, ast.While)) and is_form_test(node.test))
    pieces: list[ast.AST] = [node]
    for name in _BLOCKS:
        for stmt in getattr(node, name, []) or []:
            pieces += _pieces(stmt, inner, form)
    for handler in getattr(node, "handlers", []) or []:
        pieces += [handler, *(p for s in handler.body for p in _pieces(s, inner, form))]
    return pieces


def _piece_key(node: ast.AST) -> str:
    return _header(node) if isinstance(node, ast.stmt) and _compound(node) else dump(node)


# -- classification ------------------------------------------------------------------------------------


class _Classifier:
    def __init__(
        self,
        sync_form: NormalForm,
        async_form: NormalForm,
        machinery: frozenset[str],
        helper_calls: dict[str, frozenset[tuple[str, str]]],
        relations: frozenset[str],
    ):
        self.forms = {"sync": sync_form, "async": async_form}
        self.relations = relations
        # (name, object) of the calls each twin makes through the functions of its class or
        # module it calls.
        self.helper_calls = helper_calls
        self.parameters = {"sync": set(sync_form.parameters), "async": set(async_form.parameters)}
        self.locals = {
            side: (_locals(form.body) | form.variables) - self.parameters[side] for side, form in self.forms.items()
        }
        # Locals holding an object the twin made itself (a list, a dict): changing it is not an
        # effect anyone else sees.
        self.owned = {side: _owned(form.body) for side, form in self.forms.items()}
        self.atoms = {side: {dump(a) for n in _tests(form.body) for a in _atoms(n)} for side, form in self.forms.items()}
        self.returns = {side: {_shape(n.value) for n in own_nodes(form.body) if isinstance(n, ast.Return)} for side, form in self.forms.items()}
        self.machinery = machinery

    def one_sided(self, node: ast.AST, side: str) -> str | None:
        """The kind of difference a piece found on one side only makes, or None."""
        if getattr(node, "form", False):
            return None  # how one world adapts a value of the other
        if isinstance(node, ast.ExceptHandler):
            return None if _reraises(node) else EXCEPTION
        if isinstance(node, (ast.If, ast.While)):
            if self._guard(node, side):
                return GUARD
            return PARAMETER if self._fills_in_input(node, side) else None
        if isinstance(node, (ast.With, ast.AsyncWith)):
            return EFFECT if any(self._transactional(item.context_expr) for item in node.items) else None
        if isinstance(node, ast.Raise):
            return EXCEPTION
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            return None
        if isinstance(node, ast.Return):
            if node.value is None or getattr(node, "nested", False):
                return None
            # A return moved by restructured logic is not another result: only a shape the
            # other twin never returns is.
            other = self.returns["async" if side == "sync" else "sync"]
            shape = _shape(node.value)
            if shape == "value":
                return RETURN if other <= {"None"} else None
            return RETURN if shape not in other else None
        if isinstance(node, ast.Expr):
            value = node.value
            if isinstance(value, (ast.Yield, ast.YieldFrom)):
                return None if getattr(node, "nested", False) else RETURN
            return EFFECT if isinstance(value, ast.Call) and self._effect_call(value, side, used=False) else None
        if isinstance(node, (ast.Assign, ast.AugAssign, ast.AnnAssign, ast.Delete)):
            targets = node.targets if isinstance(node, (ast.Assign, ast.Delete)) else [node.target]
            if side == "async" and isinstance(node, ast.Assign) and all(
                isinstance(t, ast.Attribute) and t.attr in self.relations for t in targets
            ):
                return None  # a related object set so that the async code does not load it lazily
            if any(self._visible(t, side) and not self._machinery(t) for t in targets):
                return EFFECT
            value = getattr(node, "value", None)
            if value is not None and any(isinstance(n, ast.Call) and self._effect_call(n, side, used=True) for n in ast.walk(value)):
                return EFFECT
        return None

    def _fills_in_input(self, node: ast.If | ast.While, side: str) -> bool:
        """`if factory is None: factory = Default`: one twin gives an input both take a value
        the other leaves as it is."""
        shared = self.parameters["sync"] & self.parameters["async"]
        return isinstance(node, ast.If) and any(
            isinstance(stmt, ast.Assign) and any(isinstance(t, ast.Name) and t.id in shared for t in stmt.targets)
            for stmt in [*node.body, *node.orelse]
        )

    def _split_condition(self, combined: ast.expr | None, part: ast.expr | None, side: str) -> bool:
        """`return a or b` where the other twin returns early on `a` and then `return b`: the
        same result, the condition split in two."""
        if not isinstance(combined, ast.BoolOp) or part is None:
            return False
        rest = [v for v in combined.values if dump(v) != dump(part)]
        return len(rest) < len(combined.values) and all(dump(a) in self.atoms[side] for v in rest for a in _atoms(v))

    def _guard(self, node: ast.If | ast.While, side: str) -> bool:
        if is_form_test(node.test) or self._machinery(node.test):
            return False
        other = self.atoms["async" if side == "sync" else "sync"]
        if all(dump(a) in other for a in _atoms(node.test)):
            return False  # the same conditions, tested in another arrangement
        if hasattr(node, "exits"):
            return node.exits
        return any(isinstance(n, (ast.Return, ast.Raise, ast.Break, ast.Continue)) for n in own_nodes([*node.body, *node.orelse]))

    def _transactional(self, node: ast.expr) -> bool:
        func = node.func if isinstance(node, ast.Call) else node
        name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
        return name in ("atomic", "select_for_update")

    def _machinery(self, node: ast.AST) -> bool:
        """Something only one world needs: a lock, or a name that says it is the async (or
        sync) one and that the other twin does not use."""
        for child in ast.walk(node):
            name = child.attr if isinstance(child, ast.Attribute) else getattr(child, "id", None)
            if name is not None and (name in self.machinery or is_lock(child)):
                return True
        return False

    def _root(self, node: ast.expr) -> ast.expr:
        while isinstance(node, (ast.Attribute, ast.Subscript, ast.Call)):
            node = node.func if isinstance(node, ast.Call) else node.value
        return node

    def _without_own_inputs(self, node: ast.AST, side: str) -> ast.AST:
        if isinstance(node, ast.BoolOp):
            kept = [v for v in node.values if not self._own_parameter(v, side)]
            if len(kept) == 1:
                return kept[0]
        return node

    def _inputs(self, node: ast.AST, side: str) -> set[str]:
        """The parameters both twins take that an expression reads."""
        shared = self.parameters["sync"] & self.parameters["async"] - {"self", "cls"}
        return {n.id for n in ast.walk(node) if isinstance(n, ast.Name) and n.id in shared}

    def _own_parameter(self, node: ast.AST, side: str) -> bool:
        other = "async" if side == "sync" else "sync"
        return isinstance(node, ast.Name) and node.id in self.parameters[side] and node.id not in self.parameters[other]

    def _other_arguments(self, sync_call: ast.Call, async_call: ast.Call) -> bool:
        """Whether the same function gets other arguments, inputs only one twin takes aside."""
        sync_args = [a for a in sync_call.args if not self._own_parameter(a, "sync")]
        async_args = [a for a in async_call.args if not self._own_parameter(a, "async")]
        sync_keywords = {k.arg: k.value for k in sync_call.keywords if not self._own_parameter(k.value, "sync")}
        async_keywords = {k.arg: k.value for k in async_call.keywords if not self._own_parameter(k.value, "async")}
        if len(sync_args) != len(async_args) or sync_keywords.keys() != async_keywords.keys():
            return True
        pairs = [*zip(sync_args, async_args), *((sync_keywords[k], async_keywords[k]) for k in sync_keywords)]
        return any(self._material(a, b) for a, b in pairs)

    @staticmethod
    def _wraps_with_settings(outer: ast.Call, inner: ast.Call) -> bool:
        target = dump(inner)
        if not any(dump(n) == target for n in ast.walk(outer) if n is not outer):
            return False
        wrappers = [n for n in ast.walk(outer) if isinstance(n, ast.Call) and target != dump(n) and any(dump(m) == target for m in ast.walk(n) if m is not n)]
        # Settings: a keyword (`timeout=t`), or an argument that is not a name (`wait_for(c, 5)`).
        return any(
            any(k.arg is not None for k in w.keywords)
            or any(not isinstance(a, ast.Name) and target not in [dump(m) for m in ast.walk(a)] for a in w.args)
            for w in wrappers
        )

    def _visible(self, target: ast.expr, side: str) -> bool:
        """A store or delete the caller can see: not a local variable of the twin."""
        if isinstance(target, (ast.Tuple, ast.List)):
            return any(self._visible(t, side) for t in target.elts)
        if isinstance(target, ast.Name):
            return False
        if isinstance(target, ast.Starred):
            return self._visible(target.value, side)
        node = target
        while isinstance(node, (ast.Attribute, ast.Subscript, ast.Call)):
            if isinstance(node, ast.Call) and _makes_object(node):
                return False  # an object the twin made (read where its name was used)
            node = node.func if isinstance(node, ast.Call) else node.value
        return not (isinstance(node, ast.Name) and node.id in self.owned[side])

    def _effect_call(self, call: ast.Call, side: str, *, used: bool) -> bool:
        """A call that changes something the caller can see, and that the other twin does not
        make anywhere (it may use its result differently)."""
        if not self._effect_kind(call, side, used=used):
            return False
        other = "async" if side == "sync" else "sync"
        name = _called(call)
        receiver = ast.unparse(call.func.value) if isinstance(call.func, ast.Attribute) else ""
        if (name, receiver) in self.helper_calls[other]:
            return False  # the other twin makes it through a helper
        # The other twin makes the call as often (a counterpart fed other values is a
        # counterpart: those values are found where they are computed).
        return self._count_like(call, other) < self._count_like(call, side)

    def _count_like(self, call: ast.Call, side: str) -> int:
        """How often a twin makes a call like `call` (of `call`'s side): the same method of the
        same object (or of an object each twin made itself), arguments that do not differ.
        Copies of an assignment's value where its name was read are not counted again."""
        name = _called(call)
        own = isinstance(call.func, ast.Attribute) and self._own_object(call.func.value, "sync" if side == "async" else "async")
        return sum(
            1
            for n in (m for s in self.forms[side].body for m in ast.walk(s))
            if isinstance(n, ast.Call)
            and not hasattr(n, "origin")
            and _called(n) == name
            and (dump(n.func) == dump(call.func) or own and isinstance(n.func, ast.Attribute) and self._own_object(n.func.value, side))
            and not self._material(n, call, outside_values=True)
        )

    def _effect_kind(self, call: ast.Call, side: str, *, used: bool) -> bool:
        func = call.func
        name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
        if self._machinery(func) or name in ("sleep",) or (isinstance(func, ast.Name) and name in _READING_BUILTINS):
            return False
        if name in _TIDYING and isinstance(func, ast.Attribute) and self._own_object(func.value, side):
            return False  # each twin closes what it opened itself
        if used:
            return name in WRITE_METHODS and not self._local_receiver(func, side)
        if isinstance(func, ast.Attribute):
            return not self._local_receiver(func, side) or name in WRITE_METHODS and not _is_builtin_container_method(name)
        return isinstance(func, (ast.Name, ast.Call))

    def _own_object(self, node: ast.expr, side: str) -> bool:
        """An object the twin obtained itself: a local (or a value read from one), not an
        input, `self` or a module name."""
        part = node
        while isinstance(part, (ast.Attribute, ast.Subscript, ast.Call)):
            if hasattr(part, "origin"):
                return True  # read from a local
            part = part.func if isinstance(part, ast.Call) else part.value
        if hasattr(part, "origin"):
            return True
        root = _root_name(node)
        return root is not None and root in self.locals[side]

    def _local_receiver(self, func: ast.Attribute, side: str) -> bool:
        """A method called on an object the twin made itself: a container, an instance it
        constructed (`requests.Session()`, read where the name was used)."""
        node = func.value
        while isinstance(node, (ast.Attribute, ast.Subscript, ast.Call)):
            if isinstance(node, ast.Call) and _makes_object(node):
                # An object made here and kept (read where its name was used) is being set up;
                # one made and thrown away is made for the call (`UserModel().set_password(p)`).
                return hasattr(node, "origin")
            node = node.func if isinstance(node, ast.Call) else node.value
        return isinstance(node, ast.Name) and node.id in self.owned[side] or isinstance(node, (ast.List, ast.Dict, ast.Set, ast.Constant, ast.JoinedStr))

    # -- statements that are there on both sides, changed --

    def differs(self, sync_piece: ast.AST, async_piece: ast.AST) -> bool:
        """Whether two pieces of one kind differ in something that matters (a check by its
        test, a statement whole)."""
        if isinstance(sync_piece, (ast.If, ast.While)):
            return self._material(sync_piece.test, async_piece.test, test=True)
        if isinstance(sync_piece, ast.ExceptHandler):
            return dump(sync_piece.type) != dump(async_piece.type) if sync_piece.type and async_piece.type else sync_piece.type is not async_piece.type
        if isinstance(sync_piece, ast.stmt) and _compound(sync_piece):
            return self._material(_shallow(sync_piece), _shallow(async_piece))
        return self._material(sync_piece, async_piece)

    def differs_only_in_values(self, sync_piece: ast.AST, async_piece: ast.AST) -> bool:
        """Whatever differs that matters is in values read from assignments: the same statement,
        fed other data."""
        first, second = (
            (sync_piece.test, async_piece.test) if isinstance(sync_piece, (ast.If, ast.While))
            else (_shallow(sync_piece), _shallow(async_piece)) if isinstance(sync_piece, ast.stmt) and _compound(sync_piece)
            else (sync_piece, async_piece)
        )
        test = isinstance(sync_piece, (ast.If, ast.While))
        material = [(a, b) for a, b, role in _deltas(first, second, "value") if (test and a is first) or self._delta_matters(a, b, role, test)]
        return bool(material) and all(hasattr(a, "origin") or hasattr(b, "origin") for a, b in material)

    def changed_difference(self, sync_stmt: ast.AST, async_stmt: ast.AST) -> Difference | None:
        kind = self.changed(sync_stmt, async_stmt)
        if kind is None:
            return None
        # Where the difference sits in a value read from an assignment, show the assignments:
        # a value computed from other data, wherever it is used.
        delta = self.first_material(sync_stmt, async_stmt)
        if delta is not None and any(hasattr(n, "origin") for n in delta):
            shown = [getattr(n, "origin", statement) for n, statement in zip(delta, (sync_stmt, async_stmt))]
            returns = isinstance(sync_stmt, ast.Return) and isinstance(async_stmt, ast.Return)
            return Difference(RETURN if returns else VALUE, *shown)
        return Difference(kind, sync_stmt, async_stmt)

    def first_material(self, sync_stmt: ast.AST, async_stmt: ast.AST) -> tuple[ast.AST, ast.AST] | None:
        test = isinstance(sync_stmt, (ast.If, ast.While))
        first, second = (sync_stmt.test, async_stmt.test) if test and isinstance(async_stmt, (ast.If, ast.While)) else (sync_stmt, async_stmt)
        for a, b, role in _deltas(first, second, "value"):
            if (test and a is first) or self._delta_matters(a, b, role, test):
                return a, b
        return None

    def changed(self, sync_stmt: ast.AST, async_stmt: ast.AST) -> str | None:
        if isinstance(sync_stmt, ast.Raise) and isinstance(async_stmt, ast.Raise):
            return EXCEPTION  # messages are gone: the class differs
        if isinstance(sync_stmt, ast.Return) and isinstance(async_stmt, ast.Return):
            if _shapes_differ(_shape(sync_stmt.value), _shape(async_stmt.value)):
                return RETURN
            if self._split_condition(sync_stmt.value, async_stmt.value, "async") or self._split_condition(async_stmt.value, sync_stmt.value, "sync"):
                return None
            return RETURN if self._material(sync_stmt.value, async_stmt.value) else None
        if type(sync_stmt) is not type(async_stmt):
            kinds = [k for k in (self.one_sided(sync_stmt, "sync"), self.one_sided(async_stmt, "async")) if k]
            return min(kinds, key=KINDS.index) if kinds else None
        if isinstance(sync_stmt, (ast.If, ast.While)):
            if self._material(sync_stmt.test, async_stmt.test, test=True) and (self._guard(sync_stmt, "sync") or self._guard(async_stmt, "async")):
                return GUARD
            return None
        if isinstance(sync_stmt, ast.ExceptHandler):
            return EXCEPTION
        if isinstance(sync_stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            return None
        if (
            getattr(sync_stmt, "bound", False)
            and getattr(async_stmt, "bound", False)
            and not any(isinstance(n, ast.Call) and self._effect_call(n, "sync", used=True) for n in ast.walk(sync_stmt.value))
        ):
            return None  # a local's value: compared where it is read
        if not self._material(sync_stmt, async_stmt):
            return None
        if self.one_sided(sync_stmt, "sync") == EFFECT or self.one_sided(async_stmt, "async") == EFFECT:
            return EFFECT
        return VALUE

    def _material(
        self, first: ast.AST | None, second: ast.AST | None, *, test: bool = False, outside_values: bool = False
    ) -> bool:
        """Whether two statements (or expressions) differ in something that matters; with
        `outside_values`, leaving aside values read from assignments."""
        if first is None or second is None:
            return first is not second
        # A whole test that differs (`if results` for `if chunk_size is None`) is another check.
        return any(
            ((test and a is first) or self._delta_matters(a, b, role, test))
            and not (outside_values and (hasattr(a, "origin") or hasattr(b, "origin")))
            for a, b, role in _deltas(first, second, "value")
        )

    def _delta_matters(self, first: ast.AST, second: ast.AST, role: str, test: bool) -> bool:
        """Whether one place where two statements differ changes what they do."""
        if role in ("callee", "receiver"):
            return False  # another API for the step, each side's own object
        if role == "target" and not (_prefix_of(first, second) or _prefix_of(second, first)):
            return False  # each side's own object (`self._client` / `self._async_client`)
        if _form_wrapper_of(first, second) or _form_wrapper_of(second, first):
            return False
        if isinstance(first, (ast.operator, ast.cmpop, ast.unaryop, ast.boolop)):
            return True
        if self._own_parameter(first, "sync") or self._own_parameter(second, "async"):
            return False  # an input only one twin takes (`page` where the other reads `self.page`)
        reduced = (self._without_own_inputs(first, "sync"), self._without_own_inputs(second, "async"))
        if reduced != (first, second):
            return self._material(*reduced, test=test)  # `page or self.page` where the other reads `self.page`
        if isinstance(first, ast.Name) and isinstance(second, ast.Name):
            # Each twin names its own locals; another parameter is another input.
            return first.id in self.parameters["sync"] and second.id in self.parameters["async"]
        if (isinstance(first, ast.Name) and first.id in self.locals["sync"]) or (
            isinstance(second, ast.Name) and second.id in self.locals["async"]
        ):
            return False  # a local of one twin (a loop variable): what it holds is compared where it is set
        if type(first) is not type(second):
            # One wraps the other, or both read data (an attribute, a condition) differently;
            # a call against anything else is another API for the step.
            calls = isinstance(first, ast.Call) or isinstance(second, ast.Call)
            if _contains(first, second) or _contains(second, first) or test or not calls:
                return True
            # Another call for the step, unless it reads inputs the other side's does not
            # (`self._resolve_backend(backend, model, default)` for `backend or default`).
            inputs = self._inputs(first, "sync"), self._inputs(second, "async")
            return all(inputs) and inputs[0] != inputs[1]
        if isinstance(first, ast.Call):
            if dump(first.func) == dump(second.func):
                # The same call with other arguments, unless the only others are inputs one twin
                # alone takes.
                return self._other_arguments(first, second)
            # Another call: another API for the step, unless one wraps the other with settings
            # of its own (`run_coroutine_threadsafe(c, loop).result(timeout=t)` around `c`).
            return self._wraps_with_settings(first, second) or self._wraps_with_settings(second, first)
        if isinstance(first, ast.Constant):
            if isinstance(first.value, str) and isinstance(second.value, str):
                # "get_%s_permissions" / "aget_%s_permissions": each names its own twin's API;
                # and sentences are worded per twin, as messages are.
                return not (_same_words_but_twins(first.value, second.value) or _prose(first.value) and _prose(second.value))
            return True
        if self._machinery(first) or self._machinery(second):
            return False
        return True


_WORDS = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _same_words_but_twins(sync_text: str, async_text: str) -> bool:
    """Two strings alike but for words that are the async twin of the other's (`aget_x`,
    `get_x_async`, `async_get`)."""
    sync_words, async_words = _WORDS.findall(sync_text), _WORDS.findall(async_text)
    if len(sync_words) != len(async_words) or _WORDS.sub("", sync_text) != _WORDS.sub("", async_text):
        return False
    return all(
        s == a or any(a == twin_name(s, p) for p in DEFAULT_TWIN_PATTERNS)
        for s, a in zip(sync_words, async_words)
    )


def _shares_data(first: ast.AST, second: ast.AST) -> bool:
    """Two call statements that pass the same keyword argument (name and value), or the same
    argument that is more than a name."""
    calls = []
    for stmt in (first, second):
        value = getattr(stmt, "value", None)
        if not (isinstance(stmt, (ast.Expr, ast.Assign)) and isinstance(value, ast.Call)):
            return False
        calls.append(value)
    keywords = [{(k.arg, dump(k.value)) for k in call.keywords if k.arg} for call in calls]
    arguments = [{dump(a) for a in call.args if not isinstance(a, ast.Name)} for call in calls]
    return bool(keywords[0] & keywords[1] or arguments[0] & arguments[1])


def _called(call: ast.Call) -> str | None:
    func = call.func
    return func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)


def _prose(text: str) -> bool:
    """Words for people (a message, a label): several words, or letters outside ASCII."""
    return len(text.split()) > 2 or any(ord(c) > 127 and c.isalpha() for c in text)


def _is_builtin_container_method(name: str | None) -> bool:
    return name in ("add", "update", "set", "clear", "remove", "pop", "append", "extend", "discard", "setdefault")


def _locals(body: list[ast.stmt]) -> set[str]:
    """Names the twin (or a function nested in it) stores: their objects are its own."""
    found = set()
    for node in (n for s in body for n in ast.walk(s)):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            found.add(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            found.add(node.name)
        elif isinstance(node, ast.ExceptHandler) and node.name:
            found.add(node.name)
        elif isinstance(node, ast.arg):
            found.add(node.arg)  # a nested function's parameter
    return found


_CONTAINERS = frozenset({"list", "dict", "set", "defaultdict", "OrderedDict", "Counter", "deque"})
_TIDYING = frozenset({"close", "aclose", "shutdown", "cancel", "terminate", "kill", "release"})
# Builtins that only read (`getattr(user, "pk")` as a statement loads a lazy object, no more).
_READING_BUILTINS = frozenset(
    "getattr hasattr isinstance issubclass len str repr int float bool list tuple dict set frozenset sorted"
    " min max sum any all iter next id type callable vars dir format".split()
)


def _makes_object(call: ast.Call) -> bool:
    """`list()`, `dict()`, `Session()`, `requests.Session()`: a new object (a class is named
    with a capital)."""
    func = call.func
    name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
    return name in _CONTAINERS or name[:1].isupper()


def _owned(body: list[ast.stmt]) -> set[str]:
    """Locals holding an object the twin makes: `results = []`, `data = {...}`,
    `session = requests.Session()`, `with ThreadPoolExecutor() as pool`, and what a method of
    such an object returns (`future = pool.submit(...)`)."""
    found: set[str] = set()
    nodes = [n for s in body for n in ast.walk(s)]
    for _ in range(3):  # what an owned object's method returns is owned in turn
        before = len(found)
        for node in nodes:
            if isinstance(node, ast.Assign):
                value, targets = node.value, node.targets
            elif isinstance(node, ast.withitem) and node.optional_vars is not None:
                value, targets = node.context_expr, [node.optional_vars]
            else:
                continue
            made = isinstance(value, (ast.List, ast.Dict, ast.Set, ast.ListComp, ast.DictComp, ast.SetComp)) or (
                isinstance(value, ast.Call) and (_makes_object(value) or _root_name(value.func) in found)
            )
            if made:
                found |= {t.id for t in targets if isinstance(t, ast.Name)}
        if len(found) == before:
            break
    return found


def _root_name(node: ast.expr) -> str | None:
    while isinstance(node, (ast.Attribute, ast.Subscript, ast.Call)):
        node = node.func if isinstance(node, ast.Call) else node.value
    return node.id if isinstance(node, ast.Name) else None


def _tests(body: list[ast.stmt]) -> list[ast.expr]:
    """Every condition the twin tests."""
    found = []
    for node in (n for s in body for n in ast.walk(s)):
        if isinstance(node, (ast.If, ast.While, ast.IfExp)):
            found.append(node.test)
        elif isinstance(node, ast.BoolOp):
            found.extend(node.values)
        elif isinstance(node, ast.comprehension):
            found.extend(node.ifs)
    return found


def _atoms(test: ast.expr) -> list[ast.expr]:
    """The conditions a test combines: `not a or b.c` → `a`, `b.c`."""
    if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
        return _atoms(test.operand)
    if isinstance(test, ast.BoolOp):
        return [a for value in test.values for a in _atoms(value)]
    return [test]


def _reraises(handler: ast.ExceptHandler) -> bool:
    return len(handler.body) == 1 and isinstance(handler.body[0], ast.Raise) and handler.body[0].exc is None


def _shape(node: ast.expr | None) -> str:
    """What kind of result a `return` gives, coarsely: "None", a tuple of n, a dict with those
    keys, or "value" (anything else, which may be any of them)."""
    if node is None or (isinstance(node, ast.Constant) and node.value is None):
        return "None"
    if isinstance(node, ast.Tuple):
        return f"tuple of {len(node.elts)}"
    if isinstance(node, ast.Dict) and node.keys and all(isinstance(k, ast.Constant) for k in node.keys):
        return "dict with " + ", ".join(sorted(repr(k.value) for k in node.keys))
    return "value"


def _shapes_differ(first: str, second: str) -> bool:
    return first != second and ("value" not in (first, second) or "None" in (first, second))


def _deltas(first: ast.AST, second: ast.AST, role: str):
    """The smallest places (pairs of nodes) where two trees differ, with the role the place
    plays: `callee` (what is called), `receiver` (what a method is called on), `target` (what
    is stored into or deleted from), `key`, or `value`."""
    if dump(first) == dump(second):
        return
    if type(first) is not type(second):
        yield first, second, role
        return
    if isinstance(first, ast.Call) and (
        len(first.args) != len(second.args) or sorted(k.arg or "" for k in first.keywords) != sorted(k.arg or "" for k in second.keywords)
    ):
        yield first, second, "value"  # arguments added or removed
        yield from _deltas(first.func, second.func, "callee")
        return
    for name, value in ast.iter_fields(first):
        other = getattr(second, name, None)
        if isinstance(value, ast.AST) and isinstance(other, ast.AST):
            yield from _deltas(value, other, _role(first, name, role))
        elif isinstance(value, list) and isinstance(other, list):
            if len(value) != len(other):
                yield first, second, role
                return
            for a, b in zip(value, other):
                if isinstance(a, ast.AST) and isinstance(b, ast.AST):
                    yield from _deltas(a, b, _role(first, name, role))
                elif a != b:
                    yield first, second, role
                    return
        elif value != other:
            yield first, second, role  # a name, an attribute, a constant's value
            return


def _role(parent: ast.AST, field_name: str, inherited: str) -> str:
    if isinstance(parent, ast.Call) and field_name == "func":
        return "callee"
    if isinstance(parent, (ast.Attribute, ast.Subscript)) and field_name == "value":
        if inherited in ("callee", "receiver"):
            return "receiver"
        if isinstance(parent.ctx, (ast.Store, ast.Del)) or inherited == "target":
            return "target"
        return "value"
    if isinstance(parent, ast.Subscript) and field_name == "slice":
        return "key"
    return "value"


def _prefix_of(short: ast.AST, long: ast.AST) -> bool:
    """`self` of `self._session` or `self._get_session()`: a store into the object itself, or
    into one of its parts."""
    if not isinstance(short, ast.AST) or not isinstance(long, ast.AST):
        return False
    node = long
    while isinstance(node, (ast.Attribute, ast.Subscript, ast.Call)):
        node = node.func if isinstance(node, ast.Call) else node.value
        if dump(node) == dump(short):
            return True
    return False


def _contains(outer: ast.AST, inner: ast.AST) -> bool:
    target = dump(inner)
    return any(dump(n) == target for n in ast.walk(outer) if n is not outer)


_FORM_WRAPPERS = frozenset({"list", "tuple", "read", "aread", "cast", "await_maybe", "keys"})


def _form_wrapper_of(outer: ast.AST, inner: ast.AST) -> bool:
    """`list(x)`, `x.read()`, `cast(T, x)`, `d.keys()` around `x`: the same value (as the twin
    uses it)."""
    if not isinstance(outer, ast.Call):
        return False
    func = outer.func
    name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
    if name not in _FORM_WRAPPERS:
        return False
    operands = [func.value] if isinstance(func, ast.Attribute) and not outer.args else outer.args[-1:]
    return any(dump(o) == dump(inner) for o in operands)


def differences(
    pair: TwinPair,
    sync_form: NormalForm,
    async_form: NormalForm,
    machinery: frozenset[str],
    helper_calls: dict[str, frozenset[tuple[str, str]]] | None = None,
    relations: frozenset[str] = frozenset(),
) -> list[Difference]:
    """What changes behaviour between the two normal forms, most important first."""
    classifier = _Classifier(
        sync_form, async_form, machinery, helper_calls or {"sync": frozenset(), "async": frozenset()}, relations
    )
    found: list[Difference] = []
    found += _parameter_differences(pair, sync_form, async_form)
    found += _redirect_differences(sync_form, async_form)
    aligned = align(sync_form.body, async_form.body, lambda a, b: not classifier._material(a, b, test=True))
    # Statements found on one side only, in pieces: a piece the other side has too (moved,
    # or only spelled differently) is not a difference; one the other side has changed is.
    sync_pieces = [p for s, a in aligned if a is None for p in _pieces(s)]
    async_pieces = [p for s, a in aligned if s is None for p in _pieces(a)]
    changed: list[tuple[ast.AST, ast.AST]] = []
    for matches in (
        lambda a, b: _piece_key(a) == _piece_key(b),
        lambda a, b: type(a) is type(b) and (_compound(a) or _key(a) == _key(b)) and not classifier.differs(a, b),
        # The same statement with a value read from an assignment computed otherwise.
        lambda a, b: type(a) is type(b) and (_compound(a) or _key(a) == _key(b)) and classifier.differs_only_in_values(a, b),
        lambda a, b: type(a) is type(b) and isinstance(a, ast.stmt) and not _compound(a) and _key(a) == _key(b),
        # Another API given the same data for the same step (`navigate_to_url(timeout=30000)` /
        # `page.goto(url, timeout=30000)`).
        lambda a, b: type(a) is type(b) and _shares_data(a, b) and not classifier.differs(a, b),
    ):
        unmatched = []
        for piece in sync_pieces:
            other = next((o for o in async_pieces if matches(piece, o)), None)
            if other is None:
                unmatched.append(piece)
            else:
                async_pieces.remove(other)
                if matches is not None and _piece_key(piece) != _piece_key(other) and classifier.differs(piece, other):
                    changed.append((piece, other))
        sync_pieces = unmatched
    for piece in sync_pieces:
        kind = classifier.one_sided(piece, "sync")
        if kind is not None:
            found.append(Difference(kind, piece, None))
    for piece in sorted(async_pieces, key=lambda n: getattr(n, "lineno", 0)):
        kind = classifier.one_sided(piece, "async")
        if kind is not None:
            found.append(Difference(kind, None, piece))
    aligned = [*aligned, *changed]
    for sync_stmt, async_stmt in aligned:
        if sync_stmt is not None and async_stmt is not None:
            difference = classifier.changed_difference(sync_stmt, async_stmt)
            if difference is not None:
                found.append(difference)
    def read_through_a_helper(difference: Difference) -> bool:
        return any(
            node is not None and hasattr(node, "lineno") and not function.lineno <= node.lineno <= function.end_lineno
            for node, function in ((difference.sync, pair.sync), (difference.async_, pair.async_))
        )

    # The most important kind first; within a kind, what the twins' own lines do first.
    found.sort(key=lambda d: (KINDS.index(d.kind), read_through_a_helper(d)))
    if pair.is_protocol:
        # `__exit__`/`__aexit__` and the like do what their statement needs: only effects count.
        found = [d for d in found if d.kind == EFFECT]
    return found


def _parameter_differences(pair: TwinPair, sync_form: NormalForm, async_form: NormalForm) -> list[Difference]:
    """A default that differs; a parameter one twin has and the other swallows in its
    `**kwargs` (a caller's argument silently ignored); a parameter both have that one never
    reads.  A parameter one twin lacks outright is an interface difference the caller finds
    out about (a TypeError), not a divergence."""
    found = []
    names = {"sync": f"`{pair.sync.name}()`", "async": f"`{pair.async_.name}()`"}
    params = {"sync": _parameters(sync_form.arguments), "async": _parameters(async_form.arguments)}
    for side, other in (("sync", "async"), ("async", "sync")):
        swallows = any(name.startswith("**") for name in params[other])
        for name, default in params[side].items():
            if name.startswith("*"):
                continue
            if name not in params[other]:
                if swallows:
                    found.append(Difference(PARAMETER, pair.sync, pair.async_, f"{names[other]} has no parameter `{name}`: its `**kwargs` takes it and ignores it"))
            elif side == "sync" and default != params[other][name]:
                found.append(Difference(PARAMETER, pair.sync, pair.async_, f"`{name}` defaults to `{default}` in {names['sync']} and to `{params[other][name]}` in {names['async']}"))
    if found:
        return found
    # A parameter one twin reads and the other never does.
    reads = {"sync": _reads(sync_form.body), "async": _reads(async_form.body)}
    for name in params["sync"]:
        if name.startswith("*") or name in ("self", "cls") or name not in params["async"]:
            continue
        for side, other in (("sync", "async"), ("async", "sync")):
            if name in reads[side] and name not in reads[other]:
                found.append(Difference(PARAMETER, pair.sync, pair.async_, f"{names[other]} never reads its parameter `{name}`; {names[side]} does"))
    return found


# Whether an HTTP library follows redirects unless told otherwise, and the keyword that tells it.
# requests and aiohttp follow them (requests not for HEAD); httpx does not ("Unlike requests,
# HTTPX does not follow redirects by default": httpx's compatibility guide).  A twin moved from
# one library to the other without the keyword stops following redirects on one path.
_REDIRECT_DEFAULTS = {
    **{f"requests.{name}": True for name in ("Session", "session", "request", "get", "post", "put", "patch", "delete", "options")},
    "requests.head": False,
    "aiohttp.ClientSession": True,
    **{f"httpx.{name}": False for name in ("Client", "AsyncClient", "request", "get", "post", "put", "patch", "delete", "options", "head", "stream")},
}
_REDIRECT_KEYWORDS = frozenset({"allow_redirects", "follow_redirects"})


def _redirect_differences(sync_form: NormalForm, async_form: NormalForm) -> list[Difference]:
    """One twin's HTTP client follows redirects and the other's does not: both policies known
    (library defaults, or the keyword given as a literal) and the same within each twin."""
    policies = {}
    for side, form in (("sync", sync_form), ("async", async_form)):
        known: dict[bool, ast.Call] = {}
        for node in ast.walk(ast.Module(body=form.body, type_ignores=[])):
            if isinstance(node, ast.Attribute) and node.attr in _REDIRECT_KEYWORDS:
                return []  # a client's policy changed after it was made: not known here
            if not isinstance(node, ast.Call):
                continue
            follows = _REDIRECT_DEFAULTS.get(dotted_name(node.func) or "")
            for keyword in node.keywords:
                if keyword.arg in _REDIRECT_KEYWORDS:
                    if follows is None or not isinstance(keyword.value, ast.Constant):
                        return []  # set for one request, or not as a literal: not known here
                    follows = bool(keyword.value.value)
            if follows is not None:
                known.setdefault(follows, node)
        if len(known) != 1:
            return []
        policies[side] = next(iter(known.items()))
    (sync_follows, sync_call), (async_follows, async_call) = policies["sync"], policies["async"]
    if sync_follows == async_follows:
        return []
    side, other_call = ("sync", async_call) if sync_follows else ("async", sync_call)
    detail = f"Only the {side} twin's HTTP client follows redirects"
    if (dotted_name(other_call.func) or "").startswith("httpx.") and not any(k.arg in _REDIRECT_KEYWORDS for k in other_call.keywords):
        detail += " (httpx needs `follow_redirects=True`)"
    return [Difference(VALUE, sync_call, async_call, detail)]


def _parameters(arguments: ast.arguments) -> dict[str, str | None]:
    """Parameter name → its default's source (None without one); `*args`/`**kwargs` as
    `*name`/`**name`."""
    positional = [*arguments.posonlyargs, *arguments.args]
    defaults: list[ast.expr | None] = [None] * (len(positional) - len(arguments.defaults)) + list(arguments.defaults)
    found: dict[str, str | None] = {}
    for arg, default in zip(positional, defaults):
        found[arg.arg] = ast.unparse(default) if default is not None else None
    for arg, default in zip(arguments.kwonlyargs, arguments.kw_defaults):
        found[arg.arg] = ast.unparse(default) if default is not None else None
    if arguments.vararg is not None:
        found["*" + arguments.vararg.arg] = None
    if arguments.kwarg is not None:
        found["**" + arguments.kwarg.arg] = None
    return found


def _reads(body: list[ast.stmt]) -> set[str]:
    return {n.id for s in body for n in ast.walk(s) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
