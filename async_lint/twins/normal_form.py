"""Both twins in one normal form, so that what is left to compare is what they do.

The async twin arrives already in its sync form (`translation`); both sides then lose what only
says *how* the work is done:

- docstrings, logging calls and `warnings.warn`, asserts, imports (names are compared by what
  they refer to: `auth.login` and `login` imported from `django.contrib.auth` are one name),
  exception messages, `asyncio.CancelledError` handlers that only re-raise, `time.sleep(0)`;
- adapters between the two worlds: `x = sync_to_async(x)`, `x = async_to_sync(x)`,
  `async_to_sync(f)(...)`, `asyncio.run(f(...))`, a branch on `iscoroutinefunction()` (or
  `hasattr(x, "auser")`, a version shim) whose arms agree, the lock and the double-checked
  locking only async code needs;
- temporaries: a local assigned once that the other twin does not name is read as its value
  (`obj = X.objects.get(); obj.delete()` is `X.objects.get().delete()`), nested helpers called
  once are read in place, `[x for x in qs]` and `list(qs)` are one thing, as are
  `r = []; for v in it: r.append(e)` and `r = [e for v in it]`, and `asyncio.gather(*(f(v) for v
  in it))` and `[f(v) for v in it]`;
- the spellings of one operation: `del d[k]` and `d.pop(k)` as statements, a session read as
  `session[k]` or `session.get(k)` followed by `if v is None: raise KeyError`, an httpx client
  block and httpx's module functions, names that carry the word `async`/`sync`
  (`self._async_client` / `self._client`), keyword order, positional and keyword arguments of
  the module's own functions.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from typing import Callable

from .. import django_api as api
from .pairs import Function, decorator_names, own_nodes
from .translation import Names, local_imports, strip_word


def clone(node):
    """A deep copy of an `ast` tree (several times faster than `copy.deepcopy`)."""
    if isinstance(node, list):
        return [clone(item) for item in node]
    if not isinstance(node, ast.AST) or not node._fields:
        return node  # constants, names, and the shared Load/Store/operator singletons
    new = node.__class__.__new__(node.__class__)
    for name in node._fields:
        setattr(new, name, clone(getattr(node, name, None)))
    for name in node._attributes:
        value = getattr(node, name, None)
        if value is not None:
            setattr(new, name, value)
    origin = getattr(node, "origin", None)
    if origin is not None:
        new.origin = origin
    return new


def dump(node: ast.AST) -> str:
    return ast.dump(node, include_attributes=False)


# -- what a call is -------------------------------------------------------------------------------

_LOG_METHODS = frozenset("debug info warning warn error exception critical fatal log trace success msg".split())
_LOGGER_NAMES = re.compile(r"^_*(log|logger|logging|LOG|LOGGER|log_|.*_logger|.*_log|structlog)$", re.I)


def is_logging_call(node: ast.AST) -> bool:
    """`logger.info(...)`, `logging.warning(...)`, `self.logger.debug(...)`, `log.error(...)`,
    `self._debug_log(...)`, `log_task_start(...)`, `warnings.warn(...)`, `print(...)`: messages,
    which twins word differently."""
    if not isinstance(node, ast.Call):
        return False
    func = node.func
    if isinstance(func, ast.Name):
        words = func.id.lower().strip("_").split("_")
        return "log" in words[:1] or words[-1:] == ["log"] or func.id == "print"
    if not isinstance(func, ast.Attribute):
        return False
    if func.attr == "warn" and isinstance(func.value, ast.Name) and func.value.id == "warnings":
        return True
    if "log" in func.attr.lower().strip("_").split("_"):
        return True  # self._debug_log(...), self._log(...)
    if func.attr not in _LOG_METHODS:
        return False
    receiver = func.value
    if isinstance(receiver, ast.Attribute):
        name = receiver.attr
    elif isinstance(receiver, ast.Name):
        name = receiver.id
    elif isinstance(receiver, ast.Call):  # logging.getLogger(__name__).info(...)
        inner = receiver.func
        name = inner.attr if isinstance(inner, ast.Attribute) else getattr(inner, "id", "")
        return name in ("getLogger", "get_logger")
    else:
        return False
    return bool(_LOGGER_NAMES.match(name))


# Tests about which world a value belongs to: a branch on them is how either twin adapts.
FORM_TESTS = frozenset(
    {
        "iscoroutinefunction", "iscoroutine", "isawaitable", "isasyncgen", "isasyncgenfunction",
        "markcoroutinefunction", "is_async", "is_coroutine", "view_is_async", "async_capable",
        "sync_capable", "is_async_context",
    }
)
_PURE_TESTS = FORM_TESTS | {"hasattr", "isinstance", "callable", "getattr"}
_ADAPTERS = frozenset({*api.SYNC_TO_ASYNC, *api.ASYNC_TO_SYNC, *api.MARK_COROUTINE_FUNCTIONS})


def called_name(call: ast.Call) -> str | None:
    func = call.func
    if isinstance(func, ast.Attribute):
        return func.attr
    if isinstance(func, ast.Name):
        return func.id
    return None


def is_form_test(test: ast.expr) -> bool:
    """`iscoroutinefunction(f)`, `not inspect.isawaitable(x)`, `hook.is_async`,
    `hasattr(request, "auser")`, `asyncio.iscoroutine(r)`."""
    for node in ast.walk(test):
        if isinstance(node, ast.Call) and called_name(node) in FORM_TESTS:
            return True
        if isinstance(node, ast.Attribute) and node.attr in FORM_TESTS:
            return True
        if (
            isinstance(node, ast.Call)
            and called_name(node) in ("hasattr", "getattr")
            and len(node.args) >= 2
            and isinstance(node.args[1], ast.Constant)
            and isinstance(node.args[1].value, str)
            and _names_async_api(node.args[1].value)
        ):
            return True
    return False


def _names_async_api(name: str) -> bool:
    return name in api.ASYNC_METHOD_NAMES or name == "auser" or name.startswith(("async_", "__a")) or name.endswith("_async")


def is_pure(test: ast.expr) -> bool:
    """A test that calls nothing but `isinstance`, `hasattr`, ...: which arm runs is all it
    decides (what its arguments read is read either way)."""
    if isinstance(test, ast.Call):
        return called_name(test) in _PURE_TESTS
    return all(is_pure(child) for child in ast.iter_child_nodes(test) if isinstance(child, ast.expr))


def is_lock(node: ast.expr) -> bool:
    """`self._lock`, `self._async_token_lock`, `self._get_async_lock()`, `lock`."""
    if isinstance(node, ast.Call):
        node = node.func
    name = node.attr if isinstance(node, ast.Attribute) else getattr(node, "id", "")
    return "lock" in str(name).lower().split("_") or str(name).lower().endswith("lock")


def _exits(body: list[ast.stmt]) -> bool:
    return any(isinstance(n, (ast.Return, ast.Raise, ast.Break, ast.Continue)) for n in own_nodes(body))


# -- the normal form -------------------------------------------------------------------------------


@dataclass
class NormalForm:
    arguments: ast.arguments
    body: list[ast.stmt]
    # Parameter names in the order they were declared (after renaming to the sync twin's).
    parameters: list[str]
    # Every name the twin (or a function nested in it) binds, as written.
    variables: frozenset[str] = frozenset()


# One class under several names (aliases since Python 3.11).
_SAME_CLASS = {
    "asyncio.TimeoutError": "TimeoutError",
    "asyncio.exceptions.TimeoutError": "TimeoutError",
    "concurrent.futures.TimeoutError": "TimeoutError",
    "socket.timeout": "TimeoutError",
    "asyncio.CancelledError": "asyncio.CancelledError",
}
# One argument under the names of two HTTP libraries: a raw body is `data=` to requests and
# `content=` to httpx.
_SAME_KEYWORD = {"content": "data"}
# QuerySet methods that return a pair: (rows deleted, by model), (object, created).
_ORM_PAIRS = frozenset({"delete", "get_or_create", "update_or_create"})
# Words that say which twin a name belongs to.
_TWIN_WORDS = {"sync": frozenset({"sync"}), "async": frozenset({"async", "aio"})}
_ITERATION_CONSUMERS = frozenset({"sorted", "set", "frozenset", "list", "tuple", "len", "sum", "min", "max", "any", "all", "enumerate", "zip", "dict", "join", "extend", "update"})


class Normaliser(ast.NodeTransformer):
    """One side's normal form.  `side` is "sync" or "async"; `other` the names (variables and
    attributes) the other twin uses, which decides what counts as a temporary."""

    def __init__(
        self,
        names: Names,
        *,
        side: str,
        other_names: frozenset[str],
        siblings: dict[str, Function],
        module_functions: dict[str, Function],
        callee: Callable[[str, bool], ast.FunctionDef | None] = lambda name, method: None,
    ):
        self.names = names
        # A function of the class (method=True) or module, in sync form, to read a call of it
        # through its body.
        self.callee = callee
        self.inlined: list[str] = []
        # What the other twin calls, through the functions it calls: a helper that both reach
        # is compared as a call, not read through.
        self.other_called: frozenset[str] = frozenset()
        self.side = side
        self.other_names = other_names
        self.siblings = siblings
        self.module_functions = module_functions
        self.local: dict[str, str] = {}
        self.substitutions: dict[str, _Binding] = {}
        self.renames: dict[str, str] = {}
        # Names that lost the word saying which twin they belong to (`_check_async_support`
        # → `_check_support`): where only one twin has them, what only its world needs.
        self.stripped: set[str] = set()
        self.truthy: list[str | None] = []  # tests known to hold where a block runs

    def run(self, function: ast.FunctionDef, parameter_names: list[str] | None) -> NormalForm:
        self.local = local_imports(function)
        # The function's own variables keep their names (`sync_receivers` and `async_receivers`
        # are two lists, not one); only attributes and outside names lose a twin's word.
        self.variables = _variables(function)
        self.mutated = _mutated(function)
        arguments = _strip_annotations(function.args)
        declared = [a.arg for a in (*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs)]
        if parameter_names is not None and len(parameter_names) == len(declared):
            # Parameters that differ only in name (`exc_val` / `exc`) are the sync twin's.
            self.renames = {old: new for old, new in zip(declared, parameter_names) if old != new}
            for arg in (*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs):
                arg.arg = self.renames.get(arg.arg, arg.arg)
        arguments.defaults = [self.visit(clone(d)) for d in arguments.defaults]
        arguments.kw_defaults = [self.visit(clone(d)) if d is not None else None for d in arguments.kw_defaults]
        body = clone(_without_docstring(function.body))
        body = self.body(body)
        while body and isinstance(body[-1], ast.Return) and (body[-1].value is None or _is_none(body[-1].value)):
            body = body[:-1]  # falling off the end
        params = [a.arg for a in (*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs)]
        for extra in (arguments.vararg, arguments.kwarg):
            if extra is not None:
                params.append(extra.arg)
        return NormalForm(arguments, body, params, frozenset(self.variables))

    # -- statements ---------------------------------------------------------------------------

    def body(self, body: list[ast.stmt], *, always_runs: bool = False) -> list[ast.stmt]:
        """A block in normal form.  Names bound in it are read as their values after it only
        when it `always_runs` (a `with` or `try` body), not after an `if` or a loop."""
        helpers = _helpers(body)
        saved = dict(self.substitutions)
        kept: list[ast.stmt] = []
        pending = list(body)
        while pending:
            stmt = pending.pop(0)
            following = pending
            if isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call):
                stmt = _pop_as_delete(stmt) or stmt
            expansion = self._through_callee(stmt)
            if expansion is not None:
                pending[:0] = expansion
                continue
            if isinstance(stmt, ast.AnnAssign) and stmt.value is not None:
                stmt = ast.copy_location(ast.Assign([stmt.target], stmt.value), stmt)
            assigned = _assigned_names(stmt)
            if assigned and not self._adapter(stmt):
                # Read the value with the names as they were, then bind them anew.
                if any(n in self.mutated for n in assigned) and _is_container(stmt.value):
                    new_statements = self.statement(stmt, helpers)  # a list the twin fills in
                else:
                    value = self._call_helper(self.visit(clone(stmt.value)), helpers)
                    new_statements = [ast.copy_location(ast.Assign([clone(stmt.targets[0])], value), stmt)]
                for name in assigned:
                    self.substitutions.pop(name, None)
            else:
                for name in _stored_names(stmt):
                    self.substitutions.pop(name, None)  # from here on the name holds something else
                new_statements = self.statement(stmt, helpers)
            for new in new_statements:
                if kept and dump(new) == dump(kept[-1]) and isinstance(new, (ast.If, ast.Return, ast.Expr)):
                    continue  # an identical check twice in a row (double-checked locking) is one
                kept.append(new)
                self._bind(new, following)
        if not always_runs:
            self.substitutions = {n: b for n, b in saved.items() if self.substitutions.get(n) is b}
        kept = _collapse_branches(kept)
        kept = _loops_as_comprehensions(kept)
        return kept

    def _through_callee(self, stmt: ast.stmt) -> list[ast.stmt] | None:
        """A call of a function of the class or module that the other twin does not call, read
        through its body: one twin calls a helper where the other writes the same steps in
        place (`await self._aset_internal(key, value, old)`).  `helper(...)` as a statement,
        `x = helper(...)` and `return helper(...)`."""
        call = stmt.value if isinstance(stmt, (ast.Expr, ast.Return)) else stmt.value if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 else None
        if isinstance(call, ast.Await):
            call = call.value
        if not isinstance(call, ast.Call) or len(self.inlined) >= 8:
            return None
        func = call.func
        key = _callee_key(func)
        if key is None or (isinstance(func, ast.Name) and func.id in self.variables):
            return None
        name, method = key
        if name in self.other_called or name in self.inlined:
            return None
        if strip_word(name.removeprefix(SUPER), _TWIN_WORDS[self.side]) != name.removeprefix(SUPER):
            return None  # what only this world needs (`_check_async_support()`): not a step
        function = self.callee(name, method)
        if function is None:
            return None
        body = _without_docstring(clone(function.body))
        arguments = _bind_arguments(function, call, skip_first=method and "staticmethod" not in decorator_names(function))
        if arguments is None or not body:
            return None
        last = body[-1]
        exits = [n for n in own_nodes(body) if isinstance(n, (ast.Return, ast.Yield, ast.YieldFrom))]
        if isinstance(stmt, ast.Return):
            pass  # its returns are the twin's returns
        elif exits and not (len(exits) == 1 and exits[0] is last and isinstance(last, ast.Return)):
            return None
        self.inlined.append(name)
        for parameter, argument in arguments.items():
            body = [_substitute_statement(s, parameter, argument) for s in body]
        if isinstance(stmt, ast.Return) or not isinstance(last, ast.Return):
            return body
        result = last.value if last.value is not None else ast.Constant(None)
        if isinstance(stmt, ast.Expr):
            return [*body[:-1], ast.copy_location(ast.Expr(result), last)]
        return [*body[:-1], ast.copy_location(ast.Assign([clone(stmt.targets[0])], result), stmt)]

    def _bind(self, statement: ast.stmt, following: list[ast.stmt]) -> list["_Binding"]:
        """After `name = value` (normal form), later reads of the name up to its next assignment
        read the value: each twin names its own temporaries (`obj = await X.objects.aget(...)`
        then `await obj.adelete()` is `X.objects.get(...).delete()`).  The assignment stays, so
        that a value computed differently is found there; where both twins read such a value,
        the comparison leaves it to the assignments.  A list or dict the twin fills in stays a
        name."""
        names = _assigned_names(statement)
        if not names or (any(n in self.mutated for n in names) and _is_container(statement.value)):
            return []
        target, value = statement.targets[0], statement.value
        if isinstance(target, ast.Name):
            values = {target.id: value}
        elif isinstance(value, ast.Tuple) and len(value.elts) == len(target.elts):
            values = {element.id: item for element, item in zip(target.elts, value.elts)}
        elif isinstance(value, ast.Call) and called_name(value) in _ORM_PAIRS and not any(n in self.mutated for n in names):
            # `count, _ = qs.delete()`, `obj, created = qs.get_or_create(...)`: each name reads its
            # item of the pair Django returns.
            values = {
                element.id: ast.Subscript(clone(value), ast.Constant(position), ast.Load())
                for position, element in enumerate(target.elts)
            }
        else:
            return []
        made = []
        for name, item in values.items():
            binding = _Binding(_from(clone(item), statement))
            self.substitutions[name] = binding
            made.append(binding)
        statement.bound = True  # its value is compared where it is read
        return made

    def statement(self, stmt: ast.stmt, helpers: dict[str, ast.FunctionDef]) -> list[ast.stmt]:
        """The normal form of one statement: a list of statements (empty when it goes)."""
        if isinstance(stmt, (ast.Import, ast.ImportFrom, ast.Assert, ast.Pass, ast.Global, ast.Nonlocal)):
            return []
        if isinstance(stmt, ast.Expr):
            value = stmt.value
            if not any(isinstance(n, (ast.Call, ast.Await, ast.Yield, ast.YieldFrom)) for n in ast.walk(value)):
                return []  # a string as a comment, an attribute read to load it: nothing to compare
            if is_logging_call(value) or self._yields_to_loop(value):
                return []
            if isinstance(value, ast.Call) and isinstance(value.func, ast.Name) and value.func.id in helpers:
                helper = helpers[value.func.id]
                if not value.args and not value.keywords:
                    return self.body(clone(helper.body))
        if isinstance(stmt, ast.FunctionDef) and stmt.name in helpers:
            return []  # read where it is called
        if isinstance(stmt, ast.AnnAssign):
            if stmt.value is None:
                return []
            stmt = ast.copy_location(ast.Assign([stmt.target], stmt.value), stmt)
        if isinstance(stmt, ast.Assign) and self._adapter(stmt):
            return []
        if isinstance(stmt, ast.Return):
            loop = _all_any_as_loop(stmt)
            if loop is not None:
                return self.body(loop)
        if isinstance(stmt, ast.Raise):
            exc = stmt.exc
            if isinstance(exc, ast.Call):
                exc = exc.func  # the class is what differs; messages are worded per twin
            return [ast.copy_location(ast.Raise(self.visit(clone(exc)) if exc is not None else None, None), stmt)]
        if isinstance(stmt, ast.With):
            inner = self._unwrapped_with(stmt)
            if inner is not None:
                return inner
        if isinstance(stmt, ast.If):
            if _missing_key_check(stmt):
                return []
            shim = self._version_shim(stmt)
            if shim is not None:
                return self.body(shim)
            if self._lazy_resource(stmt):
                return []
        if isinstance(stmt, ast.Try):
            if all(isinstance(s, (ast.Import, ast.ImportFrom, ast.Pass)) for s in stmt.body):
                # `try: import x except ImportError: ...`: an optional dependency, not behaviour.
                return self.body([*stmt.orelse, *stmt.finalbody])
            stmt.handlers = [h for h in stmt.handlers if not self._reraises_cancellation(h)]
            if not stmt.handlers and not stmt.orelse and not stmt.finalbody:
                return self.body(stmt.body, always_runs=True)
        if isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call):
            popped = _pop_as_delete(stmt)
            if popped is not None:
                stmt = popped
        new = self.visit(stmt)
        if isinstance(new, ast.If):
            collapsed = _collapse_branches([new])
            if len(collapsed) != 1 or collapsed[0] is not new:
                return collapsed
        if new is None:
            return []
        result = new if isinstance(new, list) else [new]
        return [s for s in result if not (isinstance(s, ast.Expr) and (is_logging_call(s.value) or isinstance(s.value, ast.Constant)))]

    def generic_visit(self, node: ast.AST) -> ast.AST:
        for name, value in ast.iter_fields(node):
            if isinstance(value, list) and value and isinstance(value[0], ast.stmt):
                setattr(node, name, self.body(value))
            elif isinstance(value, list):
                setattr(node, name, [self.visit(v) if isinstance(v, ast.AST) else v for v in value])
            elif isinstance(value, ast.AST):
                setattr(node, name, self.visit(value))
        return node

    def _yields_to_loop(self, value: ast.expr) -> bool:
        """`time.sleep(0)` (the translated `await asyncio.sleep(0)`): no sync meaning."""
        return (
            isinstance(value, ast.Call)
            and self.qualname(value.func) in ("time.sleep", "asyncio.sleep")
            and len(value.args) == 1
            and isinstance(value.args[0], ast.Constant)
            and value.args[0].value == 0
        )

    def _adapter(self, stmt: ast.Assign) -> bool:
        """`x = sync_to_async(x)`, `f = async_to_sync(f)`, `markcoroutinefunction(self)`-like."""
        value = stmt.value
        return (
            isinstance(value, ast.Call)
            and value.args
            and (self.qualname(value.func) in _ADAPTERS or called_name(value) in api.SYNC_TO_ASYNC_NAMES | {"async_to_sync"})
        )

    def _unwrapped_with(self, stmt: ast.With) -> list[ast.stmt] | None:
        """A lock (only the async twin needs one for its double-checked locking), and an httpx
        client block read as httpx's module functions."""
        if len(stmt.items) == 1 and is_lock(stmt.items[0].context_expr) and stmt.items[0].optional_vars is None:
            return self.body(stmt.body, always_runs=True)
        return self._http_client_block(stmt)

    def _lazy_resource(self, stmt: ast.If) -> bool:
        """`if self._lock is None: self._lock = asyncio.Lock()` (and whatever fills it in): a
        resource one twin creates on first use and the other does not name (a lock, an async
        client, a memory the sync twin reaches through a property)."""
        if stmt.orelse or not stmt.body or not isinstance(stmt.body[0], ast.Assign):
            return False
        test = stmt.test
        if not (isinstance(test, ast.Compare) and isinstance(test.ops[0], ast.Is) and _is_none(test.comparators[0])):
            return False
        target = stmt.body[0].targets[0]
        if ast.unparse(target) != ast.unparse(test.left) or not isinstance(target, (ast.Attribute, ast.Name)):
            return False
        name = target.attr if isinstance(target, ast.Attribute) else target.id
        return name not in self.other_names or is_lock(target)

    def _version_shim(self, stmt: ast.If) -> list[ast.stmt] | None:
        """`if hasattr(request, "auser"): <new API> else: <old API>`: the branch for the Django
        that has the async API."""
        test = stmt.test
        negated = isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not)
        if negated:
            test = test.operand
        if not (
            isinstance(test, ast.Call)
            and called_name(test) == "hasattr"
            and len(test.args) == 2
            and isinstance(test.args[1], ast.Constant)
            and isinstance(test.args[1].value, str)
            and _names_async_api(test.args[1].value)
        ):
            return None
        chosen = stmt.orelse if negated else stmt.body
        return clone(chosen)

    def _reraises_cancellation(self, handler: ast.ExceptHandler) -> bool:
        if handler.type is None or self.qualname(handler.type) not in ("asyncio.CancelledError", "asyncio.exceptions.CancelledError"):
            return False
        body = [s for s in handler.body if not (isinstance(s, ast.Expr) and is_logging_call(s.value))]
        return len(body) == 1 and isinstance(body[0], ast.Raise) and body[0].exc is None

    def _http_client_block(self, stmt: ast.With) -> list[ast.stmt] | None:
        """`with httpx.Client(**kw) as c: ... c.post(url)` → `... httpx.post(url, **kw)` (either
        twin may use the client; only the async one has to)."""
        if len(stmt.items) != 1:
            return None
        item = stmt.items[0]
        call, client = item.context_expr, item.optional_vars
        if not (isinstance(call, ast.Call) and not call.args and isinstance(client, ast.Name)):
            return None
        if self.qualname(call.func) not in ("httpx.Client", "httpx.AsyncClient"):
            return None
        uses = [n for b in stmt.body for n in ast.walk(b) if isinstance(n, ast.Name) and n.id == client.id]
        receivers = [
            n for b in stmt.body for n in ast.walk(b)
            if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and isinstance(n.func.value, ast.Name)
            and n.func.value.id == client.id
        ]
        if len(uses) != len(receivers):
            return None  # the client is used for something else too
        body = clone(stmt.body)
        for node in (n for b in body for n in ast.walk(b)):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and isinstance(node.func.value, ast.Name) and node.func.value.id == client.id:
                node.func = ast.Attribute(_dotted("httpx"), node.func.attr, ast.Load())
                node.keywords = [*node.keywords, *clone(call.keywords)]
        return self.body(body, always_runs=True)

    def _call_helper(self, value: ast.expr, helpers: dict[str, ast.FunctionDef]) -> ast.expr:
        """`helper(a)` of a nested helper whose body is `return <expr>`: that expression, its
        parameters replaced by the arguments."""
        if not (isinstance(value, ast.Call) and isinstance(value.func, ast.Name) and value.func.id in helpers):
            return value
        helper = helpers[value.func.id]
        body = _without_docstring(helper.body)
        if len(body) != 1 or not isinstance(body[0], ast.Return) or body[0].value is None or value.keywords:
            return value
        parameters = [a.arg for a in helper.args.args]
        if len(parameters) != len(value.args) or helper.args.vararg or helper.args.kwarg or helper.args.kwonlyargs:
            return value
        expression = clone(body[0].value)
        for parameter, argument in zip(parameters, value.args):
            expression = _substitute(expression, parameter, argument)
        return self.visit(expression)

    # -- expressions --------------------------------------------------------------------------

    def qualname(self, node: ast.expr) -> str | None:
        return self.names.qualname(node, self.local)

    def visit_Name(self, node: ast.Name) -> ast.AST:
        if isinstance(node.ctx, ast.Load) and node.id in self.substitutions:
            binding = self.substitutions[node.id]
            binding.used = True
            return clone(binding.value)
        if node.id in self.renames:
            return ast.copy_location(ast.Name(self.renames[node.id], node.ctx), node)
        qualname = self.qualname(node) if isinstance(node.ctx, ast.Load) else None
        if qualname is not None:
            return ast.copy_location(_dotted(_SAME_CLASS.get(qualname, qualname)), node)
        if node.id in self.variables:
            return node
        return self._identifier(node, node.id, lambda new: ast.Name(new, node.ctx))

    def visit_Attribute(self, node: ast.Attribute) -> ast.AST:
        qualname = self.qualname(node) if isinstance(node.ctx, ast.Load) else None
        if qualname is not None:
            return ast.copy_location(_dotted(_SAME_CLASS.get(qualname, qualname)), node)
        node = self.generic_visit(node)
        return self._identifier(node, node.attr, lambda new: ast.Attribute(node.value, new, node.ctx))

    def _identifier(self, node, name: str, build) -> ast.AST:
        """Names that say which twin they belong to: `self._async_lock`, `AsyncClient`,
        `get_sync_client`."""
        # Either twin may name the other world's functions (a sync twin running
        # `self._call_tool_async()` through `async_to_sync`): both lose both words.
        new = strip_word(name, _TWIN_WORDS["sync"] | _TWIN_WORDS["async"])
        for marker in ("Sync", "Async", "Aio"):
            if new == name and name.startswith(marker) and name[len(marker) : len(marker) + 1].isupper():
                new = name[len(marker) :]
        if new == name or name in ("sync_to_async", "async_to_sync"):
            return node
        self.stripped.add(new)
        return ast.copy_location(build(new), node)

    def visit_AnnAssign(self, node: ast.AnnAssign) -> ast.AST:
        node.annotation = ast.Name("_", ast.Load())
        return self.generic_visit(node)

    def visit_FunctionDef(self, node: ast.FunctionDef) -> ast.AST:
        node.returns = None
        node.decorator_list = [d for d in node.decorator_list if not _is_thread_decorator(d)]
        node.args = _strip_annotations(node.args)
        node.body = _without_docstring(node.body) or [ast.Pass()]
        return self.generic_visit(node)

    def visit_AsyncFunctionDef(self, node: ast.AsyncFunctionDef) -> ast.AST:
        function = ast.FunctionDef(node.name, node.args, node.body, node.decorator_list, node.returns, node.type_comment)
        if hasattr(node, "type_params"):
            function.type_params = node.type_params
        return self.visit_FunctionDef(ast.copy_location(function, node))

    # Async code the sync twin carries in nested functions (to hand to `async_to_sync`) is
    # compared in sync form too.
    def visit_Await(self, node: ast.Await) -> ast.AST:
        return self.visit(node.value)

    def visit_AsyncFor(self, node: ast.AsyncFor) -> ast.AST:
        return self.visit(ast.copy_location(ast.For(node.target, node.iter, node.body, node.orelse, node.type_comment), node))

    def visit_AsyncWith(self, node: ast.AsyncWith) -> ast.AST:
        return self.visit(ast.copy_location(ast.With(node.items, node.body, node.type_comment), node))

    def visit_ListComp(self, node: ast.ListComp) -> ast.AST:
        """`[x for x in it]` and `list(it)` are one thing."""
        node = self.generic_visit(node)
        generator = node.generators[0]
        if (
            len(node.generators) == 1
            and not generator.ifs
            and isinstance(node.elt, ast.Name)
            and isinstance(generator.target, ast.Name)
            and generator.target.id == node.elt.id
        ):
            return ast.copy_location(ast.Call(ast.Name("list", ast.Load()), [generator.iter], []), node)
        return node

    def visit_For(self, node: ast.For) -> ast.AST:
        node = self.generic_visit(node)
        node.iter = _unlisted(node.iter)
        node = _projection_loop(node)
        # `for v in it: yield v` is how an async generator writes `yield from it`.
        if (
            not node.orelse
            and isinstance(node.target, ast.Name)
            and len(node.body) == 1
            and isinstance(node.body[0], ast.Expr)
            and isinstance(node.body[0].value, ast.Yield)
            and isinstance(node.body[0].value.value, ast.Name)
            and node.body[0].value.value.id == node.target.id
        ):
            return ast.copy_location(ast.Expr(ast.YieldFrom(node.iter)), node)
        return node

    def visit_With(self, node: ast.With) -> ast.AST:
        node.items = [self.visit(item) for item in node.items]
        node.body = self.body(node.body, always_runs=True)
        return node

    def visit_Try(self, node: ast.Try) -> ast.AST:
        node.body = self.body(node.body, always_runs=True)
        node.handlers = [self.visit(h) for h in node.handlers]
        node.orelse = self.body(node.orelse)
        node.finalbody = self.body(node.finalbody, always_runs=True)
        return node

    def visit_If(self, node: ast.If) -> ast.AST:
        """Inside `if x:` (or the `else` of `if not x:`) `x and y` is `y`."""
        node.test = self.visit(node.test)
        test = node.test
        negated = isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not)
        known = dump(test.operand if negated else test)
        self.truthy.append(None if negated else known)
        node.body = self.body(node.body)
        self.truthy[-1] = known if negated else None
        node.orelse = self.body(node.orelse)
        self.truthy.pop()
        return node

    def visit_IfExp(self, node: ast.IfExp) -> ast.AST:
        """`await r if isawaitable(r) else r` in sync form: `r`."""
        node = self.generic_visit(node)
        if is_pure(node.test) and dump(node.body) == dump(node.orelse):
            return node.body
        return node

    def visit_BoolOp(self, node: ast.BoolOp) -> ast.AST:
        node = self.generic_visit(node)
        if isinstance(node.op, ast.And):
            kept = [v for v in node.values if dump(v) not in self.truthy]
            if not kept:
                return node
            if len(kept) == 1:
                return kept[0]
            node.values = kept
        return node

    def visit_comprehension(self, node: ast.comprehension) -> ast.AST:
        node = self.generic_visit(node)
        node.iter = _unlisted(node.iter)
        node.is_async = 0
        return node

    def visit_Subscript(self, node: ast.Subscript) -> ast.AST:
        node = self.generic_visit(node)
        return node

    def visit_Call(self, node: ast.Call) -> ast.AST:
        func = node.func
        if isinstance(func, ast.Lambda) and not node.args and not node.keywords and not _takes_arguments(func.args):
            return self.visit(func.body)  # (lambda: list(qs))(), once sync_to_async is gone
        # async_to_sync(f)(args) → f(args); sync_to_async(f)(args) → f(args) (the sync side's too)
        if isinstance(func, ast.Call) and func.args and (
            self.names.is_sync_to_async(func.func, self.local) or self.names.is_async_to_sync(func.func, self.local)
        ):
            return self.visit(ast.copy_location(ast.Call(func.args[0], node.args, node.keywords), node))
        qualname = self.qualname(func)
        if qualname == "asyncio.run" and len(node.args) == 1:
            return self.visit(node.args[0])
        if qualname == "asyncio.gather" and len(node.args) == 1 and isinstance(node.args[0], ast.Starred):
            # gather(*(f(v) for v in it)) is [f(v) for v in it]; gather(*tasks) is tasks
            inner = node.args[0].value
            if isinstance(inner, (ast.GeneratorExp, ast.ListComp)):
                inner = ast.copy_location(ast.ListComp(inner.elt, inner.generators), inner)
            return self.visit(inner)
        if called_name(node) in api.SYNC_TO_ASYNC_NAMES | {"async_to_sync"} and len(node.args) == 1 and not node.keywords:
            return self.visit(node.args[0])  # an adapter passed on, not called here
        node = self.generic_visit(node)
        attribute = _literal_getattr(node)
        if attribute is not None:
            return ast.copy_location(attribute, node)
        if called_name(node) == "dict" and node.args and isinstance(node.args[0], (ast.GeneratorExp, ast.ListComp)):
            pairs = node.args[0]
            if isinstance(pairs.elt, ast.Tuple) and len(pairs.elt.elts) == 2:
                # dict((k, v) for ...) is {k: v for ...}
                node.args[0] = ast.copy_location(ast.DictComp(*pairs.elt.elts, pairs.generators), pairs)
        session_read = _session_read(node)
        if session_read is not None:
            return ast.copy_location(session_read, node)
        if called_name(node) in _ITERATION_CONSUMERS:
            node.args = [_unlisted(a) for a in node.args]
        node = self._by_keyword(node)
        for keyword in node.keywords:
            keyword.arg = _SAME_KEYWORD.get(keyword.arg, keyword.arg)
        node.keywords = sorted(node.keywords, key=lambda k: (k.arg is None, k.arg or ""))
        return node

    def _signature_of(self, name: str, functions: dict[str, Function]) -> Function | None:
        """The function a call calls.  On the async side a twin's name was translated to the
        sync one, but the call passes the async twin's arguments: where the twins' parameters
        differ in more than their names (an input only the async twin takes), by its own."""
        function = functions.get(name)
        if self.side == "async" and function is not None:
            twin = next((a for a, s in self.names.own_twins.items() if s == name and a in functions), None)
            if twin is not None and len(functions[twin].args.args) != len(function.args.args):
                return functions[twin]
        return function

    def _by_keyword(self, node: ast.Call) -> ast.Call:
        """A call of a function of this class or module passes its arguments by name, so
        `f(user, obj)` and `f(user, obj=obj)` read alike."""
        func, function, skip = node.func, None, 0
        if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and func.value.id in ("self", "cls"):
            function, skip = self._signature_of(func.attr, self.siblings), 1
        elif isinstance(func, ast.Name):
            function = self._signature_of(func.id, self.module_functions)
        if function is None or any(isinstance(a, ast.Starred) for a in node.args):
            return node
        if "staticmethod" in decorator_names(function):
            skip = 0
        parameters = [a.arg for a in function.args.args][skip:]
        if function.args.posonlyargs or len(node.args) > len(parameters):
            return node
        named = [ast.keyword(name, value) for name, value in zip(parameters, node.args)]
        return ast.copy_location(ast.Call(func, [], [*named, *node.keywords]), node)


