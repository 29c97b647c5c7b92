"""bastion.debug_guard: finding debug pages in an application, and refusing or warning.

Detection runs against the real Werkzeug, Flask and Pyramid (with pyramid_debugtoolbar),
and against look-alike objects, since bastion never imports a framework. Django's settings
are process-wide, so the real Django is exercised in a subprocess by tests/test_check_cli.py;
here a stand-in ``django.conf`` module is put in sys.modules.
"""

from __future__ import annotations

import functools
import logging
import socket
import sys
import types
from unittest import mock

import pytest
from flask import Flask
from pyramid.config import Configurator
from werkzeug.debug import DebuggedApplication
from werkzeug.middleware.dispatcher import DispatcherMiddleware
from werkzeug.middleware.proxy_fix import ProxyFix

from bastion.config import Config
from bastion.debug_guard import (
    MAX_DEPTH,
    DebugAppError,
    debug_reasons,
    find_debug_pages,
    guard,
    walk,
)

LOOPBACK = [(socket.AF_INET, ("127.0.0.1", 8080)), (socket.AF_INET6, ("::1", 8080, 0, 0))]
UNIX = [(socket.AF_UNIX, "/run/app.sock")]
EVERYWHERE = [(socket.AF_INET, ("0.0.0.0", 8080))]


def plain_app(environ, start_response):
    start_response("200 OK", [])
    return [b"ok"]


class Middleware:
    def __init__(self, app):
        self.app = app

    def __call__(self, environ, start_response):
        return self.app(environ, start_response)


def look_alike(module: str, name: str, **attributes) -> object:
    """An instance of a class whose module and name are ``module`` and ``name``."""
    cls = type(name, (), {"__module__": module, "__call__": lambda self, e, s: []})
    obj = cls()
    for key, value in attributes.items():
        setattr(obj, key, value)
    return obj


# -- detection with the real frameworks -------------------------------------------------------


def test_a_plain_application_shows_no_debug_pages():
    assert find_debug_pages(plain_app) == []
    assert find_debug_pages(Middleware(ProxyFix(plain_app))) == []


def test_werkzeug_debugged_application_is_found_with_its_path():
    assert find_debug_pages(DebuggedApplication(plain_app)) == [
        "werkzeug's DebuggedApplication at app"
    ]
    flask_app = Flask("guarded")
    flask_app.wsgi_app = DebuggedApplication(flask_app.wsgi_app, evalex=True)
    assert find_debug_pages(ProxyFix(flask_app)) == [
        "werkzeug's DebuggedApplication at app.app.wsgi_app"
    ]


def test_a_debugger_mounted_in_a_dispatcher_is_found():
    dispatcher = DispatcherMiddleware(plain_app, {"/admin": DebuggedApplication(plain_app)})
    assert find_debug_pages(dispatcher) == [
        "werkzeug's DebuggedApplication at app.mounts['/admin']"
    ]


def test_partial_wraps_and_bound_methods_are_followed():
    debugged = DebuggedApplication(plain_app)
    assert find_debug_pages(functools.partial(debugged)) == [
        "werkzeug's DebuggedApplication at app.func"
    ]

    @functools.wraps(debugged)
    def decorated(environ, start_response):
        return debugged(environ, start_response)

    assert find_debug_pages(decorated) == ["werkzeug's DebuggedApplication at app.__wrapped__"]
    assert find_debug_pages(debugged.__call__) == ["werkzeug's DebuggedApplication at app.__self__"]


def test_flask_debug_mode_is_found_and_debug_off_is_not():
    flask_app = Flask("guarded")
    assert find_debug_pages(flask_app) == []
    assert find_debug_pages(flask_app.wsgi_app) == []
    flask_app.debug = True
    assert find_debug_pages(Middleware(flask_app)) == [
        "a Flask application with debug on at app.app"
    ]
    # The bound wsgi_app method leads back to the application.
    assert find_debug_pages(flask_app.wsgi_app) == [
        "a Flask application with debug on at app.__self__"
    ]


def test_pyramid_debug_toolbar_is_found_once():
    config = Configurator(settings={})
    config.include("pyramid_debugtoolbar")
    assert find_debug_pages(config.make_wsgi_app()) == ["pyramid_debugtoolbar's toolbar at app"]


def test_pyramid_without_the_toolbar_or_with_it_disabled_shows_no_debug_pages():
    assert find_debug_pages(Configurator(settings={}).make_wsgi_app()) == []
    config = Configurator(settings={"debugtoolbar.enabled": "false"})
    config.include("pyramid_debugtoolbar")
    assert find_debug_pages(config.make_wsgi_app()) == []


# -- detection by names alone (no framework imported) ---------------------------------------------


def test_look_alike_debuggers_are_found_by_class_module_and_name():
    for module, name, expected in [
        ("werkzeug.debug", "DebuggedApplication", "werkzeug's DebuggedApplication"),
        ("backlash.debug", "DebuggedApplication", "backlash's DebuggedApplication"),
        ("paste.evalexception.middleware", "EvalException", "paste's EvalException"),
    ]:
        assert find_debug_pages(Middleware(look_alike(module, name))) == [f"{expected} at app.app"]
    # The same names from other packages are not debuggers.
    assert find_debug_pages(look_alike("myproject.debug", "DebuggedApplication")) == []
    assert find_debug_pages(look_alike("werkzeugish", "DebuggedApplication")) == []


