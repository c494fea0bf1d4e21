from __future__ import annotations

import ast

from ..diagnostics import Applicability, Fix
from ..django_api import AUTH_FUNCTIONS
from ..fixers.expressions import can_await_here, operand, replace_expression
from ..fixers.imports import is_builtin
from ..semantic import LazyUser, Manager, QuerySet, iter_scope_nodes
from .base import Invalid, Rule, Valid

AUSER_SINCE = AUTH_FUNCTIONS["get_user"].since  # request.auser() came with the 5.0 auth twins
EVALUATING_BUILTINS = frozenset({"str", "repr", "hash", "bool", "int", "isinstance", "getattr", "hasattr"})
# Routers whose operations authenticate before the view runs and set `request.user` themselves.
AUTHENTICATING_FRAMEWORKS = ("ninja.",)
HTTP_VERBS = frozenset({"get", "post", "put", "patch", "delete", "api_operation"})


def framework_authenticates(ctx) -> bool:
    """An async django-ninja operation (`@router.get(...)`): the framework resolved the user."""
    function = ctx.scope.node if ctx.scope is not None else None
    for decorator in getattr(function, "decorator_list", ()):
        target = decorator.func if isinstance(decorator, ast.Call) else decorator
        if not (isinstance(target, ast.Attribute) and target.attr in HTTP_VERBS and isinstance(target.value, ast.Name)):
            continue
        router = target.value.id
        origin = ctx.file.imports.get(router, "")
        for stmt in ctx.file.tree.body:
            if isinstance(stmt, ast.Assign) and any(isinstance(t, ast.Name) and t.id == router for t in stmt.targets):
                if isinstance(stmt.value, ast.Call):
                    origin = ctx.file.qualname_of(stmt.value.func) or origin
        if origin.startswith(AUTHENTICATING_FRAMEWORKS):
            return True
    return False