# -- helpers ----------------------------------------------------------------------------------------


@dataclass
class _Binding:
    value: ast.expr
    used: bool = False


def _variables(function: ast.AST) -> set[str]:
    """Parameters and names a function stores (its nested functions' included)."""
    found = {a.arg for a in ast.walk(function) if isinstance(a, ast.arg)}
    for node in ast.walk(function):
        if node is not function:
            found |= _stored_names(node) if isinstance(node, ast.stmt) else set()
    return found


def _mutated(function: ast.AST) -> set[str]:
    """Names whose object the function changes: `x.append(...)`, `x[k] = v`, `x += ...`."""
    found = set()
    for node in ast.walk(function):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and isinstance(node.func.value, ast.Name):
            found.add(node.func.value.id)
        elif isinstance(node, ast.Subscript) and isinstance(node.ctx, (ast.Store, ast.Del)) and isinstance(node.value, ast.Name):
            found.add(node.value.id)
        elif isinstance(node, ast.AugAssign) and isinstance(node.target, ast.Name):
            found.add(node.target.id)
    return found


def _bind_arguments(function: Function, call: ast.Call, *, skip_first: bool) -> dict[str, ast.expr] | None:
    """Parameter → argument for a call, defaults filled in; None when it cannot be told
    (`*args`, `**kwargs`)."""
    arguments = function.args
    if arguments.vararg or arguments.kwarg or arguments.posonlyargs:
        return None
    if any(isinstance(a, ast.Starred) for a in call.args) or any(k.arg is None for k in call.keywords):
        return None
    positional = [a.arg for a in arguments.args][1 if skip_first else 0 :]
    defaults = dict(zip([a.arg for a in arguments.args][len(arguments.args) - len(arguments.defaults) :], arguments.defaults))
    defaults.update({a.arg: d for a, d in zip(arguments.kwonlyargs, arguments.kw_defaults) if d is not None})
    if len(call.args) > len(positional):
        return None
    bound: dict[str, ast.expr] = dict(zip(positional, call.args))
    for keyword in call.keywords:
        bound[keyword.arg] = keyword.value
    for name in [*positional, *(a.arg for a in arguments.kwonlyargs)]:
        if name not in bound:
            if name not in defaults:
                return None
            bound[name] = defaults[name]
    return bound


