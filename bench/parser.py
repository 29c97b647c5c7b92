"""Request parsing speed: bastion's engine against waitress's parser and h11, one core.

Run pinned to one core, as a script or a module::

    taskset -c 1 python bench/parser.py
    taskset -c 1 python -m bench.parser

The corpus is realistic browser traffic: eight GETs of about 500 bytes and 10 header
fields each, a form POST with a body and a chunked upload.  Every parser gets a fresh
instance per request and must consume the whole message (head and body) before the
request counts; bastion's share one ``Caches``, as a server's connections do.  The
parsers take turns in short slices (so a change in the machine's load touches all of
them alike) and each one's best slice is reported.
The last line is machine-readable:
``parser ratio_vs_waitress=X.XX ratio_vs_h11=Y.YY``.
"""

from __future__ import annotations

import argparse
import gc
import time
from collections.abc import Callable

CHROME = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0.0.0 Safari/537.36"
)
FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0"
SAFARI = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_4_1) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.4.1 Safari/605.1.15"
)
HTML_ACCEPT = (
    "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8"
)


def _message(line: str, fields: list[tuple[str, str]], body: bytes = b"") -> bytes:
    head = line + "\r\n" + "".join(f"{name}: {value}\r\n" for name, value in fields) + "\r\n"
    return head.encode("latin-1") + body


def _browser_get(path: str, agent: str, referer: str, cookie: str) -> bytes:
    return _message(
        f"GET {path} HTTP/1.1",
        [
            ("Host", "shop.example.com"),
            ("Connection", "keep-alive"),
            ("User-Agent", agent),
            ("Accept", HTML_ACCEPT),
            ("Accept-Encoding", "gzip, deflate, br, zstd"),
            ("Accept-Language", "en-GB,en;q=0.9,fr;q=0.8"),
            ("Referer", referer),
            ("Sec-Fetch-Dest", "document"),
            ("Sec-Fetch-Mode", "navigate"),
            ("Cookie", cookie),
        ],
    )


def corpus() -> list[tuple[str, bytes]]:
    """(kind, bytes) for every request the benchmark parses."""
    gets = [
        _browser_get(
            "/products/4242?ref=home&utm_source=newsletter",
            CHROME,
            "https://shop.example.com/",
            "session=4f2a9c81d; theme=dark; consent=1",
        ),
        _browser_get(
            "/search?q=running+shoes&size=42&page=2",
            FIREFOX,
            "https://shop.example.com/products/4242",
            "session=4f2a9c81d; cart=3",
        ),
        _browser_get(
            "/static/css/site.4b1d2e.css",
            SAFARI,
            "https://shop.example.com/search?q=running+shoes",
            "session=77aa01; theme=light",
        ),
        _browser_get(
            "/api/v2/cart/items?expand=prices,stock",
            CHROME,
            "https://shop.example.com/cart",
            "session=4f2a9c81d; theme=dark; ab=variant-b",
        ),
        _browser_get(
            "/account/orders/2024/05",
            FIREFOX,
            "https://shop.example.com/account",
            "session=9b8c7d6e5f; lang=en",
        ),
        _browser_get(
            "/images/p/4242/main@2x.webp",
            SAFARI,
            "https://shop.example.com/products/4242",
            "session=77aa01",
        ),
        _browser_get(
            "/blog/2024/how-we-ship-fast",
            CHROME,
            "https://www.google.com/",
            "_ga=GA1.2.1234567890.1700000000; consent=1",
        ),
        _browser_get(
            "/favicon.ico",
            FIREFOX,
            "https://shop.example.com/blog/2024/how-we-ship-fast",
            "session=9b8c7d6e5f",
        ),
    ]
    form = b"email=alice%40example.com&password=correct+horse+battery&remember=on"
    post = _message(
        "POST /login HTTP/1.1",
        [
            ("Host", "shop.example.com"),
            ("Connection", "keep-alive"),
            ("User-Agent", CHROME),
            ("Accept", HTML_ACCEPT),
            ("Content-Type", "application/x-www-form-urlencoded"),
            ("Content-Length", str(len(form))),
            ("Origin", "https://shop.example.com"),
            ("Referer", "https://shop.example.com/login"),
            ("Accept-Language", "en-GB,en;q=0.9"),
            ("Cookie", "session=4f2a9c81d"),
        ],
        form,
    )
    rows = b"".join(b"%d,item-%d,%d.99\r\n" % (i, i, i * 3) for i in range(64))
    pieces = [rows[i : i + 400] for i in range(0, len(rows), 400)]
    chunked_body = b"".join(b"%x\r\n%s\r\n" % (len(p), p) for p in pieces) + b"0\r\n\r\n"
    upload = _message(
        "PUT /api/v2/imports/catalog.csv HTTP/1.1",
        [
            ("Host", "shop.example.com"),
            ("User-Agent", "python-requests/2.31.0"),
            ("Accept", "*/*"),
            ("Content-Type", "text/csv"),
            ("Transfer-Encoding", "chunked"),
            (
                "Authorization",
                "Bearer eyJhbGciOiJIUzI1NiJ9.e30.ZRrHA1JJJW8opsbCGfG_HACGpVUMN_a9IV7pAx_Zmeo",
            ),
        ],
        chunked_body,
    )
    return [("get", data) for data in gets] + [("post", post), ("chunked", upload)]


