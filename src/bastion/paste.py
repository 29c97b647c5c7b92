"""PasteDeploy server runner: ``[server:main]`` with ``use = egg:bastion``.

The ini file's values arrive as strings; every option's converter accepts strings.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def serve_paste(app: Any, global_conf: Mapping[str, Any], **options: Any) -> int:
    """Serve ``app`` with the ``[server:...]`` section's ``options``; ``global_conf`` is unused."""
    from . import serve

    serve(app, **options)
    return 0