def _substitute_statement(stmt: ast.stmt, name: str, value: ast.expr) -> ast.stmt:
    class Substitute(ast.NodeTransformer):
        def visit_Name(self, node: ast.Name) -> ast.AST:
            return ast.copy_location(clone(value), node) if node.id == name and isinstance(node.ctx, ast.Load) else node

    return Substitute().visit(stmt)


def _assigned_names(stmt: ast.stmt) -> list[str]:
    """The names of `name = value` and `a, b = value`."""
    if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1:
        return _target_names(stmt.targets[0])
    return []


def _calls(value: ast.expr) -> bool:
    return any(isinstance(n, ast.Call) for n in ast.walk(value))


def _is_container(value: ast.expr) -> bool:
    if isinstance(value, (ast.List, ast.Dict, ast.Set, ast.ListComp, ast.DictComp, ast.SetComp)):
        return True
    return isinstance(value, ast.Call) and called_name(value) in ("list", "dict", "set", "defaultdict", "OrderedDict", "Counter", "deque")


def _stored_names(stmt: ast.stmt) -> set[str]:
    found = set()
    for node in ast.walk(stmt):
        if isinstance(node, ast.Name) and isinstance(node.ctx, (ast.Store, ast.Del)):
            found.add(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            found.add(node.name)
        elif isinstance(node, ast.ExceptHandler) and node.name:
            found.add(node.name)
    return found


def _from(value: ast.expr, statement: ast.stmt) -> ast.expr:
    """`value`, each of its nodes remembering the assignment it was read from (a finding shows
    that statement, not the one the value was substituted into)."""
    for node in ast.walk(value):
        if not hasattr(node, "origin"):  # a value read from an earlier assignment keeps its own
            node.origin = statement  # type: ignore[attr-defined]
    return value


def _dotted(qualname: str) -> ast.expr:
    head, *rest = qualname.split(".")
    node: ast.expr = ast.Name(head, ast.Load())
    for part in rest:
        node = ast.Attribute(node, part, ast.Load())
    return node


def _is_none(node: ast.expr) -> bool:
    return isinstance(node, ast.Constant) and node.value is None


def _without_docstring(body: list[ast.stmt]) -> list[ast.stmt]:
    first = body[0] if body else None
    if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) and isinstance(first.value.value, str):
        return body[1:]
    return body