class RequestUserInAsync(Rule):
    """`request.user` used in async code.

    ## What it does
    Flags reads of `request.user`'s attributes, truth tests and comparisons of it, inside an
    `async def` whose `request` parameter is the request: `request.user.is_authenticated`,
    `if request.user:`, and the same through a variable bound to `request.user`.  Reading
    `request.user` alone (to pass it on) is lazy and is not flagged.

    ## Why is this bad?
    `request.user` is a `SimpleLazyObject` over `auth.get_user()`: its first use loads the
    session and the user through the sync database API, raising `SynchronousOnlyOperation` for
    a logged-in user (and only then, so tests with anonymous clients pass).

    ## Fix
    `(await request.auser()).is_authenticated` (Django 5.0+).

    ## Fix safety
    Unsafe: `auser()` returns the user from the session, whatever a custom middleware (token or
    header authentication) may have assigned to `request.user`.
    """

    code = "ASL107"
    name = "request-user-in-async"
    node_types = (
        ast.Attribute, ast.Compare, ast.If, ast.While, ast.IfExp, ast.UnaryOp, ast.BoolOp, ast.Call,
        ast.FormattedValue,
    )

    INVALID = [
        Invalid(
            "async def view(request):\n    if request.user.is_authenticated:\n        return 'hello'\n",
            unsafe_fixed="async def view(request):\n    if (await request.auser()).is_authenticated:\n        return 'hello'\n",
            target_version="5.0",
        ),
        Invalid(
            "async def view(request):\n    user = request.user\n    return user.username\n",
            unsafe_fixed="async def view(request):\n    user = await request.auser()\n    return user.username\n",
            target_version="5.0",
        ),
        Invalid("async def view(request):\n    return request.user.pk\n", target_version="4.2"),
        Invalid(
            "from library.models import Author\n\nasync def mine(request):\n    return await Author.objects.filter(user=request.user).acount()\n",
            unsafe_fixed="from library.models import Author\n\nasync def mine(request):\n    return await Author.objects.filter(user=await request.auser()).acount()\n",
        ),
        Invalid(
            "async def greet(request):\n    return f'Hello {request.user}'\n",
            unsafe_fixed="async def greet(request):\n    return f'Hello {await request.auser()}'\n",
        ),
        # `getattr()` with a literal name is the attribute read (middleware often spells it so).
        Invalid(
            "async def view(request):\n    user = getattr(request, 'user', None)\n    if user is not None and user.is_staff:\n        return 'staff'\n",
            unsafe_fixed="async def view(request):\n    user = await request.auser()\n    if user is not None and user.is_staff:\n        return 'staff'\n",
        ),
    ]
    VALID = [
        Valid("async def view(request):\n    user = await request.auser()\n    return user.is_authenticated\n"),
        Valid("async def view(request):\n    request.user = await request.auser()\n    return request.user.is_authenticated\n"),
        Valid("from asgiref.sync import sync_to_async\n\nasync def view(request, audit):\n    await sync_to_async(audit)(request.user)\n"),
        Valid("async def view(request):\n    def check():\n        return request.user.is_staff\n    return check\n"),
        Valid("async def handler(event):\n    return event.user.name\n"),
        Valid("from ninja import Router\n\nrouter = Router()\n\n@router.get('/me')\nasync def me(request):\n    return request.user.is_authenticated\n"),
        Valid("async def view(request, name):\n    return getattr(request, name, None)\n"),
    ]

    def check(self, node, ctx):
        if framework_authenticates(ctx):
            return
        if isinstance(node, ast.Call):
            for argument in self._evaluated_arguments(node, ctx):
                yield from self._used(argument, node, ctx, "passing it where it is evaluated")
        elif isinstance(node, ast.FormattedValue):
            yield from self._used(node.value, node, ctx, "formatting it")
        elif isinstance(node, ast.Attribute):
            if isinstance(node.ctx, ast.Load):
                yield from self._used(node.value, node, ctx, "reading an attribute of it")
        elif isinstance(node, ast.Compare):
            if not any(isinstance(op, (ast.Is, ast.IsNot)) for op in node.ops):
                for operand in (node.left, *node.comparators):
                    yield from self._used(operand, node, ctx, "comparing it")
        elif isinstance(node, (ast.If, ast.While, ast.IfExp)):
            yield from self._used(node.test, node, ctx, "testing it")
        elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
            yield from self._used(node.operand, node, ctx, "testing it")
        elif isinstance(node, ast.BoolOp):
            for operand in node.values[:-1]:
                yield from self._used(operand, node, ctx, "testing it")

    def _used(self, expr: ast.expr, parent: ast.AST, ctx, how: str):
        if not isinstance(ctx.infer(expr), LazyUser):
            return
        origin = self._origin(expr, ctx)
        if origin is None or self._reassigned_before(origin, expr, ctx):
            return
        fix = None
        if ctx.target >= AUSER_SINCE and can_await_here(ctx, origin):
            request = operand(ctx, origin.value)
            # `request.user.x` is rewritten in place; `user = request.user` at the binding,
            # where the value of an assignment needs no parentheses.
            saved, ctx.parents = ctx.parents, (*ctx.parents, parent) if origin is expr else ()
            edit = replace_expression(ctx, origin, f"await {request}.auser()", awaits=True)
            ctx.parents = saved
            fix = Fix(f"Use `await {request}.auser()`", (edit,), Applicability.UNSAFE)
        advice = (
            "use `await request.auser()`"
            if ctx.target >= AUSER_SINCE
            else "load the user in `sync_to_async` (`request.auser()` needs Django 5.0)"
        )
        yield ctx.report(
            self.code, expr, f"`request.user` loads the user synchronously on first use ({how}); {advice}", fix
        )

    @staticmethod
    def _evaluated_arguments(call: ast.Call, ctx) -> list[ast.expr]:
        """Arguments that the callee evaluates at once: builtins that inspect their argument, and
        lookup values of a query (Django reads `_meta`/`pk` of a model instance to build SQL)."""
        if isinstance(call.func, ast.Name) and call.func.id in EVALUATING_BUILTINS and is_builtin(ctx, call.func.id):
            return call.args[:1]
        if isinstance(call.func, ast.Attribute) and isinstance(ctx.infer(call.func.value), (Manager, QuerySet)):
            return [*call.args, *(k.value for k in call.keywords)]
        return []

    @staticmethod
    def _origin(node: ast.expr, ctx) -> ast.Attribute | None:
        """The `request.user` expression behind `node`: itself, or the value a name was bound to
        (`getattr(request, "user", None)` too)."""
        node = ctx.as_attribute(node)
        if isinstance(node, ast.Attribute) and node.attr == "user":
            return node
        if isinstance(node, ast.Name):
            for stmt in iter_scope_nodes(ctx.scope.node.body):
                if isinstance(stmt, ast.Assign) and any(isinstance(t, ast.Name) and t.id == node.id for t in stmt.targets):
                    value = ctx.as_attribute(stmt.value)
                    if isinstance(value, ast.Attribute) and value.attr == "user":
                        return value
        return None

    @staticmethod
    def _reassigned_before(origin: ast.Attribute, use: ast.AST, ctx) -> bool:
        """`request.user = await request.auser()` earlier in the function makes it a real user."""
        request = ast.dump(origin.value)
        return any(
            isinstance(stmt, ast.Assign)
            and stmt.lineno < use.lineno
            and any(
                isinstance(t, ast.Attribute) and t.attr == "user" and ast.dump(t.value) == request
                for t in stmt.targets
            )
            for stmt in iter_scope_nodes(ctx.scope.node.body)
        )
