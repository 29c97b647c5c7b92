"""proxy_headers and its helper do no I/O: they import none of the I/O modules."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import bastion

FORBIDDEN = {"socket", "select", "selectors", "threading", "ssl", "time"}
MODULES = ["proxy_headers.py", "_forwarded.py"]


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize("module", MODULES)
def test_no_io_imports(module):
    path = Path(bastion.__file__).parent / module
    names = imported_modules(path)
    assert "ipaddress" in names or module == "proxy_headers.py"
    assert not names & FORBIDDEN


def test_helper_imports_only_the_standard_library():
    path = Path(bastion.__file__).parent / "_forwarded.py"
    assert imported_modules(path) <= {
        "__future__",
        "functools",
        "re",
        "collections",
        "ipaddress",
        "typing",
        "urllib",
    }
