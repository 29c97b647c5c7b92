"""bastion._word_lists: one reading of list options written as one string."""

from __future__ import annotations

import pytest

from bastion._word_lists import split_words


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("a b", ["a", "b"]),
        ("a,b", ["a", "b"]),
        (" a ,, b\t\nc ", ["a", "b", "c"]),
        ("a\xa0b", ["a", "b"]),
        ("", []),
        (" , ", []),
    ],
)
def test_split_words(text, words):
    assert split_words(text) == words
