from __future__ import annotations

import ast

from .. import django_api as api
from .base import Invalid, Rule, Valid


ATOMIC = "django.db.transaction.atomic"


class TransactionInAsync(Rule):
    """`transaction.atomic()` (or another `django.db.transaction` function) in async code.

    ## What it does
    Flags `with transaction.atomic():`, `@transaction.atomic` on an `async def`, and calls of
    `savepoint()`, `commit()`, `rollback()`, `on_commit()`, `set_autocommit()`, … inside an
    `async def`.

    ## Why is this bad?
    Django's transaction API has no async form in any version.  Entering `atomic()` on the event
    loop raises `SynchronousOnlyOperation`.  As a decorator on an `async def` it is worse: it
    wraps only the creation of the coroutine, so even where it does not raise, the body runs
    outside the transaction.  Each `await qs.a…()` is its own `sync_to_async` call in autocommit
    mode, so there is no way to hold a transaction open across awaits.

    ## Fix
    No automatic fix: put the whole transactional block in one sync function and run it with
    `await sync_to_async(function)()`, as Django's own session backend does.
    """

    code = "ASL113"
    name = "transaction-in-async"
    node_types = (ast.AsyncFunctionDef, ast.With, ast.AsyncWith, ast.Call)

    INVALID = [
        Invalid(
            "from django.db import transaction\nfrom library.models import Book\n\nasync def move(pk):\n    with transaction.atomic():\n        await Book.objects.filter(pk=pk).aupdate(pages=1)\n"
        ),
        Invalid(
            "from django.db import transaction\n\n@transaction.atomic\nasync def create(request):\n    return None\n"
        ),
        Invalid("from django.db import transaction\n\nasync def later(callback):\n    transaction.on_commit(callback)\n"),
        Invalid("from django.db import transaction\n\nasync def move():\n    async with transaction.atomic():\n        pass\n"),
    ]
    VALID = [
        Valid(
            "from asgiref.sync import sync_to_async\nfrom django.db import transaction\n\nasync def move(pk):\n    def work():\n        with transaction.atomic():\n            pass\n    await sync_to_async(work)()\n"
        ),
        Valid("from django.db import transaction\n\n@transaction.non_atomic_requests\nasync def view(request):\n    return None\n"),
        Valid("from django.db import transaction\n\nasync def wrap(view):\n    return transaction.atomic(using='default')(view)\n"),
    ]

    def check(self, node, ctx):
        if isinstance(node, ast.AsyncFunctionDef):
            for decorator in node.decorator_list:
                target = decorator.func if isinstance(decorator, ast.Call) else decorator
                if ctx.qualname(target) == ATOMIC:
                    yield ctx.report(
                        self.code,
                        decorator,
                        "`@transaction.atomic` on an `async def` wraps only the coroutine's creation: the body "
                        "runs outside the transaction; run a sync function with `sync_to_async` instead",
                    )
            return
        if isinstance(node, (ast.With, ast.AsyncWith)):
            for item in node.items:
                manager = item.context_expr
                target = manager.func if isinstance(manager, ast.Call) else manager
                if ctx.qualname(target) != ATOMIC:
                    continue
                what = (
                    "`async with transaction.atomic()` raises TypeError: `Atomic` has no async form"
                    if isinstance(node, ast.AsyncWith)
                    else "`transaction.atomic()` has no async form and raises on the event loop"
                )
                yield ctx.report(
                    self.code,
                    manager,
                    f"{what}; move the block into a sync function and call it with "
                    "`await sync_to_async(function)()`",
                )
            return
        qualname = ctx.qualname(node.func)
        # `atomic(...)` only builds a decorator or context manager: it is entering it that
        # touches the connection (the `with` above).
        if qualname in api.TRANSACTION_FUNCTIONS and qualname != ATOMIC:
            name = qualname.rpartition(".")[2]
            yield ctx.report(
                self.code,
                node,
                f"`transaction.{name}()` has no async form and raises on the event loop; move the block into a "
                "sync function and call it with `await sync_to_async(function)()`",
            )
