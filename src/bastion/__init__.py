"""bastion: a strict, fast, pure-Python WSGI server."""

__version__ = "0.1.0"

__all__ = ["__version__"]
