"""Replay the byte corpus whole, line by line and byte by byte (h11's and gunicorn's way).

``corpus/valid/<name>.<requests>.http`` must parse into that many requests, with the
same events in every split.  ``corpus/invalid/<name>.<status>.http`` must fail with that
status in every split, without a request event for anything after the fault.
"""

from __future__ import annotations

from pathlib import Path

import pytest

CORPUS = Path(__file__).parent / "corpus"
VALID = sorted((CORPUS / "valid").glob("*.http"))
INVALID = sorted((CORPUS / "invalid").glob("*.http"))


def expected_number(path: Path) -> int:
    return int(path.name.split(".")[-2])


def test_corpus_is_present():
    """Guard against an empty glob silently passing."""
    assert len(VALID) >= 10 and len(INVALID) >= 25


@pytest.mark.parametrize("path", VALID, ids=lambda p: p.stem)
def test_valid_corpus(engine, path):
    data = path.read_bytes()
    whole, error = engine.run([data])
    assert error is None, f"{type(error).__name__}: {error}"
    assert [e[0] for e in whole].count("request") == expected_number(path)
    assert [e[0] for e in whole].count("end") == expected_number(path)
    assert whole[-1] == ("closed",)
    assert engine.run(engine.lines(data)) == (whole, None)
    assert engine.run(engine.split(data, 1)) == (whole, None)


@pytest.mark.parametrize("path", INVALID, ids=lambda p: p.stem)
def test_invalid_corpus(engine, path):
    data = path.read_bytes()
    statuses = set()
    requests = set()
    for pieces in ([data], engine.lines(data), engine.split(data, 1)):
        events, error = engine.run(pieces)
        assert error is not None
        statuses.add(error.status)
        requests.add(sum(1 for e in events if e[0] == "request"))
    assert statuses == {expected_number(path)}
    assert len(requests) == 1
