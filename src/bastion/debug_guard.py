"""The debug-page guard: debug pages are not served to other hosts unless asked for.

Debug pages (Werkzeug's debugger, Flask or Django in debug mode, Pyramid's debug toolbar,
``expose_tracebacks``) show source code, settings, environment variables and secrets.  At
start-up the server looks for them: with a listener other hosts can reach it refuses to
start unless ``allow_debug_app`` is on; on loopback and unix sockets only, it warns.

Frameworks are recognised by class and module names and by the attributes they set, never
imported.  The application's wrapper chain is walked through the attributes middleware
keeps the wrapped application under, breadth first, with caps on depth and objects seen.
"""

from __future__ import annotations

import logging
import sys
from collections import deque
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from .config.options import BY_NAME
from .errors import ConfigError
from .exposure import Address, reachable

logger = logging.getLogger("bastion.server")

MAX_DEPTH = 16
MAX_OBJECTS = 256

# Where middleware and frameworks keep the application they wrap: WSGI middleware (app,
# application), Flask (wsgi_app), functools.wraps (__wrapped__), functools.partial (func),
# bound methods (__self__), Pyramid's router (handle_request, its outermost tween).
_WRAPPED = (
    "app",
    "application",
    "wsgi_app",
    "_app",
    "wrapped",
    "wrapped_app",
    "__wrapped__",
    "func",
    "__self__",
    "handle_request",
)
# Mappings of mounted applications (Werkzeug's DispatcherMiddleware).
_MOUNTS = ("mounts",)

# Interactive debuggers served as WSGI middleware: (module, class name).
_DEBUGGERS = (
    ("werkzeug", "DebuggedApplication"),
    ("backlash", "DebuggedApplication"),
    ("paste.evalexception", "EvalException"),
    ("weberror", "EvalException"),
)

RISK = "debug pages show source code, settings, environment variables and secrets"


class DebugAppError(ConfigError):
    """The application shows debug pages and a listener is reachable from other hosts."""


def find_debug_pages(app: Any) -> list[str]:
    """What in ``app`` (and its wrapper chain) or in Django's settings shows debug pages."""
    found: dict[str, str] = {}
    for path, obj in walk(app):
        for what in _debug_features(obj):
            found.setdefault(what, path)
    described = [f"{what} at {path}" for what, path in found.items()]
    if _django_debug():
        described.append("Django's settings.DEBUG is True")
    return described


def debug_reasons(app: Any, config: Any) -> list[str]:
    """Everything that would show debug pages: the application's, and ``expose_tracebacks``."""
    reasons = find_debug_pages(app) if app is not None else []
    if config.expose_tracebacks:
        reasons.append("expose_tracebacks is on")
    return reasons


def exposure(reasons: Iterable[str], exposed: Iterable[str]) -> str:
    """``'debug pages (what) on where, which other hosts can reach'``."""
    return (
        f"debug pages ({'; '.join(reasons)}) on {', '.join(exposed)}, which other hosts can reach"
    )


def remedy() -> str:
    """What to do instead, and the option that overrides the refusal."""
    option = BY_NAME["allow_debug_app"]
    return (
        "turn them off, listen on loopback (127.0.0.1, [::1]) or a unix socket only, or set "
        f"allow_debug_app ({option.cli_flag}, {option.env_var}=true) to serve them anyway"
    )


def refusal(reasons: Iterable[str], exposed: Iterable[str]) -> str:
    """The message of a refused start: what was found, where, the risk and the way out."""
    return f"refusing to serve {exposure(reasons, exposed)}: {RISK}; {remedy()}"


def guard(app: Any, config: Any, addresses: Iterable[Address]) -> None:
    """Raise ``DebugAppError`` for debug pages on a reachable listener; else warn of them."""
    reasons = debug_reasons(app, config)
    if not reasons:
        return
    exposed = reachable(addresses)
    if exposed and not config.allow_debug_app:
        raise DebugAppError(refusal(reasons, exposed), option="allow_debug_app")
    where = (
        f"on {', '.join(exposed)}, which other hosts can reach, as allow_debug_app is on"
        if exposed
        else "on loopback and unix sockets only"
    )
    logger.warning("Serving debug pages (%s) %s: %s", "; ".join(reasons), where, RISK)


# -- the walk -------------------------------------------------------------------------------


def walk(app: Any) -> Iterator[tuple[str, Any]]:
    """``(path, object)`` for ``app`` and every object it wraps, breadth first, each once."""
    queue: deque[tuple[str, Any, int]] = deque([("app", app, 0)])
    # Kept alive, not just their ids: a bound method is a new object at each access.
    seen: dict[int, Any] = {}
    while queue and len(seen) < MAX_OBJECTS:
        path, obj, depth = queue.popleft()
        if id(obj) in seen:
            continue
        seen[id(obj)] = obj
        yield path, obj
        if depth >= MAX_DEPTH:
            continue
        for name in _WRAPPED:
            inner = _attribute(obj, name)
            if inner is not None:
                queue.append((f"{path}.{name}", inner, depth + 1))
        for name in _MOUNTS:
            mounts = _attribute(obj, name)
            if isinstance(mounts, Mapping):
                for key, inner in list(mounts.items())[:MAX_OBJECTS]:
                    queue.append((f"{path}.{name}[{key!r}]", inner, depth + 1))


def _attribute(obj: Any, name: str) -> Any:
    # A property or __getattr__ of someone else's object may raise anything.
    try:
        return getattr(obj, name, None)
    except Exception:
        return None


def _debug_features(obj: Any) -> list[str]:
    classes = _classes(obj)
    found = [
        f"{package.partition('.')[0]}'s {name}"
        for package, name in _DEBUGGERS
        if _is_a(classes, package, name)
    ]
    if _is_a(classes, "flask", "Flask") and _truthy(_attribute(obj, "debug")):
        found.append("a Flask application with debug on")
    module = _attribute(obj, "__module__")
    if isinstance(module, str) and _in_module(module, "pyramid_debugtoolbar"):
        found.append("pyramid_debugtoolbar's toolbar")
    settings = _attribute(_attribute(obj, "registry"), "settings")
    if isinstance(settings, Mapping) and _truthy(settings.get("debugtoolbar.enabled")):
        found.append("pyramid_debugtoolbar's toolbar")
    return found


def _is_a(classes: list[tuple[str, str]], package: str, name: str) -> bool:
    return any(_in_module(module, package) and cls == name for module, cls in classes)


def _classes(obj: Any) -> list[tuple[str, str]]:
    """``(module, name)`` of each class in the method resolution order of ``obj``'s type."""
    return [
        (getattr(cls, "__module__", "") or "", getattr(cls, "__name__", ""))
        for cls in type(obj).__mro__
    ]


def _in_module(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


def _truthy(value: Any) -> bool:
    try:
        return value is not None and bool(value)
    except Exception:
        return False


def _django_debug() -> bool:
    """Django's ``settings.DEBUG``, only once django.conf is imported and settings configured."""
    settings = _attribute(sys.modules.get("django.conf"), "settings")
    return _attribute(settings, "configured") is True and _truthy(_attribute(settings, "DEBUG"))
