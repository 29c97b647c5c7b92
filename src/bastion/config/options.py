"""THE table of options: every setting bastion has is declared here, once.

serve() keyword arguments, ``--flags``, ``BASTION_*`` environment variables, TOML keys and
docs/options.md are all derived from ``OPTIONS``.  To add an option, append an ``Option``;
names carry their unit where one applies (``graceful_timeout`` seconds, ``..._size`` bytes).
"""

from __future__ import annotations

import socket
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from . import addresses as a
from . import converters as c

SAME_AS_WAITRESS: Any = type("_SameAsWaitress", (), {"__repr__": lambda self: "SAME"})()

KWARGS, ENV, FILE, CLI = "kwargs", "env", "file", "cli"
ALL_SOURCES = frozenset((KWARGS, ENV, FILE, CLI))

SECTIONS = (
    ("listen", "Where to listen"),
    ("proxy", "Behind a proxy"),
    ("hosts", "Trusted hosts"),
    ("wsgi", "WSGI environment and responses"),
    ("limits", "Request limits"),
    ("buffers", "Connections and buffers"),
    ("timeouts", "Timeouts"),
    ("process", "Process and privileges"),
    ("logging", "Logging"),
    ("compat", "Accepted for waitress compatibility, no effect"),
)


@dataclass(frozen=True, slots=True)
class Option:
    """One setting: how to convert it, its default, and where it may come from.

    ``waitress_default`` holds waitress 3.0's default when bastion's differs (with the
    reason in ``why_different``); ``waitress`` says whether waitress has the option at all.
    """

    name: str
    convert: c.Converter
    default: Any
    help: str
    section: str
    waitress: bool = True
    waitress_default: Any = SAME_AS_WAITRESS
    why_different: str = ""
    sources: frozenset[str] = ALL_SOURCES
    metavar: str | None = None

    @property
    def env_var(self) -> str | None:
        """The environment variable that sets this option, if any."""
        return "BASTION_" + self.name.upper() if ENV in self.sources else None

    @property
    def cli_flag(self) -> str | None:
        """The command-line flag that sets this option, if any (``--[no-]x`` for booleans)."""
        return "--" + self.name.replace("_", "-") if CLI in self.sources else None

    @property
    def is_flag(self) -> bool:
        return self.convert is c.to_bool

    @property
    def differs_from_waitress(self) -> bool:
        return self.waitress and self.waitress_default is not SAME_AS_WAITRESS


_TCP_NODELAY = (getattr(socket, "SOL_TCP", socket.IPPROTO_TCP), socket.TCP_NODELAY, 1)

