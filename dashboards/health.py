"""Worker health for the overview: scraped from the worker's Prometheus endpoint, else from the database.

The worker (monitor/stream) serves metrics on http://127.0.0.1:<metrics_port>/metrics.
We read consumer lag, processed-article counters and the live model version
from it when it answers within a second; when it does not (worker stopped, or
running elsewhere) the overview falls back to what the stored rows say.
Metric names are matched loosely (`*lag*`, `*articles*_total`, a `model_version`
label) so a renamed metric degrades to "unknown" rather than an error.
"""

from __future__ import annotations

from dataclasses import dataclass

import httpx
from prometheus_client.parser import text_string_to_metric_families

SCRAPE_TIMEOUT_S = 1.0
THROUGHPUT_WINDOW_MINUTES = 5  # stored-article throughput: long enough to smooth the worker's batches


def describe_throughput(per_minute: float) -> str:
    """'5,400 articles/min (90.0/s)' for a fast store, '2.6 articles/min' for a slow one."""
    text = f"{per_minute:,.1f} articles/min" if per_minute < 100 else f"{per_minute:,.0f} articles/min"
    return text + (f" ({per_minute / 60:,.1f}/s)" if per_minute >= 60 else "")


@dataclass(frozen=True)
class WorkerMetrics:
    """What the overview shows from one scrape; None where the worker exports nothing matching."""

    consumer_lag: float | None
    articles_processed: float | None
    model_version: str | None
    metric_names: tuple[str, ...]


def parse_worker_metrics(exposition: str) -> WorkerMetrics:
    """Pick lag, processed count and model version out of a Prometheus text exposition."""
    lag: float | None = None
    processed: float | None = None
    version: str | None = None
    names = []
    for family in text_string_to_metric_families(exposition):
        names.append(family.name)
        for sample in family.samples:
            if "model_version" in sample.labels and version is None:
                version = sample.labels["model_version"]
            name = sample.name
            if "lag" in name and not name.endswith(("_bucket", "_created", "_sum", "_count")):
                lag = (lag or 0.0) + sample.value
            elif "article" in name and name.endswith("_total"):
                processed = (processed or 0.0) + sample.value
    return WorkerMetrics(consumer_lag=lag, articles_processed=processed, model_version=version,
                         metric_names=tuple(names))


def scrape_worker(metrics_port: int, host: str = "127.0.0.1") -> WorkerMetrics | None:
    """Scrape the worker once; None when it does not answer (the caller falls back to the database)."""
    try:
        response = httpx.get(f"http://{host}:{metrics_port}/metrics", timeout=SCRAPE_TIMEOUT_S)
        response.raise_for_status()
    except httpx.HTTPError:
        return None
    return parse_worker_metrics(response.text)
