"""The semantic model: what values annotations give (through the rules that read them)."""

from __future__ import annotations

import pytest

from .helpers import findings

_VIEW = """
from typing import Optional, Union
from django.db.models import QuerySet
from library.models import Author, Book


async def view(book: {annotation}):
    book.save()
"""


@pytest.mark.parametrize(
    "annotation",
    ["Book", "Optional[Book]", "Book | None", "None | Book", "Union[Book, None]", "'Book | None'", "Optional['Book']"],
)
def test_an_optional_model_annotation_is_the_model(annotation):
    codes = [d.code for d in findings(_VIEW.format(annotation=annotation))]
    assert codes == ["ASL104"]


def test_a_union_of_two_models_is_neither():
    assert findings(_VIEW.format(annotation="Union[Book, Author]")) == []


def test_an_optional_queryset_annotation_is_the_queryset():
    code = _VIEW.format(annotation="Optional[QuerySet[Book]]").replace("book.save()", "return len(book)")
    assert [d.code for d in findings(code)] == ["ASL103"]
