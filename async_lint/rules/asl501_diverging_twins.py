from __future__ import annotations

import ast

from .. import twins
from ..fixers.twin_regeneration import regenerate
from ..twins.presentation import describe
from .asl5_shared import container_of, index_for
from .base import Invalid, Rule, Valid

_SHELF_SYNC = (
    "from library.models import Book\n\n\n"
    "class Shelf:\n"
    "    def titles(self, author):\n"
    "        return [b.title for b in Book.objects.filter(author=author, published=True)]\n\n"
)


class DivergingTwins(Rule):
    """A sync function and its async twin that no longer do the same thing.

    ## What it does
    Finds twin pairs, `x()` and `ax()` (or the `twins.patterns` of the configuration, by
    default also `x_async()` and `async_x()`) defined in the same class or module, and compares
    what they do, not how they are spelled.  The async twin is read in its sync form (the same
    translator that writes a regenerated twin: `await` and `async` go, Django's `a`-twins and
    the module's own twins take their sync names, `sync_to_async(f)(...)` runs `f` in place),
    both twins lose what only says how the work is done, and what is left is aligned statement
    by statement.  A finding names the most important difference:

    - a *check* on one side only that returns, raises or skips, or one that tests another thing;
    - an *exception* raised, caught or swallowed on one side only, or another class;
    - a *write* or side effect on one side only (an ORM, cache or session write, a signal, an
      attribute the caller sees, closing a resource), or the same write with other arguments;
    - another shape of *result* (a value and None, tuples of other lengths, other keys);
    - a *parameter* one side's `**kwargs` silently ignores, a default that differs, or one
      side never reads;
    - a *value* computed from other data (another key, constant, operator or argument), and
      an HTTP client that follows redirects on one side only (`requests` and `aiohttp` follow
      them by default, httpx only with `follow_redirects=True`).

    Not findings: the async spelling of one step (`session[k]` and `await session.aget(k)`
    with its missing-key check, `requests`/`httpx` and `httpx.AsyncClient`, `subprocess.run`
    and `asyncio.create_subprocess_exec`, `open` and `aiofiles.open`, a loop and
    `asyncio.gather` over the same call, `time.sleep` and `asyncio.sleep`, `with` and
    `async with`, `close` and `aclose`), the lock and double-checked locking only the async
    side needs, adapters (`async_to_sync`/`sync_to_async`, a branch on `iscoroutinefunction`,
    a `hasattr(request, "auser")` version shim), temporaries, a same-module helper called on
    one side and written in place on the other, statements moved where order does not matter,
    logging and messages.  Pairs that are not compared: a twin that calls the other, an
    interface stub, test code, and protocol methods (`__iter__`/`__aiter__`,
    `__exit__`/`__aexit__`) unless their effects differ; parameters that differ only in name
    are the same parameters.  `# async-lint: twin-differs: <reason>` above or on either `def`
    line marks a difference as intended.

    ## Why is this bad?
    Two implementations of one operation drift: a fix (including a security fix) lands on one
    path only, and callers get different behaviour depending on whether they are sync or async.
    Django's own `RemoteUserMiddleware.aprocess_request` read another header than
    `process_request` (ticket #36300); psycopg avoids the drift by generating its sync code from
    the async code.

    ## Fix
    Regenerates the twin that is not canonical: with `twins.canonical = "async"` (or
    `# async-lint: twin-canonical: async` on the pair) the sync twin becomes the async body in
    sync form (an awaited call of the module's own coroutine function with no sync twin becomes
    `async_to_sync(f)(...)`; an `async with`, `async for` or awaited library coroutine with no
    known sync form means no fix); with `"sync"` the async twin becomes
    `return await sync_to_async(self.x)(...)`.  Each keeps its name, decorators and docstring.
    Without a canonical side there is no fix: only the author knows which side carries the
    change that the other lacks.

    ## Fix safety
    Unsafe: one twin's behaviour is replaced by the other's, which is the point, but it is a
    change of behaviour for its callers; review the diff.
    """

    code = "ASL501"
    name = "diverging-twins"
    node_types = (ast.AsyncFunctionDef,)
    requires_text = ("async def",)
    counts_in_helpers = False

    INVALID = [
        Invalid(
            _SHELF_SYNC
            + "    # async-lint: twin-canonical: async\n"
            "    async def atitles(self, author):\n"
            "        return [b.title async for b in Book.objects.filter(author=author, published=True, pages__gt=0)]\n",
            unsafe_fixed="from library.models import Book\n\n\n"
            "class Shelf:\n"
            "    def titles(self, author):\n"
            "        return [b.title for b in Book.objects.filter(author=author, published=True, pages__gt=0)]\n\n"
            "    # async-lint: twin-canonical: async\n"
            "    async def atitles(self, author):\n"
            "        return [b.title async for b in Book.objects.filter(author=author, published=True, pages__gt=0)]\n",
        ),
        Invalid(
            "from library.models import Book\n\n\n"
            "def count_books(author):\n"
            '    """How many books `author` wrote."""\n'
            "    return Book.objects.filter(author=author).count()\n\n\n"
            "# async-lint: twin-canonical: sync\n"
            "async def acount_books(author):\n"
            "    return await Book.objects.filter(author=author, published=True).acount()\n",
            unsafe_fixed="from asgiref.sync import sync_to_async\n\n"
            "from library.models import Book\n\n\n"
            "def count_books(author):\n"
            '    """How many books `author` wrote."""\n'
            "    return Book.objects.filter(author=author).count()\n\n\n"
            "# async-lint: twin-canonical: sync\n"
            "async def acount_books(author):\n"
            "    return await sync_to_async(count_books)(author)\n",
        ),
        Invalid(
            "from asgiref.sync import sync_to_async\n"
            "from library.models import Book\n\n\n"
            "# async-lint: twin-canonical: async\n"
            "def publish(book):\n"
            "    book.published = True\n"
            "    book.save()\n\n\n"
            "async def apublish(book):\n"
            "    book.published = True\n"
            "    await book.asave(update_fields=['published'])\n"
            "    await notify(book)\n\n\n"
            "async def notify(book):\n"
            "    pass\n",
            unsafe_fixed="from asgiref.sync import sync_to_async, async_to_sync\n"
            "from library.models import Book\n\n\n"
            "# async-lint: twin-canonical: async\n"
            "def publish(book):\n"
            "    book.published = True\n"
            "    book.save(update_fields=['published'])\n"
            "    async_to_sync(notify)(book)\n\n\n"
            "async def apublish(book):\n"
            "    book.published = True\n"
            "    await book.asave(update_fields=['published'])\n"
            "    await notify(book)\n\n\n"
            "async def notify(book):\n"
            "    pass\n",
        ),
        Invalid(
            # No canonical side: reported, not fixed.
            _SHELF_SYNC
            + "    async def atitles(self, author):\n"
            "        return [b.title async for b in Book.objects.filter(author=author)]\n",
        ),
    ]
    VALID = [
        # Delegating twins agree by construction.
        Valid(
            "from asgiref.sync import sync_to_async\n"
            + _SHELF_SYNC
            + "    async def atitles(self, author):\n"
            "        return await sync_to_async(self.titles)(author)\n"
        ),
        # A re-implementation that differs only in form.
        Valid(
            _SHELF_SYNC
            + "    async def atitles(self, author):\n"
            "        return [b.title async for b in Book.objects.filter(author=author, published=True)]\n\n"
            "    def first(self, author):\n"
            "        book = Book.objects.filter(author=author).first()\n"
            "        logger.info('first book of %s', author)\n"
            "        return book.title if book else None\n\n"
            "    async def afirst(self, author):\n"
            "        logger.info('first book of %s (async)', author)\n"
            "        book = await Book.objects.filter(author=author).afirst()\n"
            "        return book.title if book else None\n"
        ),
        # A documented difference.
        Valid(
            _SHELF_SYNC
            + "    # async-lint: twin-differs: the async API lists drafts too\n"
            "    async def atitles(self, author):\n"
            "        return [b.title async for b in Book.objects.filter(author=author)]\n"
        ),
        # Both twins call the same `sync_*` helper, the async one in a thread (ASL301 writes this).
        Valid(
            "from asgiref.sync import sync_to_async\nfrom django.db import models\n\n\n"
            "class Module(models.Model):\n"
            "    def save(self, *args, **kwargs):\n"
            "        super().save(*args, **kwargs)\n"
            "        self.sync_classes()\n\n"
            "    async def asave(self, *args, **kwargs):\n"
            "        await sync_to_async(super().save)(*args, **kwargs)\n"
            "        await sync_to_async(self.sync_classes)()\n"
        ),
        # `ax` is not a twin of `x` when only one of them is a method.
        Valid(
            "class Shelf:\n"
            "    @staticmethod\n"
            "    def titles():\n"
            "        return []\n\n"
            "    async def atitles(self):\n"
            "        return ['x']\n"
        ),
    ]

    def check(self, node, ctx):
        container = container_of(ctx, node)
        if container is None:
            return
        index = index_for(ctx)
        pair = next((p for p in index.pairs_in(container) if p.async_ is node), None)
        if pair is None:
            return
        comparison = index.comparison(pair)
        if comparison.verdict != twins.DIVERGES:
            return
        canonical = index.canonical(pair)
        fix = regenerate(ctx, pair, index.names, canonical) if canonical else None
        target = pair.sync if canonical == "async" else pair.async_
        message, notes = describe(comparison, index.lines)
        if canonical is None:
            notes += ("if that is intended, say why with `# async-lint: twin-differs: <reason>`",)
        yield ctx.report_definition(self.code, target, message, fix, notes)
