"""bastion's configuration: the options table, its sources, and the frozen ``Config``."""

from __future__ import annotations

from ..errors import ConfigError
from .model import Config
from .options import OPTIONS, Option

__all__ = ["OPTIONS", "Config", "ConfigError", "Option"]
