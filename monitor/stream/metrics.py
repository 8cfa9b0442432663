"""The worker's Prometheus metrics (served at /metrics next to /healthz and /readyz on FINSENT_METRICS_PORT)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

MESSAGES = Counter("finsent_worker_messages_total", "News messages handled, by outcome.",
                   ["outcome"])  # stored | duplicate | dead_letter
DEAD_LETTERS = Counter("finsent_worker_dead_letters_total", "Messages sent to the dead-letter topic, by reason.",
                       ["reason"])
BATCH_SIZE = Histogram("finsent_worker_batch_size", "Messages per micro-batch.",
                       buckets=(1, 2, 4, 8, 16, 32, 64, 128, 256, 512))
INFERENCE_SECONDS = Histogram("finsent_worker_inference_seconds", "Model time per micro-batch.",
                              buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10))
STORE_SECONDS = Histogram("finsent_worker_store_seconds", "Database transaction time per micro-batch.",
                          buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10))
END_TO_END_SECONDS = Histogram(
    "finsent_worker_end_to_end_latency_seconds", "published_at to database commit, per stored article.",
    buckets=(0.05, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 10, 30, 60, 300, 3600))
CONSUMER_LAG = Gauge("finsent_worker_consumer_lag", "Messages on the news topic not yet handled, per partition.",
                     ["partition"])
DB_RETRIES = Counter("finsent_worker_db_retries_total", "Batch transactions retried after a database error.")
MODEL_SWAPS = Counter("finsent_worker_model_swaps_total", "Hot swaps to a newly promoted model version.")
MODEL_INFO = Gauge("finsent_worker_model_info", "1 for the model version now scoring.", ["version"])
READY = Gauge("finsent_worker_ready", "1 while /readyz answers ready, 0 while degraded or stopping.")
