"""Reading worker health out of a Prometheus exposition, whatever the exact metric names."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Info, generate_latest

from dashboards.health import describe_throughput, parse_worker_metrics, scrape_worker


def exposition() -> str:
    registry = CollectorRegistry()
    lag = Gauge("finsent_consumer_lag", "Messages behind", ["partition"], registry=registry)
    lag.labels("0").set(120)
    lag.labels("1").set(30)
    Counter("finsent_articles_scored", "Articles scored", registry=registry).inc(4200)
    Info("finsent_model", "Live model", registry=registry).info({"model_version": "v20260101-000000-abcd"})
    Gauge("process_open_fds", "fds", registry=registry).set(12)
    return generate_latest(registry).decode()


def test_lag_is_summed_over_partitions_and_version_read_from_labels() -> None:
    metrics = parse_worker_metrics(exposition())
    assert metrics.consumer_lag == 150
    assert metrics.articles_processed == 4200
    assert metrics.model_version == "v20260101-000000-abcd"


def test_unknown_metrics_leave_fields_empty() -> None:
    metrics = parse_worker_metrics("# TYPE up gauge\nup 1\n")
    assert (metrics.consumer_lag, metrics.articles_processed, metrics.model_version) == (None, None, None)
    assert metrics.metric_names == ("up",)


def test_an_unreachable_worker_is_none_not_an_error() -> None:
    assert scrape_worker(metrics_port=9, host="127.0.0.1") is None  # discard port: nothing listens


def test_throughput_reads_per_minute_and_per_second_when_fast() -> None:
    assert describe_throughput(5400.0) == "5,400 articles/min (90.0/s)"
    assert describe_throughput(2.6) == "2.6 articles/min"
    assert describe_throughput(0.0) == "0.0 articles/min"
