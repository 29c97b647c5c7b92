"""The RFC 9110 / 9112 grammar: compiled regular expressions, and the one list splitter.

Each pattern works on ``str`` decoded as latin-1, so one byte is one character
and obs-text (0x80-0xFF) stays distinguishable from ASCII.  Patterns are
written so that matching is linear in the input: no nested unbounded
quantifiers over overlapping classes.
"""

from __future__ import annotations

import re

# RFC 9110 5.6.2: token = 1*tchar
TCHAR = r"!#$%&'*+\-.^_`|~0-9A-Za-z"
TOKEN = f"[{TCHAR}]+"
TOKEN_RE = re.compile(TOKEN)

# RFC 9110 5.6.4: quoted-string = DQUOTE *( qdtext / quoted-pair ) DQUOTE
QUOTED_STRING = r'"(?:[\t \x21\x23-\x5b\x5d-\x7e\x80-\xff]|\\[\t \x21-\x7e\x80-\xff])*"'

# RFC 9110 5.6.1: a list's members are separated by commas with optional whitespace.
OWS = " \t"


def split_list(value: str) -> list[str]:
    """The members of a comma-separated list, OWS stripped, empty members kept as ``""``.

    RFC 9110 5.6.1 has recipients skip empty members; a caller that must not (a
    Transfer-Encoding with one is refused) sees them.  Quoted commas are not special:
    lists whose members may be quoted-strings (Forwarded) are parsed by their own grammar.
    """
    return [member.strip(OWS) for member in value.split(",")]


# RFC 9110 5.5: field-value characters are VCHAR / obs-text, with SP and HTAB
# allowed between them.  Everything else (NUL, CR, LF and every other CTL) is
# refused.
FIELD_VCHARS = r"\x21-\x7e\x80-\xff"
FIELD_VALUE_RE = re.compile(f"[{FIELD_VCHARS} \t]*")

# One header field line, without its CRLF.  RFC 9112 5: field-line = name ":" OWS
# field-value OWS, and any run of field-vchar, SP and HTAB is exactly that, so one
# flat character class checks it (the fastest form for the regex engine); the caller
# strips the OWS.  Keep it flat: a separate leading "[ \\t]*" would overlap the class
# and make a failing line cost quadratic time (a 256 KiB line of spaces then a CTL).
FIELD_RE = re.compile(f"({TOKEN}):([{FIELD_VCHARS} \\t]*)")

# RFC 9112 3: request-line = method SP request-target SP HTTP-version.
# The target is checked for its form separately; here it is any run of
# visible ASCII, so raw bytes outside ASCII, CTLs and extra spaces fail.
REQUEST_LINE_RE = re.compile(f"({TOKEN}) ([\\x21-\\x7e]+) (HTTP/[0-9]\\.[0-9])")
# A version-shaped string that is not 1.0/1.1 is answered 505; other junk 400.
HTTP_VERSION_RE = re.compile(r"HTTP/[0-9]\.[0-9]")

# RFC 9112 3.2.2: absolute-form = absolute-URI; for http(s) the authority is
# mandatory and non-empty (RFC 9110 4.2.1).
ABSOLUTE_FORM_RE = re.compile(r"([A-Za-z][A-Za-z0-9+.\-]*)://([^/?#]+)(.*)")

# RFC 9110 7.2: Host = uri-host [ ":" port ]; uri-host = IP-literal / IPv4 / reg-name.
# reg-name = *( unreserved / pct-encoded / sub-delims ), written as an unrolled
# loop (runs of plain characters between escapes): 2.5x faster than one
# alternation per character.  IPv4address is a reg-name too.
_REG_CHAR = "[A-Za-z0-9\\-._~!$&'()*+,;=]"
_REG_NAME = f"{_REG_CHAR}*(?:%[0-9A-Fa-f]{{2}}{_REG_CHAR}*)*"
_IP_LITERAL = r"\[[0-9A-Fa-f:.]+\]|\[[vV][0-9A-Fa-f]+\.[A-Za-z0-9\-._~!$&'()*+,;=:]+\]"
# The port, group 1, is any run of digits here: authority.py checks it.
HOST_RE = re.compile(f"(?:{_IP_LITERAL}|{_REG_NAME})(?::([0-9]*))?")

# RFC 9110 8.6: Content-Length = 1*DIGIT (no sign, no space, no hex).
CONTENT_LENGTH_RE = re.compile(r"[0-9]+")

# RFC 9112 7.1: chunk = chunk-size [ chunk-ext ] CRLF; chunk-size = 1*HEXDIG
# chunk-ext = *( BWS ";" BWS chunk-ext-name [ BWS "=" BWS chunk-ext-val ] )
# chunk-ext-val = token / quoted-string.  The size is bounded to 16 digits.
_CHUNK_EXT = f"(?:[ \\t]*;[ \\t]*{TOKEN}(?:[ \\t]*=[ \\t]*(?:{TOKEN}|{QUOTED_STRING}))?)*"
# Matched against the raw bytes of the body, so a run of chunks is parsed in place.
CHUNK_SIZE_LINE_RE = re.compile(f"([0-9A-Fa-f]{{1,16}})({_CHUNK_EXT})\\r\\n".encode("latin-1"))
HEXDIG_RUN_RE = re.compile(r"[0-9A-Fa-f]*")

# Response side: RFC 9112 4: status-line = HTTP-version SP status-code SP [ reason-phrase ]
STATUS_RE = re.compile(r"([1-5][0-9][0-9]) ([\t \x21-\x7e\x80-\xff]*)")

# Bare line feed (not preceded by CR) and bare CR (followed by something other
# than LF) in bytes, used to refuse malformed heads before they complete.
BARE_LF_RE = re.compile(rb"(?<!\r)\n")
BARE_CR_RE = re.compile(rb"\r(?=[^\n])")
