"""The pipeline benchmark's own arithmetic: where the worker's time went, from its /metrics histograms."""

from __future__ import annotations

from benchmarks.pipeline import percentile, worker_breakdown


def test_the_breakdown_is_per_message_between_two_snapshots() -> None:
    before = {"inference_seconds_sum": 1.0, "store_seconds_sum": 0.5, "batch_size_sum": 64, "batch_size_count": 1}
    after = {"inference_seconds_sum": 11.0, "store_seconds_sum": 4.5, "batch_size_sum": 1064, "batch_size_count": 17}
    assert worker_breakdown(before, after, 1000) == {"inference_ms_per_msg": 10.0, "store_ms_per_msg": 4.0,
                                                     "mean_batch": 62.5}
    assert worker_breakdown({}, {}, 0) == {"inference_ms_per_msg": 0.0, "store_ms_per_msg": 0.0, "mean_batch": 0.0}


def test_percentiles_take_the_nearest_rank() -> None:
    values = [float(v) for v in range(1, 101)]
    assert (percentile(values, 50), percentile(values, 99), percentile(values, 100)) == (51.0, 99.0, 100.0)
