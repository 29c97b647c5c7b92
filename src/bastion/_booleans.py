"""The values bastion reads as booleans, wherever a yes/no setting may arrive as text."""

from __future__ import annotations

from typing import Any

TRUTHY = frozenset(("t", "true", "y", "yes", "on", "1"))
FALSY = frozenset(("f", "false", "n", "no", "off", "0", ""))
BOOL_ACCEPTS = "a boolean (true/false, yes/no, on/off, 1/0, t/f, y/n)"


def parse_bool(value: Any) -> bool:
    """``value`` as a bool: a bool, None (False), 0 or 1, or one of the words above.

    Raises ``ValueError`` (its message: ``BOOL_ACCEPTS``) for anything else.
    """
    if value is None:
        return False
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        word = value.strip().lower()
        if word in TRUTHY:
            return True
        if word in FALSY:
            return False
    raise ValueError(BOOL_ACCEPTS)