def test_a_subclass_of_a_debugger_is_found():
    base = type(look_alike("werkzeug.debug", "DebuggedApplication"))
    sub = type("MyDebugger", (base,), {"__module__": "myproject"})
    assert find_debug_pages(sub()) == ["werkzeug's DebuggedApplication at app"]


def test_look_alike_flask_is_found_only_with_debug_on():
    assert find_debug_pages(look_alike("flask.app", "Flask", debug=False)) == []
    assert find_debug_pages(look_alike("flask.app", "Flask", debug=True)) == [
        "a Flask application with debug on at app"
    ]
    assert find_debug_pages(look_alike("notflask", "Flask", debug=True)) == []


def test_a_pyramid_toolbar_tween_is_found_by_its_module():
    tween = types.FunctionType(plain_app.__code__, {"__name__": "pyramid_debugtoolbar.toolbar"})
    router = look_alike("pyramid.router", "Router", handle_request=tween)
    assert find_debug_pages(router) == ["pyramid_debugtoolbar's toolbar at app.handle_request"]


@pytest.fixture
def django_conf(monkeypatch):
    """A stand-in ``django.conf`` in sys.modules; returns its settings object."""
    settings = types.SimpleNamespace(configured=True, DEBUG=True)
    monkeypatch.setitem(sys.modules, "django.conf", types.SimpleNamespace(settings=settings))
    return settings


def test_django_debug_is_found_from_configured_settings(django_conf):
    assert find_debug_pages(plain_app) == ["Django's settings.DEBUG is True"]
    django_conf.DEBUG = False
    assert find_debug_pages(plain_app) == []


def test_django_settings_not_configured_are_not_read(monkeypatch):
    reads = []

    class UnconfiguredSettings:
        configured = False

        @property
        def DEBUG(self):  # Django would raise ImproperlyConfigured, or configure itself
            reads.append("DEBUG")
            return True

    conf = types.SimpleNamespace(settings=UnconfiguredSettings())
    monkeypatch.setitem(sys.modules, "django.conf", conf)
    assert find_debug_pages(plain_app) == []
    assert reads == []


def test_without_django_conf_imported_django_is_not_looked_for(monkeypatch):
    monkeypatch.delitem(sys.modules, "django.conf", raising=False)
    assert find_debug_pages(plain_app) == []


# -- the walk's bounds ----------------------------------------------------------------------------


def test_a_cycle_of_wrappers_ends_and_each_object_is_seen_once():
    first = Middleware(None)
    second = Middleware(first)
    first.app = second
    paths = [path for path, _ in walk(first)]
    assert paths == ["app", "app.app"]


def test_the_walk_stops_at_its_depth_cap():
    app = DebuggedApplication(plain_app)
    for _ in range(MAX_DEPTH):
        app = Middleware(app)
    assert find_debug_pages(app) != []
    assert find_debug_pages(Middleware(app)) == []


def test_an_object_that_makes_attributes_on_demand_is_walked_a_bounded_number_of_times():
    endless = mock.MagicMock()
    assert len(list(walk(endless))) <= 256
    assert find_debug_pages(endless) == []


def test_attributes_that_raise_are_skipped():
    class Exploding:
        @property
        def app(self):
            raise RuntimeError("boom")

        debug = property(lambda self: 1 / 0)

    assert find_debug_pages(Exploding()) == []


# -- refusing or warning --------------------------------------------------------------------------


def test_debug_reasons_include_expose_tracebacks():
    assert debug_reasons(plain_app, Config.from_kwargs(expose_tracebacks=True)) == [
        "expose_tracebacks is on"
    ]
    assert debug_reasons(None, Config.from_kwargs()) == []


def test_a_reachable_listener_is_refused_naming_what_was_found_and_the_override(caplog):
    config = Config.from_kwargs(expose_tracebacks=True)
    with pytest.raises(DebugAppError) as info:
        guard(DebuggedApplication(plain_app), config, LOOPBACK + EVERYWHERE)
    message = str(info.value)
    assert info.value.option == "allow_debug_app"
    assert "werkzeug's DebuggedApplication at app; expose_tracebacks is on" in message
    assert "on 0.0.0.0:8080, which other hosts can reach" in message
    assert "127.0.0.1" not in message.split("reach")[0]
    assert "allow_debug_app (--allow-debug-app, BASTION_ALLOW_DEBUG_APP=true)" in message


@pytest.mark.parametrize("addresses", [LOOPBACK, UNIX], ids=["loopback", "unix"])
def test_loopback_and_unix_listeners_only_warn(addresses, caplog):
    with caplog.at_level(logging.WARNING, logger="bastion"):
        guard(DebuggedApplication(plain_app), Config.from_kwargs(), addresses)
    [record] = caplog.records
    assert record.name.startswith("bastion.")
    assert "werkzeug's DebuggedApplication at app" in record.getMessage()
    assert "loopback and unix sockets only" in record.getMessage()


def test_allow_debug_app_serves_beyond_loopback_with_a_warning(caplog):
    config = Config.from_kwargs(allow_debug_app=True)
    with caplog.at_level(logging.WARNING, logger="bastion"):
        guard(DebuggedApplication(plain_app), config, EVERYWHERE)
    [record] = caplog.records
    assert "0.0.0.0:8080, which other hosts can reach, as allow_debug_app is on" in (
        record.getMessage()
    )


def test_no_debug_pages_no_refusal_and_no_warning(caplog):
    with caplog.at_level(logging.DEBUG, logger="bastion"):
        guard(plain_app, Config.from_kwargs(), EVERYWHERE)
    assert caplog.records == []
