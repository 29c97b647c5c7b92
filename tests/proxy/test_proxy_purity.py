"""The trusted-proxy package does no I/O: no module of it imports an I/O module."""

from __future__ import annotations

from pathlib import Path

import pytest
from bastion_testing import imported_modules

import bastion.proxy

FORBIDDEN = {"socket", "select", "selectors", "threading", "ssl", "time"}
PACKAGE = Path(bastion.proxy.__file__).parent
MODULES = ["forwarded.py", "peers.py", "rules.py", "policy.py", "protocol.py"]


def test_every_module_of_the_package_is_checked():
    assert sorted(p.name for p in PACKAGE.glob("*.py") if p.name != "__init__.py") == sorted(
        MODULES
    )


@pytest.mark.parametrize("module", MODULES)
def test_no_io_imports(module):
    names = imported_modules(PACKAGE / module, "bastion.proxy", top_level=True)
    assert not names & FORBIDDEN


@pytest.mark.parametrize("module", ["forwarded.py", "peers.py"])
def test_the_grammar_and_the_peers_import_only_the_standard_library(module):
    # Besides the standard library, only bastion's own modules (bastion.http, word lists).
    names = imported_modules(PACKAGE / module, "bastion.proxy", top_level=True)
    assert "ipaddress" in names
    assert names <= {
        "__future__",
        "functools",
        "re",
        "collections",
        "ipaddress",
        "typing",
        "urllib",
        "bastion",
    }
