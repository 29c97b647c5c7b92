"""proxy_headers and its helper do no I/O: they import none of the I/O modules."""

from __future__ import annotations

from pathlib import Path

import pytest
from bastion_testing import imported_modules

import bastion

FORBIDDEN = {"socket", "select", "selectors", "threading", "ssl", "time"}
MODULES = ["proxy_headers.py", "_forwarded.py"]


@pytest.mark.parametrize("module", MODULES)
def test_no_io_imports(module):
    path = Path(bastion.__file__).parent / module
    names = imported_modules(path, "bastion", top_level=True)
    assert "ipaddress" in names or module == "proxy_headers.py"
    assert not names & FORBIDDEN


def test_helper_imports_only_the_standard_library():
    path = Path(bastion.__file__).parent / "_forwarded.py"
    # Besides the standard library, only bastion's own modules (bastion.http.memo).
    assert imported_modules(path, "bastion", top_level=True) <= {
        "__future__",
        "functools",
        "re",
        "collections",
        "ipaddress",
        "typing",
        "urllib",
        "bastion",
    }
