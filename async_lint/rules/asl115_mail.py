from __future__ import annotations

import ast

from .. import django_api as api
from ..semantic import EmailMessage
from .base import Invalid, Rule, Valid
from ._fix_choice import called_method, thread_fix


class BlockingMailSend(Rule):
    """Sending email with Django's sync mail API on the event loop.

    ## What it does
    Flags `send_mail()`, `send_mass_mail()`, `mail_admins()`, `mail_managers()` and
    `EmailMessage(...).send()` / `EmailMultiAlternatives(...).send()` inside an `async def`.

    ## Why is this bad?
    `django.core.mail` has no async API and no guard: the SMTP backend connects and talks to the
    mail server on the event loop, stalling every request the process serves.  Nothing raises,
    so it is found in production, under load.

    ## Fix
    `await sync_to_async(send_mail)(...)`.  On Django 6.0+ a `django.tasks` task with
    `await task.aenqueue(...)` takes the work off the request entirely.

    ## Fix safety
    Safe: the same call, in Django's worker thread.
    """

    code = "ASL115"
    name = "blocking-mail-send"
    node_types = (ast.Call,)

    INVALID = [
        Invalid(
            "from django.core.mail import send_mail\n\nasync def notify(address):\n    send_mail('Hi', 'Body', None, [address])\n",
            fixed="from django.core.mail import send_mail\nfrom asgiref.sync import sync_to_async\n\nasync def notify(address):\n    await sync_to_async(send_mail)('Hi', 'Body', None, [address])\n",
        ),
        Invalid(
            "from django.core.mail import EmailMessage\n\nasync def notify(address):\n    message = EmailMessage('Hi', 'Body', to=[address])\n    message.send()\n",
            fixed="from django.core.mail import EmailMessage\nfrom asgiref.sync import sync_to_async\n\nasync def notify(address):\n    message = EmailMessage('Hi', 'Body', to=[address])\n    await sync_to_async(message.send)()\n",
        ),
    ]
    VALID = [
        Valid("from asgiref.sync import sync_to_async\nfrom django.core.mail import send_mail\n\nasync def notify(address):\n    await sync_to_async(send_mail)('Hi', 'Body', None, [address])\n"),
        Valid("async def notify(channel, text):\n    channel.send(text)\n"),
    ]

    def check(self, node, ctx):
        qualname = ctx.qualname(node.func)
        if qualname in api.MAIL_FUNCTIONS:
            name = qualname.rpartition(".")[2]
        else:
            receiver, method = called_method(node) or (None, "")
            if method != "send" or not isinstance(ctx.infer(receiver), EmailMessage):
                return
            name = "EmailMessage.send"
        advice, fix = thread_fix(ctx, node)
        yield ctx.report(self.code, node, f"`{name}()` blocks the event loop on SMTP I/O; {advice}", fix)
