"""bastion: a strict, fast, pure-Python WSGI server; a drop-in replacement for waitress."""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"

__all__ = ["Config", "__version__", "serve"]


def serve(app: Any, **options: Any) -> None:
    """Serve the WSGI ``app`` until interrupted; ``options`` are waitress's and bastion's.

    Every option is described in docs/options.md.  An unknown or ill-typed
    option raises ``bastion.errors.ConfigError`` naming it.
    """
    from .config import Config

    config = Config.from_kwargs(**options)
    _ensure_logging()
    from .server import Server

    Server(app, config).run()


def __getattr__(name: str) -> Any:
    # Config is imported on first use so that `import bastion.http` stays light.
    if name == "Config":
        from .config import Config

        return Config
    raise AttributeError(f"module 'bastion' has no attribute {name!r}")


def _ensure_logging() -> None:
    """Show bastion's INFO messages (the URLs served) when the program configured no logging."""
    import logging

    if logging.getLogger().handlers:
        return
    package_logger = logging.getLogger("bastion")
    if not package_logger.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(levelname)s:%(name)s:%(message)s"))
        package_logger.addHandler(handler)
        if package_logger.level == logging.NOTSET:
            package_logger.setLevel(logging.INFO)
