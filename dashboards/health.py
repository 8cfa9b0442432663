"""Worker health for the overview: scraped from the worker's Prometheus endpoint, else from the database.

The worker (monitor/stream) serves metrics on http://127.0.0.1:<metrics_port>/metrics.
We read consumer lag, processed-article counters and the live model version
from it when it answers within a second; when it does not (worker stopped, or
running elsewhere) the overview falls back to what the stored rows say.
Metric names are matched loosely (`*lag*`, `*articles*_total`, a `model_version`
label) so a renamed metric degrades to "unknown" rather than an error.

Readiness comes from the worker's `/readyz` on the same port (200 ready, 503
degraded with reasons: database or broker unreachable, consumer stalled; see
monitor/stream/readiness.py), else from the verdict in `/healthz` (a worker
that has no `/readyz` is shown as ok when /healthz says so).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

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


@dataclass(frozen=True)
class WorkerReadiness:
    """The worker's own readiness verdict: ok, degraded (with reasons) or stopping."""

    ready: bool
    status: str
    reasons: tuple[str, ...]


def parse_readiness(body: Any) -> WorkerReadiness | None:
    """A /readyz or /healthz body; a /healthz from before readiness (no `ready`) counts as ready when `ok`."""
    if not isinstance(body, dict) or not isinstance(body.get("status"), str):
        return None
    status = body["status"]
    ready = body.get("ready")
    reasons = body.get("reasons") or []
    return WorkerReadiness(ready=bool(ready) if isinstance(ready, bool) else status == "ok", status=status,
                           reasons=tuple(str(reason) for reason in reasons if reason))


def fetch_readiness(metrics_port: int, host: str = "127.0.0.1") -> WorkerReadiness | None:
    """GET /readyz (a 503 still carries the verdict), else /healthz; None when the worker does not answer."""
    for path in ("/readyz", "/healthz"):
        try:
            response = httpx.get(f"http://{host}:{metrics_port}{path}", timeout=SCRAPE_TIMEOUT_S)
        except httpx.HTTPError:
            return None
        if response.status_code in (200, 503):
            try:
                return parse_readiness(response.json())
            except ValueError:
                return None
    return None
