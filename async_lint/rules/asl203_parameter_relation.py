from __future__ import annotations

import ast

from ..fixers.eager_loading import read_in_thread
from ..semantic import PARAMETER
from .base import Invalid, Rule, Valid
from ._relation_reads import assigned_before, relation_read


class ParameterRelationAccess(Rule):
    """A relation read on a model-typed parameter, whose loading this function cannot see.

    ## What it does
    Flags reads of a to-one relation on a parameter annotated with a model
    (`async def render(book: Book): book.author`).  Off by default: whether the caller loaded
    it is unknown here, so select it explicitly (`--select ASL203`) when auditing.

    ## Why is this bad?
    If the caller did not `select_related()` it, the read queries synchronously and raises
    `SynchronousOnlyOperation` on the event loop.

    ## Fix
    `await sync_to_async(getattr)(book, "author")` reads it in a thread (unsafe fix: the caller
    may have loaded it, in which case the thread hop is wasted), or load it in the caller.
    """

    code = "ASL203"
    name = "parameter-relation-access"
    node_types = (ast.Attribute,)
    default_enabled = False

    INVALID = [
        Invalid(
            "from library.models import Book\n\nasync def byline(book: Book):\n    return book.author.name\n",
            unsafe_fixed='from asgiref.sync import sync_to_async\n\nfrom library.models import Book\n\nasync def byline(book: Book):\n    return (await sync_to_async(getattr)(book, "author")).name\n',
        ),
    ]
    VALID = [
        Valid("from library.models import Book\n\nasync def byline(book: Book):\n    return book.author_id, book.title\n"),
    ]

    def check(self, node, ctx):
        found = relation_read(node, ctx)
        if found is None or found[0].origin != PARAMETER or assigned_before(node, ctx):
            return
        yield ctx.report(
            self.code,
            node,
            f"`{ctx.text(node)}` queries on the event loop unless the caller loaded it; read it with "
            f'`await sync_to_async(getattr)({ctx.text(node.value)}, "{node.attr}")`',
            read_in_thread(ctx, node),
        )
