"""The scale-out bench's arithmetic: rates and the rebalance pause from stored-row timestamps."""

from __future__ import annotations

from benchmarks.scaleout import longest_gap, rate


def test_rate_counts_intervals_between_first_and_last_row() -> None:
    assert rate([10.0, 10.5, 11.0, 12.0]) == 1.5  # 3 intervals over 2 s
    assert rate([5.0]) is None
    assert rate([5.0, 5.0]) is None  # one batch, one timestamp: no rate to speak of


def test_longest_gap_finds_the_rebalance_stall_within_the_window() -> None:
    stamps = [0.0, 0.5, 1.0, 58.0, 58.5, 200.0]
    assert longest_gap(stamps, within_s=120) == 57.0
    assert longest_gap(stamps, within_s=10) == 0.5  # the stall lies outside a 10 s window
    assert longest_gap([3.0], within_s=120) is None
