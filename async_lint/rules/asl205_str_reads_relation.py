from __future__ import annotations

import ast

from ..fixers.eager_loading import add_lookup
from ..semantic import FETCHED, RELATED, Instance
from .base import Invalid, Rule, Valid
from ._str_relations import str_relations, unloaded

_LOGGING = frozenset({"debug", "info", "warning", "error", "exception", "critical", "log"})
_LOGGER_NAMES = frozenset({"logger", "log", "_logger", "_log", "LOGGER", "logging"})
_HEAD = "from library.models import Review\n\n\nasync def show(pk):\n    review = await Review.objects.aget(pk=pk)\n"


class StrReadsRelation(Rule):
    """A model instance formatted on the event loop whose `__str__` reads a relation the
    query did not load: `f"{review}"` with `__str__` returning `self.book.title`.

    ## What it does
    Flags, inside an `async def`, an instance this function fetched formatted as text
    (an f-string, `str()`, `repr()`, `format()`, `%`-formatting, `print()`, or an argument of a
    logging call) when its model's `__str__` (in the class or a project base) reads a foreign
    key or one-to-one relation that the query's `select_related()` does not cover.  Django's
    `Model.__repr__` calls `__str__` too.

    ## Why is this bad?
    The relation is fetched by its descriptor with a sync query: `SynchronousOnlyOperation`
    on the event loop, from a line that reads like plain string formatting.

    ## Fix
    The path is added to the query's `select_related(...)`, or the call is appended where the
    instance is fetched (none when the query is outside the function).

    ## Fix safety
    Safe: the same row and relation, fetched earlier in a JOIN.
    """

    code = "ASL205"
    name = "str-reads-relation"
    node_types = (ast.FormattedValue, ast.Call, ast.BinOp)
    requires_text = ("async",)

    INVALID = [
        Invalid(
            _HEAD + "    return f'Review: {review}'\n",
            fixed='from library.models import Review\n\n\nasync def show(pk):\n    review = await Review.objects.select_related("book").aget(pk=pk)\n'
            "    return f'Review: {review}'\n",
        ),
        Invalid(
            "import logging\n\nlogger = logging.getLogger(__name__)\n\n\n" + _HEAD + "    logger.info('showing %s', review)\n",
            fixed="import logging\n\nlogger = logging.getLogger(__name__)\n\n\n"
            'from library.models import Review\n\n\nasync def show(pk):\n    review = await Review.objects.select_related("book").aget(pk=pk)\n'
            "    logger.info('showing %s', review)\n",
        ),
    ]
    VALID = [
        Valid("from library.models import Review\n\n\nasync def show(pk):\n    review = await Review.objects.select_related('book').aget(pk=pk)\n    return str(review)\n"),
        Valid(_HEAD + "    return f'{review.stars} stars'\n"),
        # Book's __str__ reads no relation.
        Valid("from library.models import Book\n\n\nasync def show(pk):\n    book = await Book.objects.aget(pk=pk)\n    return str(book)\n"),
    ]

    def check(self, node, ctx):
        for value in _formatted(node, ctx):
            instance = ctx.infer(value)
            if not isinstance(instance, Instance) or instance.model is None or instance.origin not in (FETCHED, RELATED):
                continue
            missing = [lookup for lookup in str_relations(instance.model, ctx) if unloaded(lookup, instance.loading)]
            if not missing:
                continue
            path = f"{instance.path}__{missing[0]}" if instance.path else missing[0]
            query = f"the query in {instance.fetched_in}" if instance.fetched_in else "the query"
            yield ctx.report(
                self.code,
                value,
                f"formatting `{ctx.text(value)}` runs {instance.model.name}.__str__, which reads `{missing[0].replace('__', '.')}`: "
                f'a query on the event loop; add `select_related("{path}")` to {query}',
                add_lookup(ctx, instance, "select_related", path, instance.loading.select_call),
            )


def _formatted(node: ast.AST, ctx):
    """The expressions `node` turns into text."""
    if isinstance(node, ast.FormattedValue):
        yield node.value
    elif isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mod) and isinstance(node.left, ast.Constant) and isinstance(node.left.value, str):
        yield from node.right.elts if isinstance(node.right, ast.Tuple) else (node.right,)
    elif isinstance(node, ast.Call):
        func = node.func
        if isinstance(func, ast.Name) and func.id in ("str", "repr", "format", "print") and ctx.file.qualname_of(func) is None:
            yield from node.args[:1] if func.id != "print" else node.args
        elif isinstance(func, ast.Attribute) and func.attr == "format" and isinstance(func.value, ast.Constant):
            yield from node.args
        elif isinstance(func, ast.Attribute) and func.attr in _LOGGING and _is_logger(func.value):
            yield from node.args[1:]


def _is_logger(node: ast.expr) -> bool:
    return isinstance(node, ast.Name) and node.id in _LOGGER_NAMES
