"""The entries of a list option written as one string, wherever such an option is read."""

from __future__ import annotations


def split_words(text: str) -> list[str]:
    """The entries of ``text``, separated by commas or whitespace (any run of them)."""
    return text.replace(",", " ").split()