def bastion_parse() -> Callable[[bytes], None]:
    from bastion.http import DEFAULT_LIMITS, Caches, EndOfMessage, RequestParser

    caches = Caches()  # one for all parsers, as a server's connections share its own

    def parse(data: bytes) -> None:
        parser = RequestParser(DEFAULT_LIMITS, caches)
        parser.feed(data)
        next_event = parser.next_event
        while type(next_event()) is not EndOfMessage:
            pass

    return parse


def waitress_parse() -> Callable[[bytes], None]:
    from waitress.adjustments import Adjustments
    from waitress.parser import HTTPRequestParser

    adjustments = Adjustments()

    def parse(data: bytes) -> None:
        parser = HTTPRequestParser(adjustments)
        while not parser.completed:
            consumed = parser.received(data)
            data = data[consumed:]
        if parser.error is not None:
            raise AssertionError(f"waitress refused a corpus request: {parser.error}")

    return parse


def h11_parse() -> Callable[[bytes], None]:
    import h11

    end = h11.EndOfMessage

    def parse(data: bytes) -> None:
        connection = h11.Connection(h11.SERVER)
        connection.receive_data(data)
        next_event = connection.next_event
        while type(next_event()) is not end:
            pass

    return parse


def measure(
    parsers: dict[str, Callable[[bytes], None]], messages: list[bytes], rounds: int, seconds: float
) -> dict[str, float]:
    """Requests per second of each parser: the best of ``rounds`` slices of ``seconds``.

    The parsers take turns, slice by slice, so a change in the machine's load
    during the run touches all of them alike.
    """
    for parse in parsers.values():
        for data in messages:  # warm-up, and a check that every message parses
            parse(data)
    best = dict.fromkeys(parsers, 0.0)
    for _ in range(rounds):
        for name, parse in parsers.items():
            count = 0
            gc.collect()
            start = time.perf_counter()
            deadline = start + seconds
            now = start
            while now < deadline:
                for data in messages:
                    parse(data)
                count += len(messages)
                now = time.perf_counter()
            best[name] = max(best[name], count / (now - start))
    return best


def main() -> None:
    options = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    options.add_argument("--rounds", type=int, default=12, help="turns each parser gets")
    options.add_argument("--seconds", type=float, default=0.5, help="length of one turn")
    args = options.parse_args()

    requests = corpus()
    messages = [data for _, data in requests]
    sizes = {kind: len(data) for kind, data in requests}
    print(
        f"corpus: {len(messages)} requests ({sum(1 for k, _ in requests if k == 'get')} GETs of "
        f"~{sum(len(d) for k, d in requests if k == 'get') // 8} bytes, a {sizes['post']}-byte "
        f"POST, a {sizes['chunked']}-byte chunked upload); a new parser per request"
    )
    parsers = {"bastion": bastion_parse(), "waitress": waitress_parse(), "h11": h11_parse()}
    results = measure(parsers, messages, args.rounds, args.seconds)
    print(f"{'parser':<10}{'req/s':>12}{'bastion is':>14}")
    for name, rate in results.items():
        print(f"{name:<10}{rate:>12,.0f}{results['bastion'] / rate:>13.2f}x")
    vs_waitress = results["bastion"] / results["waitress"]
    vs_h11 = results["bastion"] / results["h11"]
    print(f"parser ratio_vs_waitress={vs_waitress:.2f} ratio_vs_h11={vs_h11:.2f}")


if __name__ == "__main__":
    main()
