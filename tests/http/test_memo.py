"""memo.remember: the one bounded-memo rule every cache of checked values follows."""

from __future__ import annotations

from bastion.http.memo import remember


def test_a_full_memo_is_emptied_then_keeps_the_newest_entry():
    memo: dict[str, int] = {}
    for n in range(3):
        remember(memo, f"k{n}", n, limit=3)
    assert memo == {"k0": 0, "k1": 1, "k2": 2}
    remember(memo, "k3", 3, limit=3)
    assert memo == {"k3": 3}
    remember(memo, "k3", 33, limit=3)  # an entry already there is overwritten
    assert memo == {"k3": 33}
