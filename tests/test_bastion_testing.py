"""The shared test helpers that other tests' verdicts rest on: a wait that returns False
instead of hanging, and an import list that misses no statement."""

from __future__ import annotations

import time

import pytest
from bastion_testing import imported_modules, wait_until


def test_wait_until_returns_at_once_when_the_condition_holds():
    calls = []
    started = time.monotonic()
    assert wait_until(lambda: calls.append(1) or True, timeout=5, interval=1)
    assert calls == [1]
    assert time.monotonic() - started < 0.5


def test_wait_until_polls_until_the_condition_comes_true():
    calls = []
    assert wait_until(lambda: calls.append(1) or len(calls) == 4, timeout=5, interval=0.001)
    assert len(calls) == 4


def test_wait_until_gives_up_at_the_timeout():
    calls = []
    started = time.monotonic()
    assert wait_until(lambda: calls.append(1), timeout=0.2, interval=0.05) is False
    elapsed = time.monotonic() - started
    assert 0.2 <= elapsed < 1.0
    # Every interval (or less often on a busy host), and once more past the deadline.
    assert 2 <= len(calls) <= 6


SOURCE = """\
from __future__ import annotations
import os.path, json as j
from collections.abc import Iterable
from typing import TYPE_CHECKING
from . import sibling
from .inner.deep import thing
from .. import top

if TYPE_CHECKING:
    import socket


def late():
    from ..other import x
    import time
"""


def test_imported_modules_names_every_statement_in_full(tmp_path):
    path = tmp_path / "mod.py"
    path.write_text(SOURCE)
    assert imported_modules(path, "pkg.sub") == {
        "__future__",
        "os.path",
        "json",
        "collections.abc",
        "typing",
        "pkg.sub",
        "pkg.sub.inner.deep",
        "pkg",
        "socket",
        "pkg.other",
        "time",
    }
    assert imported_modules(path, "pkg.sub", top_level=True) == {
        "__future__",
        "os",
        "json",
        "collections",
        "typing",
        "pkg",
        "socket",
        "time",
    }


def test_imported_modules_refuses_a_relative_import_without_its_package(tmp_path):
    path = tmp_path / "mod.py"
    path.write_text(SOURCE)
    with pytest.raises(ValueError, match=r"mod\.py:5: a relative import; pass its package"):
        imported_modules(path)
    path.write_text("import socket\n")
    assert imported_modules(path) == {"socket"}
