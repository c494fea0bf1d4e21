from __future__ import annotations

import ast

from .. import django_api as api
from ..semantic import Signal
from .base import Invalid, Rule, Valid
from ._fix_choice import called_method, method_fix


class SyncSignalSend(Rule):
    """`signal.send()` / `signal.send_robust()` on the event loop.

    ## What it does
    Flags `send()` and `send_robust()` on Django's signals and on `Signal()` instances the
    project defines, inside an `async def`.

    ## Why is this bad?
    `send()` runs every sync receiver inline, on the event loop: a receiver that touches the ORM
    raises `SynchronousOnlyOperation`, and since Django 5.0 any connected async receiver makes
    `send()` itself raise `RuntimeError` (it cannot start an event loop inside one).

    ## Fix
    `await signal.asend(...)` / `await signal.asend_robust(...)` (Django 5.0+): sync receivers
    run in a thread, async ones concurrently.  `await sync_to_async(signal.send)(...)` before.

    ## Fix safety
    Safe: receivers get the same arguments and results keep their order (sync receivers first).
    """

    code = "ASL112"
    name = "sync-signal-send"
    node_types = (ast.Call,)

    INVALID = [
        Invalid(
            "from library.signals import book_published\n\nasync def publish(book):\n    book_published.send(sender=type(book), book=book)\n",
            fixed="from library.signals import book_published\n\nasync def publish(book):\n    await book_published.asend(sender=type(book), book=book)\n",
            target_version="5.0",
        ),
        Invalid(
            "from django.db.models.signals import post_save\n\nasync def notify(book):\n    post_save.send_robust(sender=type(book), instance=book, created=False)\n",
            fixed="from django.db.models.signals import post_save\nfrom asgiref.sync import sync_to_async\n\nasync def notify(book):\n    await sync_to_async(post_save.send_robust)(sender=type(book), instance=book, created=False)\n",
            target_version="4.2",
        ),
    ]
    VALID = [
        Valid("from library.signals import book_published\n\nasync def publish(book):\n    await book_published.asend(sender=None)\n", target_version="5.0"),
        Valid("async def publish(mailer, book):\n    mailer.send(book)\n"),
    ]

    def check(self, node, ctx):
        receiver, method = called_method(node) or (None, "")
        twin = api.SIGNAL_METHODS.get(method)
        if twin is not None and isinstance(ctx.infer(receiver), Signal):
            advice, fix = method_fix(ctx, node, twin)
            yield ctx.report(self.code, node, f"`signal.{method}()` runs receivers on the event loop; {advice}", fix)
