"""From headlines to a webhook, every part real: ingest -> Kafka -> worker + model -> PostgreSQL -> alerter -> HTTP.

The alert scenario (tests/alert_scenario.py: two quiet hours for four
companies, then a burst of negative Boeing headlines and its syndicated
copies), mixed with a slice of the real stream corpus when the data
directory has it, is replayed onto its own Kafka topic with
`finsent ingest replay`. The worker scores it with a real JointModel whose
heads were fitted to the scenario's headlines (so what it says is known), and
stores it. `finsent alerter --once --at T` then steps the engine through the
burst and its end, dispatching to a webhook receiver on loopback, which must
get exactly one firing notification with the evidence, then exactly one
resolved notification.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from itertools import islice
from pathlib import Path

import pytest

from benchmarks.workers import WorkerProcess, count_rows, stream_env
from kernel.settings import PROJECT_ROOT, Settings
from model.data.examples import Example
from model.network.labels import SENTIMENT_LABELS
from model.serving.registry import live_version
from monitor.alerts.delivery.payload import alert_evidence, verify_signature
from monitor.contract import NewsItem
from monitor.ingest.replay import read_csv_corpus
from tests.alert_scenario import FIXTURE, SECRET, SECRET_ENV, baseline_news, burst_news, rules_text
from tests.databases import scratch_database
from tests.webhook_receiver import Receiver

pytestmark = pytest.mark.integration

BURST_END = datetime(2026, 3, 3, 10, 0, tzinfo=UTC)
START = BURST_END - timedelta(hours=2, minutes=10)
END = BURST_END + timedelta(minutes=12)
CORPUS_SLICE = 300  # real headlines mixed in as background traffic, when the data dir has the corpus
# background must not touch the four companies the rule watches: none of their names, tickers or cashtags
WATCHED = re.compile(r"\b(apple|microsoft|jpmorgan|jp morgan|chase|boeing|aapl|msft|jpm|ba)\b", re.IGNORECASE)


def scenario() -> tuple[list[tuple[NewsItem, str]], list[NewsItem]]:
    """(baseline items with their intended sentiment, the burst)."""
    return baseline_news(START, END), burst_news(BURST_END)


def corpus_slice(settings: Settings) -> list[NewsItem]:
    """CORPUS_SLICE real headlines about other companies, re-stamped evenly over the scenario's time span."""
    path = settings.data_dir / "stream" / "financial_headlines_stream.csv"
    if not path.is_file():
        return []
    unrelated = (item for item in read_csv_corpus(path)
                 if not WATCHED.search(item.headline) and not set(item.tickers) & set(FIXTURE["companies"]))
    rows = list(islice(unrelated, CORPUS_SLICE))
    gap = (END - START) / max(1, len(rows))
    return [item.model_copy(update={"published_at": START + i * gap}) for i, item in enumerate(rows)]