def _strip_annotations(arguments: ast.arguments) -> ast.arguments:
    arguments = clone(arguments)
    for arg in (*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs, arguments.vararg, arguments.kwarg):
        if arg is not None:
            arg.annotation = None
            arg.type_comment = None
    return arguments


def _takes_arguments(arguments: ast.arguments) -> bool:
    a = arguments
    return bool(a.posonlyargs or a.args or a.kwonlyargs or a.vararg or a.kwarg)


def _is_thread_decorator(decorator: ast.expr) -> bool:
    target = decorator.func if isinstance(decorator, ast.Call) else decorator
    name = target.attr if isinstance(target, ast.Attribute) else getattr(target, "id", "")
    return name in api.SYNC_TO_ASYNC_NAMES


def _targets(stmt: ast.stmt) -> list[ast.expr]:
    return stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]


def _target_names(target: ast.expr) -> list[str]:
    if isinstance(target, ast.Name):
        return [target.id]
    if isinstance(target, ast.Tuple) and all(isinstance(e, ast.Name) for e in target.elts):
        return [e.id for e in target.elts]
    return []


def _projection_loop(node: ast.For) -> ast.For:
    """`for role, text in [(r.role, r.text) for r in rows]:` is `for r in rows:` reading
    `r.role` and `r.text` (async code takes the fields it needs before the loop)."""
    comprehension = node.iter
    if not (
        isinstance(comprehension, (ast.ListComp, ast.GeneratorExp))
        and len(comprehension.generators) == 1
        and not comprehension.generators[0].ifs
        and isinstance(comprehension.elt, ast.Tuple)
        and isinstance(node.target, ast.Tuple)
        and len(node.target.elts) == len(comprehension.elt.elts)
        and all(isinstance(t, ast.Name) for t in node.target.elts)
    ):
        return node
    generator = comprehension.generators[0]
    body = node.body
    for name, value in zip(node.target.elts, comprehension.elt.elts):
        body = [_substitute_statement(stmt, name.id, value) for stmt in body]
    return ast.copy_location(ast.For(generator.target, generator.iter, body, node.orelse, None), node)


