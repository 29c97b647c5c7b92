"""The engine is sans-IO: importing it pulls in no socket, thread, TLS or clock module."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from bastion_testing import imported_modules

import bastion.http

FORBIDDEN = {"socket", "select", "selectors", "threading", "ssl", "time"}
PACKAGE_DIR = Path(bastion.http.__file__).parent


def test_importing_the_engine_loads_no_io_module():
    """A fresh interpreter importing every bastion.http module has none of them loaded.

    The parent package is stood in for by an empty module, so that what is checked is the
    engine itself, not whatever ``bastion/__init__.py`` happens to import.  The engine's
    modules are imported by name, ``__init__`` last.
    """
    modules = sorted(
        f"bastion.http.{path.stem}" for path in PACKAGE_DIR.glob("*.py") if path.stem != "__init__"
    )
    modules.append("bastion.http")
    code = (
        "import importlib, json, sys, types\n"
        "parent = types.ModuleType('bastion')\n"
        f"parent.__path__ = [{str(PACKAGE_DIR.parent)!r}]\n"
        "sys.modules['bastion'] = parent\n"
        # The interpreter's own start-up loads "time" (zipimport): forget it, so an
        # import from the engine would bring it back.
        f"for name in {sorted(FORBIDDEN)!r}: sys.modules.pop(name, None)\n"
        f"for name in {modules!r}: importlib.import_module(name)\n"
        f"print(json.dumps(sorted(set(sys.modules) & set({sorted(FORBIDDEN)!r}))))\n"
    )
    result = subprocess.run(
        [sys.executable, "-I", "-S", "-c", code],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    assert json.loads(result.stdout) == []
    assert len(modules) >= 10


def test_sources_import_no_io_module():
    """No import statement in the engine's sources names a forbidden module."""
    seen = set()
    for path in PACKAGE_DIR.glob("*.py"):
        seen |= imported_modules(path, "bastion.http", top_level=True)
    assert seen and not (seen & FORBIDDEN), seen & FORBIDDEN
