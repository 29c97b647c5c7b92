"""memo.remember: the one bounded-memo rule every cache of checked values follows."""

from __future__ import annotations

from bastion.http.memo import Bound, remember

THREE_OF_TEN = Bound(3, 10, lambda key, value: len(key))


def test_a_full_memo_is_emptied_then_keeps_the_newest_entry():
    memo: dict[str, int] = {}
    for n in range(3):
        assert remember(memo, f"k{n}", n, THREE_OF_TEN)
    assert memo == {"k0": 0, "k1": 1, "k2": 2}
    assert remember(memo, "k3", 3, THREE_OF_TEN)
    assert memo == {"k3": 3}
    remember(memo, "k3", 33, THREE_OF_TEN)  # an entry already there is overwritten
    assert memo == {"k3": 33}


def test_an_entry_over_the_entry_size_is_refused_and_the_memo_left_alone():
    memo: dict[str, int] = {"short": 1}
    assert remember(memo, "x" * 10, 2, THREE_OF_TEN)  # exactly the entry size is taken
    assert not remember(memo, "x" * 11, 3, THREE_OF_TEN)
    assert memo == {"short": 1, "x" * 10: 2}


def test_the_total_is_entries_times_entry_size():
    assert THREE_OF_TEN.total == 30