def _unlisted(node: ast.expr) -> ast.expr:
    """`list(x)` where it is iterated anyway: `x`."""
    if (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id in ("list", "tuple")
        and len(node.args) == 1
        and not node.keywords
    ):
        return node.args[0]
    return node


def _helpers(body: list[ast.stmt]) -> dict[str, ast.FunctionDef]:
    """Nested functions (plain, or run in a thread) called once in the block, where their body
    can be read in place: `helper()` as a statement, or `x = helper(args)` of a helper that
    only returns an expression."""
    found = {}
    for stmt in body:
        if not (isinstance(stmt, ast.FunctionDef) and all(_is_thread_decorator(d) for d in stmt.decorator_list)):
            continue
        uses = [n for b in body for n in ast.walk(b) if isinstance(n, ast.Name) and n.id == stmt.name]
        if len(uses) != 1:
            continue
        statement = next((b for b in body if any(n is uses[0] for n in ast.walk(b))), None)
        call = getattr(statement, "value", None)
        if not (isinstance(call, ast.Call) and call.func is uses[0]):
            continue
        if isinstance(statement, ast.Expr) and not call.args and not call.keywords and not _takes_arguments(stmt.args):
            found[stmt.name] = stmt
        elif isinstance(statement, ast.Assign) and _returns_expression(stmt):
            found[stmt.name] = stmt
    return found


