"""The open-files limit: raised at start-up as far as connection_limit needs, or a warning.

Every client connection takes a file descriptor.  When the process runs out, ``accept``
fails with EMFILE while the listening socket stays readable; the server then pauses
accepting (see ``Server._on_accept``), and this module makes that rare by raising the
soft limit toward the hard one at start-up.  On platforms without ``resource`` (Windows)
there is no such limit to manage and nothing is done.
"""

from __future__ import annotations

import errno
import logging

try:
    import resource
except ImportError:  # Windows
    resource = None  # type: ignore[assignment]

logger = logging.getLogger("bastion.server")

# Descriptors the process needs besides client connections: listeners, the event loop,
# worker wake-up pipes, spill files, log files, the application's own files.
RESERVED_DESCRIPTORS = 128

# accept() errors that mean "no descriptor or memory for a new socket right now".
EXHAUSTED = frozenset({errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM})


def fit_open_files_limit(connection_limit: int) -> int | None:
    """Raise the soft open-files limit toward ``connection_limit`` plus a reserve.

    Never lowers it and never goes past the hard limit; warns when even the hard limit
    leaves room for fewer than ``connection_limit`` connections.  Returns the soft limit
    now in force (None where the platform has none).
    """
    if resource is None:
        return None
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = connection_limit + RESERVED_DESCRIPTORS
    if soft != resource.RLIM_INFINITY and soft < wanted:
        target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
        if target > soft:
            try:
                resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
                soft = target
            except (ValueError, OSError) as error:
                logger.warning("cannot raise the open-files limit to %d: %s", target, error)
    if soft != resource.RLIM_INFINITY and soft < wanted:
        logger.warning(
            "connection_limit is %d but the open-files limit (ulimit -n) is %d: about %d "
            "connections fit; past that bastion pauses accepting until one closes. Raise the "
            "limit (LimitNOFILE= in systemd, ulimit -n) or lower connection_limit",
            connection_limit,
            soft,
            max(soft - RESERVED_DESCRIPTORS, 0),
        )
    return soft
