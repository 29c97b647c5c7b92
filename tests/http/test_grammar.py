"""bastion.http.grammar's shared pieces: the list splitter, token and quoted-string."""

from __future__ import annotations

import re

import pytest

from bastion.http.grammar import QUOTED_STRING, TOKEN_RE, split_list

QUOTED_RE = re.compile(QUOTED_STRING)


@pytest.mark.parametrize(
    ("value", "members"),
    [
        ("close", ["close"]),
        ("a, b", ["a", "b"]),
        ("a,b ,\tc\t", ["a", "b", "c"]),
        ("a,,b", ["a", "", "b"]),
        (",", ["", ""]),
        ("", [""]),
        (" chunked ", ["chunked"]),
    ],
)
def test_split_list_strips_ows_and_keeps_empty_members(value, members):
    assert split_list(value) == members


def test_split_list_strips_only_ows():
    assert split_list("a\x0b, b\xa0") == ["a\x0b", "b\xa0"]


@pytest.mark.parametrize("text", ["a", "X-Forwarded-For", "!#$%&'*+-.^_`|~09AZaz"])
def test_tokens(text):
    assert TOKEN_RE.fullmatch(text)


@pytest.mark.parametrize("text", ["", "a b", "a,b", 'a"', "a;b", "é", "a\x00"])
def test_not_tokens(text):
    assert not TOKEN_RE.fullmatch(text)


@pytest.mark.parametrize(
    "text", ['""', '"a b"', '"a,b;c=d"', r'"a\"b"', r'"\\"', '"\t"', '"\x80\xff"', r'"\é"']
)
def test_quoted_strings(text):
    assert QUOTED_RE.fullmatch(text)


@pytest.mark.parametrize("text", ['"', '"a', 'a"', '"a"b"', '"\\"', '"\x00"', '"\x7f"', '"a\nb"'])
def test_not_quoted_strings(text):
    assert not QUOTED_RE.fullmatch(text)