def _returns_expression(function: ast.FunctionDef) -> bool:
    body = _without_docstring(function.body)
    arguments = function.args
    return (
        len(body) == 1
        and isinstance(body[0], ast.Return)
        and body[0].value is not None
        and not (arguments.vararg or arguments.kwarg or arguments.kwonlyargs or arguments.posonlyargs)
    )


def _substitute(tree: ast.expr, name: str, value: ast.expr) -> ast.expr:
    class Substitute(ast.NodeTransformer):
        def visit_Name(self, node: ast.Name) -> ast.AST:
            return clone(value) if node.id == name and isinstance(node.ctx, ast.Load) else node

    return Substitute().visit(tree)


def _literal_getattr(call: ast.Call) -> ast.expr | None:
    """`getattr(x, "name")` is `x.name`."""
    if (
        isinstance(call.func, ast.Name)
        and call.func.id == "getattr"
        and len(call.args) == 2
        and not call.keywords
        and isinstance(call.args[1], ast.Constant)
        and isinstance(call.args[1].value, str)
        and call.args[1].value.isidentifier()
    ):
        return ast.Attribute(call.args[0], call.args[1].value, ast.Load())
    return None


def _is_session(node: ast.expr) -> bool:
    """`request.session`, `self.session`, `scope["session"]`: Django's session (a local named
    `session` may as well be an HTTP client's)."""
    if isinstance(node, ast.Attribute):
        return node.attr in ("session", "_session")
    return isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Constant) and node.slice.value == "session"


