"""Many clients at once: every response reaches the right client, intact, in order."""

from __future__ import annotations

import hashlib
import threading
import time


def echo_app(environ, start_response):
    length = int(environ.get("CONTENT_LENGTH") or 0)
    data = environ["wsgi.input"].read(length)
    body = environ["PATH_INFO"].encode() + b":" + hashlib.sha256(data).hexdigest().encode()
    start_response("200 OK", [("Content-Length", str(len(body)))])
    return [body]


def test_many_keep_alive_clients_in_parallel(serve_app):
    clients, rounds = 24, 25
    failures: list[str] = []
    done = []

    def client(n: int, server) -> None:
        try:
            with server.wire(10) as wire:
                for r in range(rounds):
                    payload = b"%d-%d-" % (n, r) * (r * 50 + 1)
                    wire.send(
                        b"POST /c%d/r%d HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n"
                        % (n, r, len(payload))
                        + payload
                    )
                    expected = b"/c%d/r%d:%s" % (n, r, hashlib.sha256(payload).hexdigest().encode())
                    body = wire.read_response(timeout=10).body
                    if body != expected:
                        failures.append(f"client {n} round {r}: {body[:60]!r}")
                        return
            done.append(n)
        except Exception as error:  # reported below, with the client that saw it
            failures.append(f"client {n}: {error!r}")

    with serve_app(echo_app, threads=4) as server:
        threads = [threading.Thread(target=client, args=(n, server)) for n in range(clients)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
        assert not any(thread.is_alive() for thread in threads), "clients hung"
    assert failures == []
    assert sorted(done) == list(range(clients))


def test_pipelining_clients_in_parallel(serve_app):
    clients, depth = 12, 40
    failures: list[str] = []

    def client(n: int, server) -> None:
        try:
            with server.wire(10) as wire:
                requests = [
                    b"GET /c%d/%d HTTP/1.1\r\nHost: x\r\n\r\n" % (n, i) for i in range(depth)
                ]
                for start in range(0, depth, 10):  # in bursts, as a pipelining proxy sends
                    wire.send(b"".join(requests[start : start + 10]))
                    time.sleep(0.01)  # the pause between bursts is the client's behaviour
                for i in range(depth):
                    body = wire.read_response(timeout=10).body
                    if not body.startswith(b"/c%d/%d:" % (n, i)):
                        failures.append(f"client {n} response {i}: {body[:40]!r}")
                        return
        except Exception as error:
            failures.append(f"client {n}: {error!r}")

    with serve_app(echo_app, threads=4) as server:
        threads = [threading.Thread(target=client, args=(n, server)) for n in range(clients)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
        assert not any(thread.is_alive() for thread in threads), "clients hung"
    assert failures == []