OPTIONS: tuple[Option, ...] = (
    # -- where to listen ----------------------------------------------------------------------
    Option(
        "host",
        a.to_host,
        "0.0.0.0",
        "Host name or IP address to listen on; '0.0.0.0' is every IPv4 address, '::' every "
        "IPv6 one. Used with port; cannot be combined with listen, unix_socket or sockets.",
        "listen",
        metavar="ADDR",
    ),
    Option(
        "port",
        a.to_port,
        a.DEFAULT_PORT,
        "TCP port to listen on (0 picks a free port). Used with host.",
        "listen",
        metavar="PORT",
    ),
    Option(
        "listen",
        a.to_listen,
        (("0.0.0.0", a.DEFAULT_PORT),),
        "Space-separated host:port addresses to listen on: '127.0.0.1:8080 [::1]:8080', "
        "'*:8080' for every address of the enabled families. The flag may be repeated. "
        "Cannot be combined with host/port, unix_socket or sockets.",
        "listen",
        metavar="HOST:PORT",
    ),
    Option(
        "ipv4",
        c.to_bool,
        True,
        "Listen on IPv4 addresses; when off, only IPv6 ones are used (this narrows "
        "wildcard hosts such as '*' and names that resolve to both families).",
        "listen",
    ),
    Option(
        "ipv6",
        c.to_bool,
        True,
        "Listen on IPv6 addresses; when off, only IPv4 ones are used (this narrows "
        "wildcard hosts such as '*' and names that resolve to both families).",
        "listen",
    ),
    Option(
        "unix_socket",
        c.optional(c.text("a filesystem path")),
        None,
        "Path of a Unix domain socket to listen on instead of TCP (not on Windows).",
        "listen",
        metavar="PATH",
    ),
    Option(
        "unix_socket_perms",
        c.to_octal_mode,
        0o600,
        "Permissions of the Unix socket file, as an octal string such as '660'.",
        "listen",
        metavar="PERMS",
    ),
    Option(
        "unix_socket_owner",
        c.optional(c.text("a user, 'user:group' or ':group' (names or numeric ids)", False)),
        None,
        "Owner of the Unix socket file, as 'user', 'user:group' or ':group' (Unix only; "
        "changing the user needs root). Unset keeps the owner of the server process.",
        "listen",
        waitress=False,
        metavar="USER[:GROUP]",
    ),
    Option(
        "sockets",
        a.to_sockets,
        (),
        "Already-bound listening sockets to serve on (socket activation); Python only. "
        "Cannot be combined with host/port, listen or unix_socket.",
        "listen",
        sources=frozenset((KWARGS,)),
    ),
    Option(
        "backlog",
        c.integer(1),
        1024,
        "Connections the kernel queues for accept() (the listen() backlog).",
        "listen",
        metavar="INT",
    ),
    Option(
        "socket_options",
        a.to_socket_options,
        (_TCP_NODELAY,),
        "setsockopt() triples applied to each listening TCP socket (accepted sockets inherit "
        "them). From a flag, variable or file: 'IPPROTO_TCP:TCP_NODELAY:1 "
        "SOL_SOCKET:SO_KEEPALIVE:1'.",
        "listen",
        metavar="LEVEL:OPT:VALUE",
    ),
    Option(
        "server_name",
        c.text(),
        "bastion.invalid",
        "SERVER_NAME for requests that carry no Host header; empty uses the listening address.",
        "listen",
        waitress_default="waitress.invalid",
        why_different="names this server rather than waitress",
        metavar="NAME",
    ),
    # -- behind a proxy -----------------------------------------------------------------------
    Option(
        "trusted_proxy",
        c.to_trusted_proxy,
        None,
        "The proxies whose forwarding headers are trusted: IP addresses or CIDR networks "
        "(IPv4 or IPv6), 'local' (loopback and unix-socket peers), 'unix', or '*' for any peer."
        " Unset with trusted_proxy_headers given means 'local'.",
        "proxy",
        metavar="ADDR",
    ),
    Option(
        "trusted_proxy_count",
        c.optional(c.integer(1)),
        None,
        "How many proxies in front of bastion are trusted in X-Forwarded-For / Forwarded "
        "chains (trusted_proxy_mode 'count'). Unset means 1.",
        "proxy",
        metavar="INT",
    ),
    Option(
        "trusted_proxy_headers",
        c.to_proxy_headers,
        frozenset(),
        "Proxy headers to trust, separated by spaces or commas (see docs/proxies.md for the "
        "names and their precedence). With trusted_proxy set and this empty, "
        "x-forwarded-proto is trusted (with a DeprecationWarning), as in waitress.",
        "proxy",
        metavar="HEADERS",
    ),
    Option(
        "trusted_proxy_mode",
        c.choice("count", "walk"),
        "count",
        "How the client is found in X-Forwarded-For / Forwarded for=: 'count' takes the entry "
        "trusted_proxy_count hops from the right (waitress); 'walk' skips, from the right, "
        "every address that is itself a trusted proxy (mod_wsgi). See docs/proxies.md.",
        "proxy",
        waitress=False,
        metavar="MODE",
    ),
    Option(
        "log_untrusted_proxy_headers",
        c.to_bool,
        False,
        "Log a warning when a request carries proxy headers that are not trusted.",
        "proxy",
    ),
    Option(
        "clear_untrusted_proxy_headers",
        c.to_bool,
        True,
        "Remove untrusted proxy headers from the environ so the application cannot be fooled.",
        "proxy",
    ),
    Option(
        "proxy_protocol",
        c.to_bool,
        False,
        "Expect HAProxy's PROXY protocol (v1 or v2) preamble on every connection and take "
        "REMOTE_ADDR and REMOTE_PORT from it, and wsgi.url_scheme from a v2 SSL TLV "
        "(send-proxy-v2-ssl). Accepted only from trusted_proxy peers (others are "
        "disconnected); requires trusted_proxy. A malformed preamble closes the connection.",
        "proxy",
        waitress=False,
    ),
    Option(
        "proxy_protocol_headers",
        c.to_bool,
        False,
        "With proxy_protocol, also apply trusted_proxy_headers. Turn on only behind a balancer "
        "in HTTP mode that sets those headers itself (HAProxy 'mode http' with send-proxy). "
        "Off, the preamble alone names the client and every forwarding header is removed: a "
        "balancer in TCP mode passes on whatever the client wrote. See docs/proxies.md.",
        "proxy",
        waitress=False,
    ),
    # -- trusted hosts --------------------------------------------------------------------------
    Option(
        "allowed_hosts",
        c.to_allowed_hosts,
        None,
        "Host names the server answers for: exact names, IP addresses, IPv6 in brackets, and "
        "'*.example.com' for subdomains (not example.com itself); case-insensitive, a "
        "trailing dot ignored. Checked after trusted-proxy processing, so X-Forwarded-Host "
        "counts only from a trusted proxy. Any other Host gets 400 and the application is not "
        "called. Unset (or '*') for no check.",
        "hosts",
        waitress=False,
        metavar="HOSTS",
    ),
    Option(
        "allowed_ports",
        c.to_allowed_ports,
        None,
        "Ports a Host header may name (a Host without a port means the scheme's default, 80 "
        "or 443); any other gets 400. Unset for any port.",
        "hosts",
        waitress=False,
        metavar="PORTS",
    ),
    Option(
        "www_redirect",
        c.to_bool,
        True,
        "With allowed_hosts set: a request for www.<name>, where <name> is allowed and "
        "www.<name> is not, is redirected to <name> (301 for GET and HEAD, 308 otherwise) "
        "instead of refused.",
        "hosts",
        waitress=False,
    ),
    Option(
        "allowed_hosts_exempt_paths",
        c.to_exempt_paths,
        (),
        "Paths served whatever the Host, such as a load balancer's health check: '/health', "
        "or '/status/*' for a prefix. Matched against SCRIPT_NAME + PATH_INFO.",
        "hosts",
        waitress=False,
        metavar="PATHS",
    ),
    # -- WSGI environment and responses -------------------------------------------------------
    Option(
        "url_scheme",
        c.to_scheme,
        "http",
        "wsgi.url_scheme unless a trusted proxy says otherwise.",
        "wsgi",
        metavar="SCHEME",
    ),
    Option(
        "url_prefix",
        c.to_url_prefix,
        "",
        "SCRIPT_NAME for every request; a PATH_INFO starting with it has it removed. "
        "Normalised to one leading slash and no trailing slash.",
        "wsgi",
        metavar="PATH",
    ),
    Option(
        "ident",
        c.to_ident,
        "bastion",
        "Value of the Server response header and of SERVER_SOFTWARE; empty sends no Server header.",
        "wsgi",
        waitress_default="waitress",
        why_different="names this server rather than waitress",
        metavar="STR",
    ),
    Option(
        "expose_tracebacks",
        c.to_bool,
        False,
        "Show the traceback of an unhandled application error in the 500 response (for "
        "development only).",
        "wsgi",
    ),
    Option(
        "allow_debug_app",
        c.to_bool,
        False,
        "Serve debug pages (Werkzeug's debugger, Flask or Django debug mode, Pyramid's debug "
        "toolbar, expose_tracebacks) on listeners other hosts can reach; without it bastion "
        "refuses to start with them there. On loopback and unix sockets it only warns.",
        "wsgi",
        waitress=False,
    ),
    Option(
        "pass_authorization",
        c.to_bool,
        True,
        "Pass the Authorization and Proxy-Authorization request headers to the application, "
        "as HTTP_AUTHORIZATION and HTTP_PROXY_AUTHORIZATION, as waitress does. Turn it off for "
        "an application that never authenticates requests itself (mod_wsgi's "
        "WSGIPassAuthorization).",
        "wsgi",
        waitress=False,
    ),
    # -- request limits -----------------------------------------------------------------------
    Option(
        "max_request_line",
        c.byte_size(16),
        8192,
        "Largest request line (method, target and version) in bytes; longer gets 414.",
        "limits",
        waitress=False,
        metavar="BYTES",
    ),
    Option(
        "max_request_header_size",
        c.byte_size(16),
        262144,
        "Largest request head (request line and all header fields) in bytes; larger gets 431.",
        "limits",
        metavar="BYTES",
    ),
    Option(
        "max_request_header_fields",
        c.integer(1),
        100,
        "Most header fields one request may carry; more gets 431.",
        "limits",
        waitress=False,
        metavar="INT",
    ),
    Option(
        "max_request_body_size",
        c.byte_size(0),
        1073741824,
        "Largest request body in bytes; larger gets 413.",
        "limits",
        metavar="BYTES",
    ),
    Option(
        "max_connections_per_ip",
        c.integer(0),
        0,
        "Most connections open at once from one client address; more get 503 and are closed. "
        "Peers listed in trusted_proxy are not limited. 0 for no limit.",
        "limits",
        waitress=False,
        metavar="INT",
    ),
    Option(
        "max_queued_requests",
        c.integer(0),
        512,
        "Most requests waiting for a free worker thread; past it a request gets 503 with "
        "Retry-After instead of queueing without end (load shedding). 0 for no limit.",
        "limits",
        waitress=False,
        metavar="INT",
    ),
    Option(
        "retry_after",
        c.integer(0),
        5,
        "Seconds sent in the Retry-After header of a 503 for load shedding or "
        "max_connections_per_ip.",
        "limits",
        waitress=False,
        metavar="SECONDS",
    ),
    # -- connections and buffers --------------------------------------------------------------
    Option(
        "threads",
        c.integer(1),
        4,
        "Worker threads that run the application.",
        "buffers",
        metavar="INT",
    ),
    Option(
        "connection_limit",
        c.integer(1),
        10000,
        "Most open client connections; beyond it new ones wait in the backlog. Each takes a "
        "file descriptor: at start-up bastion raises the soft open-files limit (ulimit -n) as "
        "far as this needs, up to the hard limit, and warns if that is not enough.",
        "buffers",
        waitress_default=100,
        why_different="waitress's 100 silently stalls new clients once 100 keep-alive "
        "connections sit idle; bastion's event loop holds idle connections cheaply",
        metavar="INT",
    ),
    Option(
        "recv_bytes",
        c.byte_size(1),
        8192,
        "Bytes asked of each recv() call while reading request heads; request bodies are"
        " read in blocks of at least 256 KiB.",
        "buffers",
        metavar="BYTES",
    ),
    Option(
        "send_bytes",
        c.byte_size(1),
        262144,
        "Most bytes handed to one send() call.",
        "buffers",
        waitress_default=1,
        why_different="deprecated in waitress, where it is a flush threshold; bastion "
        "writes responses directly and uses it as the send() size",
        metavar="BYTES",
    ),
    Option(
        "inbuf_overflow",
        c.byte_size(0),
        524288,
        "The most bytes of a request body held in memory; the rest of a larger body "
        "is buffered in a temporary file. Temporary files are reused for later bodies "
        "and closed within a minute once uploads no longer need them.",
        "buffers",
        metavar="BYTES",
    ),
    Option(
        "outbuf_overflow",
        c.byte_size(0),
        1048576,
        "Pending output larger than this is buffered in a temporary file, not in memory.",
        "buffers",
        metavar="BYTES",
    ),
    Option(
        "outbuf_high_watermark",
        c.byte_size(1),
        16777216,
        "The application's response iterator pauses while more than this is pending output.",
        "buffers",
        metavar="BYTES",
    ),
    Option(
        "channel_request_lookahead",
        c.integer(0),
        0,
        "Accepted for compatibility, no effect: bastion never reads a connection while a "
        "request on it is being answered, so a client that goes away is noticed when the "
        "response is written (and the app iterable's close() is still called).",
        "compat",
        metavar="INT",
    ),
    # -- timeouts -----------------------------------------------------------------------------
    Option(
        "channel_timeout",
        c.seconds(allow_zero=False),
        120.0,
        "Seconds a connection may stay inactive (nothing received, nothing sent) before it is "
        "closed.",
        "timeouts",
        metavar="SECONDS",
    ),
    Option(
        "header_timeout",
        c.seconds(allow_zero=False),
        15.0,
        "Seconds a client has to send a request head, counted from the connection's start or "
        "from the first byte of a later request on it; extended by header_min_rate, up to "
        "header_max_timeout. Too slow gets 408 and the connection is closed "
        "(RequestReadTimeout header=, as in mod_reqtimeout).",
        "timeouts",
        waitress=False,
        metavar="SECONDS",
    ),
    Option(
        "header_max_timeout",
        c.seconds(),
        30.0,
        "Hard ceiling on the extended header timeout, in seconds; 0 for no ceiling.",
        "timeouts",
        waitress=False,
        metavar="SECONDS",
    ),
    Option(
        "header_min_rate",
        c.integer(0),
        500,
        "Each this many bytes of request head received extends header_timeout by one second; "
        "0 for no extension.",
        "timeouts",
        waitress=False,
        metavar="BYTES",
    ),
    Option(
        "body_timeout",
        c.seconds(allow_zero=False),
        15.0,
        "Seconds a client has to send a request body, counted from the end of its head; "
        "extended by body_min_rate, up to body_max_timeout. Too slow gets 408; the application "
        "runs only once the whole body has arrived.",
        "timeouts",
        waitress=False,
        metavar="SECONDS",
    ),
    Option(
        "body_max_timeout",
        c.seconds(),
        0.0,
        "Hard ceiling on the extended body timeout, in seconds; 0 for no ceiling, so a body "
        "arriving at body_min_rate or faster is never cut off.",
        "timeouts",
        waitress=False,
        metavar="SECONDS",
    ),
    Option(
        "body_min_rate",
        c.integer(0),
        500,
        "Each this many bytes of request body received extends body_timeout by one second; "
        "0 for no extension.",
        "timeouts",
        waitress=False,
        metavar="BYTES",
    ),
    Option(
        "send_timeout",
        c.seconds(allow_zero=False),
        60.0,
        "Seconds a client may go without accepting any byte of its response before the "
        "connection is closed.",
        "timeouts",
        waitress=False,
        metavar="SECONDS",
    ),
    Option(
        "send_min_rate",
        c.integer(0),
        500,
        "Slowest a client may read its response, in bytes per second on average: once the "
        "response waits on the client, it has send_timeout plus one second per this many "
        "bytes sent, then the connection is closed and its worker freed; 0 for no such rule "
        "(send_timeout alone).",
        "timeouts",
        waitress=False,
        metavar="BYTES",
    ),
    Option(
        "request_timeout",
        c.seconds(),
        0.0,
        "Seconds after which a request the application is still running is logged as stuck, "
        "with its path and duration (see request_timeout_interrupt); 0 turns this off.",
        "timeouts",
        waitress=False,
        metavar="SECONDS",
    ),
    Option(
        "request_timeout_interrupt",
        c.to_bool,
        False,
        "Also interrupt a request that passes request_timeout: RequestTimeout is raised in the "
        "application's thread (when it next runs Python code) and the client gets 504 if the "
        "response has not started, as mod_wsgi's interrupt-timeout does.",
        "timeouts",
        waitress=False,
    ),
    Option(
        "graceful_timeout",
        c.seconds(),
        30.0,
        "On SIGINT/SIGTERM, seconds to let in-flight requests finish before closing their "
        "connections.",
        "timeouts",
        waitress=False,
        metavar="SECONDS",
    ),
    # -- process and privileges ---------------------------------------------------------------
    Option(
        "user",
        c.optional(c.text("a user name or numeric id", False)),
        None,
        "After binding the listening sockets, switch to this user before loading the "
        "application (Unix only; needs root). The server exits if the switch fails.",
        "process",
        waitress=False,
        metavar="USER",
    ),
    Option(
        "group",
        c.optional(c.text("a group name or numeric id", False)),
        None,
        "After binding, switch to this group (Unix only; needs root). Defaults to the "
        "primary group of user when user is set.",
        "process",
        waitress=False,
        metavar="GROUP",
    ),
    Option(
        "umask",
        c.optional(c.to_octal_mode),
        None,
        "File mode creation mask set at start-up, as an octal string such as '027'. Unset "
        "keeps the inherited one.",
        "process",
        waitress=False,
        metavar="MASK",
    ),
    Option(
        "working_directory",
        c.optional(c.text("a directory path", False)),
        None,
        "Change to this directory at start-up, before loading the application (which is "
        "imported relative to it).",
        "process",
        waitress=False,
        metavar="DIR",
    ),
    # -- logging ------------------------------------------------------------------------------
    Option(
        "log_socket_errors",
        c.to_bool,
        True,
        "Log socket errors such as a client disconnecting early.",
        "logging",
    ),
    Option(
        "access_log",
        c.optional(c.text("'-' for standard output, or a file path")),
        None,
        "Write one line per response: '-' to standard output, or to the given file. Off "
        "when unset.",
        "logging",
        waitress=False,
        metavar="PATH",
    ),
    Option(
        "access_log_format",
        c.choice("combined", "json"),
        "combined",
        "Access log format: 'combined' (Apache combined) or 'json' (one object per line). "
        "Both record the status and the body bytes actually sent (never the head), for every "
        "response, the server's own error pages and refusals included; combined writes '-' "
        "for none.",
        "logging",
        waitress=False,
        metavar="FORMAT",
    ),
    # -- waitress compatibility ---------------------------------------------------------------
    Option(
        "cleanup_interval",
        c.seconds(allow_zero=False),
        30.0,
        "Accepted for compatibility, no effect: bastion's event loop closes inactive "
        "connections when their channel_timeout passes, without a periodic cleanup.",
        "compat",
        metavar="SECONDS",
    ),
    Option(
        "asyncore_use_poll",
        c.to_bool,
        False,
        "Accepted for compatibility, no effect: bastion's event loop uses the selectors module, "
        "which picks the best mechanism (epoll, kqueue, poll) itself.",
        "compat",
    ),
    Option(
        "asyncore_loop_timeout",
        c.integer(0),
        1,
        "Accepted for compatibility, no effect: bastion's event loop sleeps until its next "
        "deadline and is woken for new work.",
        "compat",
        metavar="INT",
    ),
)

BY_NAME: Mapping[str, Option] = {option.name: option for option in OPTIONS}

#: Other names serve() accepts for an option: the seed documentation's spelling of the
#: proxy middleware's arguments.
ALIASES: Mapping[str, str] = {
    "clear_untrusted": "clear_untrusted_proxy_headers",
    "log_untrusted": "log_untrusted_proxy_headers",
}
BY_ENV: Mapping[str, Option] = {o.env_var: o for o in OPTIONS if o.env_var}

ADDRESS_OPTIONS = ("host", "port", "listen", "unix_socket", "sockets")

# waitress 3.0's option set, for tests and the migration guide: every name here must be an
# Option, accepted by serve() with the same meaning.
WAITRESS_OPTIONS = tuple(option.name for option in OPTIONS if option.waitress)