def _session_read(call: ast.Call) -> ast.expr | None:
    """`session.get(k)` is `session[k]`: the async API reads a session only with `aget()`,
    and checks for a missing key itself (`_missing_key_check`)."""
    if (
        isinstance(call.func, ast.Attribute)
        and call.func.attr == "get"
        and len(call.args) == 1
        and not call.keywords
        and _is_session(call.func.value)
    ):
        return ast.Subscript(call.func.value, call.args[0], ast.Load())
    return None


def _missing_key_check(stmt: ast.If) -> bool:
    """`if value is None: raise KeyError(...)`: what `session[k]` does by itself."""
    test = stmt.test
    return (
        not stmt.orelse
        and len(stmt.body) == 1
        and isinstance(stmt.body[0], ast.Raise)
        and stmt.body[0].exc is not None
        and getattr(stmt.body[0].exc.func if isinstance(stmt.body[0].exc, ast.Call) else stmt.body[0].exc, "id", None) == "KeyError"
        and isinstance(test, ast.Compare)
        and isinstance(test.ops[0], ast.Is)
        and _is_none(test.comparators[0])
    )


def _all_any_as_loop(node: ast.Return) -> list[ast.stmt] | None:
    """`return all(e for v in it)` → `for v in it: if not e: return False` + `return True`
    (and `any`): what an async twin has to write, since its `e` is awaited."""
    call = node.value
    if not (
        isinstance(call, ast.Call)
        and isinstance(call.func, ast.Name)
        and call.func.id in ("all", "any")
        and len(call.args) == 1
        and not call.keywords
        and isinstance(call.args[0], ast.GeneratorExp)
        and len(call.args[0].generators) == 1
    ):
        return None
    generator = call.args[0].generators[0]
    is_all = call.func.id == "all"
    test = ast.UnaryOp(ast.Not(), call.args[0].elt) if is_all else call.args[0].elt
    inner: ast.stmt = ast.copy_location(ast.If(test, [ast.copy_location(ast.Return(ast.Constant(not is_all)), node)], []), node)
    for condition in reversed(generator.ifs):
        inner = ast.copy_location(ast.If(condition, [inner], []), node)
    loop = ast.copy_location(ast.For(generator.target, generator.iter, [inner], []), node)
    return [loop, ast.copy_location(ast.Return(ast.Constant(is_all)), node)]


