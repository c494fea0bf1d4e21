from __future__ import annotations

import ast

from ..fixers.eager_loading import add_lookup, read_in_thread
from ..semantic import FETCHED, RELATED
from .base import Invalid, Rule, Valid
from ._relation_reads import assigned_before, loader, relation_read


class LazyRelationAccess(Rule):
    """A relation read on the event loop that the query did not load: `book.author.name`.

    ## What it does
    Flags reads of a ForeignKey, OneToOneField, reverse one-to-one or GenericForeignKey on a
    model instance that this `async def` fetched (`await Book.objects.aget(...)`, `afirst()`,
    `async for book in qs`, …) when that query's `select_related()` / `prefetch_related()` does
    not cover it.  Paths through loaded relations are followed (`select_related("author")` then
    `book.author.user`).

    ## Why is this bad?
    An unloaded relation is fetched by its descriptor with a sync query: on the event loop it
    raises `SynchronousOnlyOperation`.  In a loop it is also an N+1 query.

    ## Fix
    Load it with the query: the path is added to the query's `select_related(...)` (or
    `prefetch_related(...)` for a generic foreign key), or the call is appended where the
    instance is fetched.  When the query is not in the function, or limits its columns with
    `only()`/`defer()` (Django refuses to `select_related()` a deferred relation), the relation
    is read in a thread instead: `await sync_to_async(getattr)(book, "author")` (unsafe fix).

    ## Fix safety
    Loading with the query is safe: the same objects, fetched earlier in a JOIN.
    """

    code = "ASL201"
    name = "lazy-relation-access"
    node_types = (ast.Attribute,)

    INVALID = [
        Invalid(
            "from library.models import Book\n\nasync def byline(pk):\n    book = await Book.objects.aget(pk=pk)\n    return book.author.name\n",
            fixed='from library.models import Book\n\nasync def byline(pk):\n    book = await Book.objects.select_related("author").aget(pk=pk)\n    return book.author.name\n',
        ),
        Invalid(
            "from library.models import Book\n\nasync def bylines():\n    return [b.author.name async for b in Book.objects.select_related('publisher').filter(published=True)]\n",
            fixed="from library.models import Book\n\nasync def bylines():\n    return [b.author.name async for b in Book.objects.select_related('publisher', 'author').filter(published=True)]\n",
        ),
        Invalid(
            "from library.models import Book\n\nasync def owner(pk):\n    book = await Book.objects.select_related('author').aget(pk=pk)\n    return book.author.user.username\n",
            fixed="from library.models import Book\n\nasync def owner(pk):\n    book = await Book.objects.select_related('author', 'author__user').aget(pk=pk)\n    return book.author.user.username\n",
        ),
        Invalid(
            "from library.models import Book\n\nasync def bylines():\n    books = [b async for b in Book.objects.all()]\n    for book in books:\n        print(book.author.name)\n",
            fixed='from library.models import Book\n\nasync def bylines():\n    books = [b async for b in Book.objects.all().select_related("author")]\n    for book in books:\n        print(book.author.name)\n',
        ),
        Invalid(
            "from library.models import Author\n\nasync def bio(pk):\n    author = await Author.objects.filter(pk=pk).afirst()\n    return author.profile.bio\n",
            fixed='from library.models import Author\n\nasync def bio(pk):\n    author = await Author.objects.filter(pk=pk).select_related("profile").afirst()\n    return author.profile.bio\n',
        ),
        Invalid(
            "from django.shortcuts import aget_object_or_404\nfrom library.models import Book\n\nasync def byline(pk):\n    book = await aget_object_or_404(Book, pk=pk)\n    return book.author.name\n",
            unsafe_fixed='from django.shortcuts import aget_object_or_404\nfrom asgiref.sync import sync_to_async\nfrom library.models import Book\n\nasync def byline(pk):\n    book = await aget_object_or_404(Book, pk=pk)\n    return (await sync_to_async(getattr)(book, "author")).name\n',
        ),
    ]
    VALID = [
        Valid("from library.models import Book\n\nasync def byline(pk):\n    book = await Book.objects.select_related('author').aget(pk=pk)\n    return book.author.name, book.author_id\n"),
        Valid("from library.models import Author, Book\n\nasync def build(author: Author):\n    book = Book(author=author, title='x')\n    return book.author.name\n"),
        Valid("from library.models import Author, Book\n\nasync def reassign(pk, author: Author):\n    book = await Book.objects.aget(pk=pk)\n    book.author = author\n    return book.author.name\n"),
        Valid("async def byline(book):\n    return book.author.name\n"),
        Valid("from library.models import Book\n\nasync def tags(pk):\n    book = await Book.objects.prefetch_related('tags').aget(pk=pk)\n    return [t.name for t in book.tags.all()]\n"),
        Valid("class Post:\n    author = None\n\nasync def byline(post: Post):\n    return post.author.name\n"),
    ]

    def check(self, node, ctx):
        found = relation_read(node, ctx)
        if found is None:
            return
        instance, relation = found
        if instance.origin not in (FETCHED, RELATED) or instance.loading.loads_relation(relation.name):
            return
        if assigned_before(node, ctx):
            return
        path = f"{instance.path}__{relation.name}" if instance.path else relation.name
        method = loader(relation)
        existing = instance.loading.prefetch_call if method == "prefetch_related" else instance.loading.select_call
        # Django refuses to select_related() a relation that only()/defer() leaves out
        # (FieldError), and the restriction of a relation's own columns is not modelled.
        limited = method == "select_related" and instance.loading.columns_limited
        fix = (None if limited else add_lookup(ctx, instance, method, path, existing)) or read_in_thread(ctx, node)
        query = f"the query in {instance.fetched_in}" if instance.fetched_in else "the query"
        yield ctx.report(
            self.code,
            node,
            f"`{ctx.text(node)}` runs a query on the event loop: the query did not load it; add "
            f'`{method}("{path}")` to {query}',
            fix,
        )
