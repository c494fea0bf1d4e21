from __future__ import annotations

import ast

from .. import django_api as api
from ..semantic import Manager
from .base import Invalid, Rule, Valid
from ._fix_choice import called_method, method_fix


class SyncRelatedManagerMethod(Rule):
    """A related manager's writer (`add`, `remove`, `clear`, `set`, `create`, …) called on the
    event loop.

    ## What it does
    Flags `book.tags.add(tag)`, `author.books.create(...)`, `publisher.book_set.clear()` and the
    other writers of reverse-ForeignKey, many-to-many and generic related managers, found through
    the project's model index.

    ## Why is this bad?
    They write through the sync database API and raise `SynchronousOnlyOperation`.

    ## Fix
    `await book.tags.aadd(tag)`: `aadd`/`aremove`/`aclear`/`aset` need Django 4.2;
    `acreate`/`aget_or_create`/`aupdate_or_create` need 4.1.4 (in 4.1.0–4.1.3 they went through
    the default manager and lost the relation, ticket #34139).  For older targets the call is
    wrapped in `sync_to_async`.

    ## Fix safety
    Safe: each twin calls the sync method in a thread.
    """

    code = "ASL105"
    name = "sync-related-manager-method"
    node_types = (ast.Call,)

    INVALID = [
        Invalid(
            "from library.models import Book, Tag\n\nasync def tag(book: Book, tag: Tag):\n    book.tags.add(tag)\n",
            fixed="from library.models import Book, Tag\n\nasync def tag(book: Book, tag: Tag):\n    await book.tags.aadd(tag)\n",
        ),
        Invalid(
            "from library.models import Author\n\nasync def write(author: Author):\n    return author.books.create(title='New')\n",
            fixed="from asgiref.sync import sync_to_async\n\nfrom library.models import Author\n\nasync def write(author: Author):\n    return await sync_to_async(author.books.create)(title='New')\n",
            target_version="4.1",
        ),
        Invalid(
            "from library.models import Publisher\n\nasync def drop(publisher: Publisher):\n    publisher.book_set.clear()\n",
            fixed="from library.models import Publisher\n\nasync def drop(publisher: Publisher):\n    await publisher.book_set.aclear()\n",
        ),
    ]
    VALID = [
        Valid("from library.models import Book, Tag\n\nasync def tag(book: Book, tag: Tag):\n    await book.tags.aadd(tag)\n"),
        Valid("async def tag(names: set):\n    names.add('x')\n    names.clear()\n"),
    ]

    def check(self, node, ctx):
        receiver, method = called_method(node) or (None, "")
        twin = api.RELATED_MANAGER_METHODS.get(method)
        if twin is None:
            return
        manager = ctx.infer(receiver)
        if not isinstance(manager, Manager) or manager.relation is None:
            return
        relation = manager.relation
        if method in api.NULLABLE_REVERSE_FK_ONLY and relation.kind == "reverse_fk" and not relation.nullable:
            return  # the method does not exist on this manager: an AttributeError, not ours
        advice, fix = method_fix(ctx, node, twin)
        yield ctx.report(self.code, node, f"`.{method}()` on a related manager writes on the event loop; {advice}", fix)
