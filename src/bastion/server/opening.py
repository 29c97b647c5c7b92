"""Setting the process up to serve: the privileged step, done once before the server runs.

``open_server(config)`` changes directory and umask, raises the open-files limit, binds
every listener, opens the access log, and only then drops privileges, so a server may
bind port 80 and write a root-owned log yet run the application as ``user``.  It is kept
apart from building the server because the application is imported after it (as the
unprivileged user), and because a pre-fork master binds before any worker builds its loop.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..process.privileges import drop_privileges, prepare_process
from .access_log import AccessLog
from .descriptors import fit_open_files_limit
from .listeners import Listener, create_listeners


@dataclass
class Opened:
    """What the privileged step made: the listeners and the open access log (if any)."""

    listeners: list[Listener]
    access_log: AccessLog | None

    def close(self) -> None:
        """Close the listeners (removing a unix socket file bastion created) and the log."""
        for listener in self.listeners:
            listener.close()
        if self.access_log is not None:
            self.access_log.close()


def open_server(config: Any) -> Opened:
    """Prepare the process, bind, open the access log, drop privileges; close all on failure.

    Raises ``PrivilegeError`` or ``ConfigError`` for a setting that cannot be applied and
    ``OSError`` for an address that cannot be bound.
    """
    prepare_process(config)
    fit_open_files_limit(config.connection_limit)
    opened = Opened([], AccessLog.from_config(config))
    try:
        opened.listeners = create_listeners(config)
        if opened.access_log is not None:
            opened.access_log.open()
        drop_privileges(config, opened.listeners)
    except BaseException:
        opened.close()
        raise
    return opened