@pytest.fixture(scope="module")
def fitted_registry(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A registry whose live model says what the scenario means: burst negative, baseline as labelled, no entities."""
    from model.testing import make_fitted_model

    baseline, burst = scenario()
    examples = [Example(item.headline, "scenario", sentiment=SENTIMENT_LABELS.index(label), entities=[])
                for item, label in baseline]
    examples += [Example(item.headline, "scenario", sentiment=SENTIMENT_LABELS.index("negative"), entities=[])
                 for item in burst]
    registry = tmp_path_factory.mktemp("fitted-models")
    make_fitted_model(registry, examples)
    return registry


@pytest.fixture()
def alerts_database_url(database_server_url: str) -> Iterator[str]:
    """A database of this test's own: no other test's alerts can reach the receiver."""
    with scratch_database(database_server_url, "finsent_alerts_e2e") as url:
        yield url


def alerter_at(rules_file: Path, database_url: str, at: datetime) -> tuple[dict, dict]:
    """`finsent alerter --once --at` as its own process: (the evaluation report, the dispatch report)."""
    done = subprocess.run([sys.executable, "-m", "finsent.cli", "alerter", "--rules", str(rules_file), "--once",
                           "--at", at.isoformat()], capture_output=True, text=True, timeout=120, cwd=PROJECT_ROOT,
                          env={**os.environ, "FINSENT_DATABASE_URL": database_url, SECRET_ENV: SECRET}, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    evaluation, dispatch = (json.loads(line) for line in done.stdout.splitlines()[-2:])
    return evaluation, dispatch


def test_a_replayed_burst_reaches_the_webhook_once_firing_then_once_resolved(
    settings: Settings, kafka_bootstrap: str, alerts_database_url: str, fitted_registry: Path, tmp_path: Path,
) -> None:
    baseline, burst = scenario()
    background = corpus_slice(settings)
    items = [item for item, _ in baseline] + burst + background
    replay_file = tmp_path / "replay.jsonl"
    replay_file.write_text("".join(item.model_dump_json() + "\n" for item in items))

    # --- ingest: the real connector onto this test's own topics -------------------------------------------------
    tag = f"e2e{uuid.uuid4().hex[:8]}"
    env = stream_env(tag, alerts_database_url, fitted_registry, tmp_path / "state")
    sent = subprocess.run([sys.executable, "-m", "finsent.cli", "ingest", "replay", str(replay_file), "--speed", "max"],
                          capture_output=True, text=True, timeout=180, cwd=PROJECT_ROOT, env={**os.environ, **env},
                          check=False)
    assert sent.returncode == 0, sent.stderr[-3000:]
    messages = json.loads(sent.stdout.splitlines()[-1])["sent"]  # the corpus's repeated stories travel as one
    assert len(baseline) + len(burst) <= messages <= len(items)

    # --- the worker scores and stores every item, then stops -------------------------------------------------------
    worker = WorkerProcess(env, tmp_path / "worker.log", "--count", str(messages), "--timeout", "300").start()
    assert worker.process is not None
    assert worker.process.wait(timeout=360) == 0, worker.log_text()[-4000:]
    assert worker.summary()["stopped"] == "count", worker.log_text()[-2000:]
    assert count_rows(alerts_database_url, "SELECT count(*) FROM articles") == messages
    version = live_version(fitted_registry)
    assert count_rows(alerts_database_url, "SELECT count(*) FROM model_outputs WHERE model_version = :v",
                      v=version) == messages  # every result stamped with the model that made it
    negative_burst = count_rows(alerts_database_url, "SELECT count(*) FROM model_outputs WHERE sentiment_label = "
                                "'negative' AND published_at >= :start AND published_at < :end",
                                start=BURST_END - timedelta(minutes=5), end=BURST_END)
    assert negative_burst >= len(burst)

    # --- the alerter steps through the burst and its end; the receiver hears it twice ---------------------------
    receiver = Receiver()
    try:
        rules_file = tmp_path / "rules.yaml"
        rules_file.write_text(rules_text(receiver.url))
        pending, _ = alerter_at(rules_file, alerts_database_url, BURST_END - timedelta(seconds=30))
        assert pending["events"] == {"pending": 1} and pending["notifications"] == 0
        firing, dispatched = alerter_at(rules_file, alerts_database_url, BURST_END + timedelta(seconds=30))
        assert firing["events"] == {"firing": 1} and firing["notifications"] == 1
        assert dispatched["delivered"] == 1, dispatched
        repeat, _ = alerter_at(rules_file, alerts_database_url, BURST_END + timedelta(seconds=45))
        assert repeat["events"] == {} and repeat["notifications"] == 0  # deduplicated
        resolved, dispatched = alerter_at(rules_file, alerts_database_url, BURST_END + timedelta(minutes=10))
        assert resolved["events"] == {"resolved": 1} and resolved["notifications"] == 1
        assert dispatched["delivered"] == 1, dispatched
        quiet, _ = alerter_at(rules_file, alerts_database_url, BURST_END + timedelta(minutes=12))
        assert quiet["notifications"] == 0
    finally:
        receiver.close()

    assert [r.json["status"] for r in receiver.requests] == ["firing", "resolved"]
    first, last = receiver.requests
    assert verify_signature(SECRET, first.headers, first.body, tolerance_s=600)
    [alert] = first.json["alerts"]
    assert first.json["groupLabels"] == {"alertname": "ticker-negative-spike", "ticker": FIXTURE["burst_ticker"]}
    evidence = alert_evidence(alert)  # the `evidence` annotation, a JSON string
    assert evidence["value"] > 0.6 and evidence["zscore"] > 3 and evidence["baseline"] == pytest.approx(0.2)
    top = [a["headline"] for a in evidence["top_articles"]]
    about_boeing = set(FIXTURE["burst"]) | {item.headline for item, _ in baseline
                                            if item.tickers == [FIXTURE["burst_ticker"]]}
    assert set(top) <= about_boeing and len(set(top) & set(FIXTURE["burst"])) >= 3, top
    [resolved_alert] = last.json["alerts"]
    assert resolved_alert["fingerprint"] == alert["fingerprint"] and resolved_alert["status"] == "resolved"