def _pop_as_delete(stmt: ast.Expr) -> ast.stmt | None:
    """`d.pop(k)` whose result is not used is `del d[k]` (both raise KeyError when k is missing)."""
    call = stmt.value
    if (
        isinstance(call.func, ast.Attribute)
        and call.func.attr == "pop"
        and len(call.args) == 1
        and not call.keywords
        and not isinstance(call.args[0], ast.Starred)
    ):
        target = ast.Subscript(call.func.value, call.args[0], ast.Del())
        return ast.copy_location(ast.Delete([target]), stmt)
    return None


def _collapse_branches(body: list[ast.stmt]) -> list[ast.stmt]:
    """`if iscoroutinefunction(f): r = f() else: r = f()` (each arm in sync form) is one
    statement.  So is `if hasattr(t, "ainvoke"): return t.invoke(x)` followed by the same
    `return t.invoke(x)`; and a pure branch left with nothing to do goes."""
    result: list[ast.stmt] = []
    for position, stmt in enumerate(body):
        if isinstance(stmt, ast.If) and is_pure(stmt.test):
            inner = [dump(s) for s in stmt.body]
            if not stmt.body or (stmt.body == [] and not stmt.orelse):
                result.extend(stmt.orelse)
                continue
            if stmt.orelse and inner == [dump(s) for s in stmt.orelse]:
                result.extend(stmt.body)
                continue
            following = body[position + 1 : position + 1 + len(stmt.body)]
            if not stmt.orelse and isinstance(stmt.body[-1], (ast.Return, ast.Raise)) and inner == [dump(s) for s in following]:
                continue
            if not stmt.orelse and not stmt.body:
                continue
        if isinstance(stmt, ast.If) and not stmt.body and not stmt.orelse:
            continue
        result.append(stmt)
    return result


def _loops_as_comprehensions(body: list[ast.stmt]) -> list[ast.stmt]:
    """`r = []` then `for v in it: r.append(e)` is `r = [e for v in it]` (statements that do
    not touch `r` may stand between)."""
    result: list[ast.stmt] = []
    for stmt in body:
        # The loop's own temporaries are already read where they are used.
        steps = [s for s in stmt.body if not getattr(s, "bound", False)] if isinstance(stmt, ast.For) else []
        call = steps[0].value if len(steps) == 1 and isinstance(steps[0], ast.Expr) else None
        if (
            isinstance(stmt, ast.For)
            and not stmt.orelse
            and isinstance(call, ast.Call)
            and isinstance(call.func, ast.Attribute)
            and call.func.attr == "append"
            and isinstance(call.func.value, ast.Name)
            and len(call.args) == 1
        ):
            name = call.func.value.id
            at = _empty_list_before(result, name)
            if at is not None:
                comprehension = ast.ListComp(call.args[0], [ast.comprehension(stmt.target, stmt.iter, [], 0)])
                start = result[at]
                result.pop(at)
                result.append(ast.copy_location(ast.Assign(start.targets, comprehension), start))
                continue
        result.append(stmt)
    return result


def _empty_list_before(statements: list[ast.stmt], name: str) -> int | None:
    """Where `name = []` stands, with nothing after it that names `name`."""
    for position in range(len(statements) - 1, -1, -1):
        stmt = statements[position]
        if (
            isinstance(stmt, ast.Assign)
            and len(stmt.targets) == 1
            and isinstance(stmt.targets[0], ast.Name)
            and stmt.targets[0].id == name
            and isinstance(stmt.value, ast.List)
            and not stmt.value.elts
        ):
            return position
        if any(isinstance(n, ast.Name) and n.id == name for n in ast.walk(stmt)):
            return None
    return None


def normal_forms(
    sync: ast.FunctionDef,
    async_in_sync_form: ast.FunctionDef,
    names: Names,
    siblings: dict[str, Function],
    callee: Callable[[str, bool], ast.FunctionDef | None] = lambda name, method: None,
) -> tuple[NormalForm, NormalForm, frozenset[str]]:
    """Both twins' normal forms; the async twin's parameters take the sync twin's names where
    they differ only in name.  Also the names only one world needs: those that said which
    twin they belong to and that the other twin does not use."""
    sync_names = _used_names(sync)
    async_names = _used_names(async_in_sync_form)
    sync_side = Normaliser(names, side="sync", other_names=async_names, siblings=siblings, module_functions=names.module_functions, callee=callee)
    async_side = Normaliser(names, side="async", other_names=sync_names, siblings=siblings, module_functions=names.module_functions, callee=callee)
    sync_side.other_called = _reached(async_in_sync_form, callee)
    async_side.other_called = _reached(sync, callee)
    sync_form = sync_side.run(sync, None)
    declared = [a.arg for a in (*sync.args.posonlyargs, *sync.args.args, *sync.args.kwonlyargs)]
    async_form = async_side.run(async_in_sync_form, declared)
    in_both = _used_names(ast.Module(sync_form.body, [])) & _used_names(ast.Module(async_form.body, []))
    machinery = (sync_side.stripped | async_side.stripped) - in_both
    return sync_form, async_form, frozenset(machinery)


def _reached(function: ast.AST, callee: Callable[[str, bool], ast.FunctionDef | None], depth: int = 2) -> frozenset[str]:
    """The names a function uses and the functions of its class and module it calls (its
    base's as `super().name`), and theirs, two calls deep."""
    found = set()
    for node in (function, *reached_functions(function, callee, depth)):
        found |= _used_names(node)
        found |= {key[0] for n in ast.walk(node) if isinstance(n, ast.Call) for key in [_callee_key(n.func)] if key is not None}
    return frozenset(found)


SUPER = "super()."


def _callee_key(func: ast.expr) -> tuple[str, bool] | None:
    """(name, is a method) of a call of the class's or module's own function: `self.name`,
    `cls.name`, `name`, and `super().name` as "super().name"."""
    if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and func.value.id in ("self", "cls"):
        return func.attr, True
    if (
        isinstance(func, ast.Attribute)
        and isinstance(func.value, ast.Call)
        and isinstance(func.value.func, ast.Name)
        and func.value.func.id == "super"
    ):
        return SUPER + func.attr, True
    if isinstance(func, ast.Name):
        return func.id, False
    return None


def reached_functions(
    function: ast.AST, callee: Callable[[str, bool], ast.FunctionDef | None], depth: int = 2
) -> list[ast.AST]:
    """The class's and module's functions a function calls, two calls deep."""
    found: list[ast.AST] = []
    frontier = [function]
    for _ in range(depth):
        reached = []
        for node in (n for f in frontier for n in ast.walk(f)):
            key = _callee_key(node.func) if isinstance(node, ast.Call) else None
            if key is not None:
                target = callee(*key)
                if target is not None and target is not function and all(target is not f for f in found):
                    reached.append(target)
        found += reached
        frontier = reached
    return found


def _used_names(function: ast.AST) -> frozenset[str]:
    found = set()
    for node in ast.walk(function):
        if isinstance(node, ast.Name):
            found.add(node.id)
        elif isinstance(node, ast.Attribute):
            found.add(node.attr)
        elif isinstance(node, ast.arg):
            found.add(node.arg)
    return frozenset(found)
