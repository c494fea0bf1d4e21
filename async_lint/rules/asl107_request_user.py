from __future__ import annotations

import ast

from ..diagnostics import Applicability, Fix
from ..django_api import AUTH_FUNCTIONS
from ..fixers.expressions import can_await_here, replace_expression
from ..semantic import LazyUser, iter_scope_nodes
from .base import Invalid, Rule, Valid

AUSER_SINCE = AUTH_FUNCTIONS["get_user"].since  # request.auser() came with the 5.0 auth twins


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
    node_types = (ast.Attribute, ast.Compare, ast.If, ast.While, ast.IfExp, ast.UnaryOp, ast.BoolOp)

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
    ]
    VALID = [
        Valid("async def view(request):\n    user = await request.auser()\n    return user.is_authenticated\n"),
        Valid("async def view(request):\n    request.user = await request.auser()\n    return request.user.is_authenticated\n"),
        Valid("from asgiref.sync import sync_to_async\n\nasync def view(request, audit):\n    await sync_to_async(audit)(request.user)\n"),
        Valid("async def view(request):\n    def check():\n        return request.user.is_staff\n    return check\n"),
        Valid("async def handler(event):\n    return event.user.name\n"),
    ]

    def check(self, node, ctx):
        if isinstance(node, ast.Attribute):
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
            request = ctx.text(origin.value)
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
    def _origin(node: ast.expr, ctx) -> ast.Attribute | None:
        """The `request.user` expression behind `node`: itself, or the value a name was bound to."""
        if isinstance(node, ast.Attribute) and node.attr == "user":
            return node
        if isinstance(node, ast.Name):
            for stmt in iter_scope_nodes(ctx.scope.node.body):
                if (
                    isinstance(stmt, ast.Assign)
                    and any(isinstance(t, ast.Name) and t.id == node.id for t in stmt.targets)
                    and isinstance(stmt.value, ast.Attribute)
                    and stmt.value.attr == "user"
                ):
                    return stmt.value
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
