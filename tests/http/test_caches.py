"""Caches: every memo a server keeps, each with its bound, shared by its threads."""

from __future__ import annotations

import threading

from bastion.http import Caches, Limits, check_response, render_head
from bastion.http.head import parse_head
from bastion.http.memo import Bound
from bastion.trusted_hosts import HostPolicy

DATE = "Sun, 06 Nov 1994 08:49:37 GMT"


def test_every_memo_has_its_bound_beside_it():
    caches = Caches()
    memos = {name for name in Caches.__slots__ if isinstance(getattr(caches, name), dict)}
    assert memos == set(Caches.__slots__)
    assert all(isinstance(getattr(Caches, name.upper()), Bound) for name in memos)


def test_a_host_policy_remembers_in_the_caches_it_is_given():
    caches = Caches()
    shared = HostPolicy("[::1]", caches=caches)
    assert shared.check({"HTTP_HOST": "[0:0::1]"}) is None
    assert caches.ipv6_literals == {"0:0::1": "[::1]"}
    alone = HostPolicy("[::1]")
    assert alone.check({"HTTP_HOST": "[0::0:1]"}) is None
    assert "0::0:1" not in caches.ipv6_literals


def test_threads_sharing_one_caches_through_its_clears_get_right_answers():
    """Many threads, more distinct entries than the memos hold: every answer is right.

    Under the GIL this shows the code path; on a free-threaded build it races for real.
    """
    caches, limits = Caches(), Limits()
    errors: list[BaseException] = []
    start = threading.Barrier(8)

    def work(worker: int) -> None:
        start.wait()
        try:
            for n in range(600):
                key = (worker * 600 + n) % 1500  # past every bound: memos fill and clear
                head = f"GET /{key} HTTP/1.1\r\nHost: h{key}\r\nX-K: {key}\r\n\r\n"
                request = parse_head(head, limits, caches)
                assert (request.path, request.headers["x-k"]) == (f"/{key}", str(key))
                checked = check_response(f"200 K{key}", [("X-K", str(key))], caches)
                data, _, _ = render_head(checked, "GET", "HTTP/1.1", True, DATE, None, 0)
                assert data.startswith(f"HTTP/1.1 200 K{key}\r\n".encode())
                assert f"\r\nX-K: {key}\r\n".encode() in data
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=work, args=(worker,)) for worker in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
