"""Retraining end to end on the real PostgreSQL, a temporary registry and a tiny training profile.

labels inserted -> retrain -> both models evaluated -> candidate promoted (registry,
metadata and model_versions agree) -> a worker stores new articles with the new
version; a noise-trained candidate is rejected with its reason; a failed run raises
the retrain_failed alert with a queued webhook; two schedulers started at once run
the job once.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine, delete, select

from kernel.settings import PROJECT_ROOT, load_settings
from monitor.contract import NewsItem
from monitor.retrain.gate import GatePolicy
from monitor.retrain.lock import try_advisory_lock
from monitor.retrain.pipeline import RetrainOptions, run_retraining
from monitor.storage.db import session_factory
from monitor.storage.models import Alert, AnalystLabel, Article, ModelOutput, ModelVersion, WebhookDelivery

pytestmark = pytest.mark.integration

FIXTURES = PROJECT_ROOT / "tests" / "fixtures" / "retrain"


def fixture_data_dir(root: Path) -> Path:
    """A data dir laid out like the real one, holding the small hand-written fixture files."""
    data_dir = root / "data"
    for fixture, relative in (("sentiment_headlines.csv", "sentiment/twitter_fin_sentiment_train.csv"),
                              ("topic_headlines.csv", "topic/twitter_fin_topic_train.csv")):
        (data_dir / relative).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(FIXTURES / fixture, data_dir / relative)
    return data_dir
DATASETS = ("twitter_sentiment", "twitter_topic")
FINSENT = str(Path(sys.executable).with_name("finsent"))
RULES_YAML = """
rules: []
route:
  receiver: ops
  group_by: [alertname]
receivers:
  - name: ops
    webhook: {url: "http://127.0.0.1:9/hook", format: alertmanager}
"""
# Traffic: recent articles the live model scored; analysts corrected three of them.
TRAFFIC = [
    ("Salesforce shares plunge after weak revenue outlook", "negative", 19),
    ("Qualcomm surges as handset chip sales beat estimates", "positive", 19),
    ("Fed signals it will keep rates on hold through summer", "neutral", 1),
    ("Merck agrees to acquire Prometheus Biosciences", None, None),
    ("Dollar General misses estimates and cuts guidance", None, None),
]


def tiny_options(tmp_path: Path, **overrides: object) -> RetrainOptions:
    values: dict = dict(profile="tiny", datasets=DATASETS, dev_fraction=0.3, eval_cap=None, traffic_limit=50,
                        runs_dir=tmp_path / "runs", progress=False, max_steps=40)
    values.update(overrides)
    return RetrainOptions(**values)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def world(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> dict:
    """A registry with a random-headed live model, stored traffic scored by it, and analysts' labels."""
    from model.testing import make_tiny_model

    root = tmp_path_factory.mktemp("retrain")
    registry_dir = root / "models"
    first = make_tiny_model(registry_dir, promote=True)
    rules = root / "rules.yaml"
    rules.write_text(RULES_YAML, encoding="utf-8")
    data_dir = fixture_data_dir(root)
    settings = load_settings(database_url=database_url, registry_dir=registry_dir, data_dir=data_dir,
                             device="cpu", alert_rules=rules)
    now = datetime.now(UTC)
    with session_factory(database_url).begin() as session:
        for index, (headline, sentiment, topic) in enumerate(TRAFFIC):
            item = NewsItem(source="reuters", headline=headline, published_at=now - timedelta(minutes=index))
            session.add(Article(id=item.id, story_id=item.story_id, source=item.source, published_at=item.published_at,
                                headline=headline, content_hash=item.id))
            session.add(ModelOutput(article_id=item.id, model_version=first, published_at=item.published_at, topic=0,
                                    topic_probs=[0.05] * 20, sentiment_label="neutral", sentiment_score=0.0,
                                    sentiment_probs=[0.3, 0.4, 0.3]))
            session.flush()
            if sentiment:
                session.add(AnalystLabel(article_id=item.id, task="sentiment", author="alice",
                                         label={"sentiment": sentiment, "previous": "neutral"}))
                session.add(AnalystLabel(article_id=item.id, task="topic", author="alice",
                                         label={"topic": topic, "previous": 0}))
    return {"root": root, "registry_dir": registry_dir, "first": first, "settings": settings,
            "database_url": database_url}


@pytest.fixture(scope="module")
def promoted(world: dict) -> dict:
    """One retraining run against the random-headed live model (expected: promoted)."""
    lines: list[str] = []
    report = run_retraining(tiny_options(world["root"], from_scratch=True), world["settings"],
                            session_factory(world["database_url"]), say=lines.append)
    return {"report": report, "lines": lines}


def test_labels_feed_a_candidate_that_beats_the_live_model_and_is_promoted(world: dict, promoted: dict) -> None:
    from model.serving.registry import live_version, load_metadata

    report = promoted["report"]
    assert [line.split(" ")[0] for line in promoted["lines"] if line.startswith("[")] == [
        "[1/6]", "[2/6]", "[3/6]", "[4/6]", "[5/6]", "[6/6]"]
    assert report.label_counts["used"] == {"sentiment": 3, "topic": 3}
    assert report.training_examples["analyst"] == 3
    assert set(report.live_metrics) == set(report.candidate_metrics) == set(DATASETS)
    assert report.traffic["articles"] == len(TRAFFIC)
    assert report.traffic["sentiment_labelled"] == 3
    assert 0.0 <= report.traffic["sentiment_agreement"] <= 1.0
    assert report.decision is not None and report.decision.promote, report.decision
    assert live_version(world["registry_dir"]) == report.candidate_version

    metadata = load_metadata(world["registry_dir"], report.candidate_version)
    assert metadata["retrain"]["status"] == "promoted"
    assert metadata["retrain"]["compared_with"] == world["first"]
    assert metadata["data_sha256"]["analyst_labels"] == report.data_hashes["analyst_labels"]

    with session_factory(world["database_url"])() as session:
        rows = {row.version: row for row in session.scalars(select(ModelVersion))}
    candidate, first = rows[report.candidate_version], rows[world["first"]]
    assert (candidate.status, candidate.is_live, candidate.compared_with) == ("promoted", True, world["first"])
    assert candidate.label_counts["used"] == {"sentiment": 3, "topic": 3}
    assert candidate.metrics["target"]["candidate"] == pytest.approx(report.decision.candidate_target)
    assert candidate.metrics["target"]["live"] == pytest.approx(report.decision.live_target)
    assert candidate.duration_s and candidate.duration_s > 0
    assert candidate.decision_reason.startswith("promoted: target mean improved")
    assert (first.status, first.is_live) == ("retired", False)


def test_a_candidate_trained_on_shuffled_labels_is_rejected_with_its_reason(world: dict, promoted: dict) -> None:
    from model.serving.registry import live_version, load_metadata

    live_before = live_version(world["registry_dir"])
    report = run_retraining(tiny_options(world["root"], from_scratch=True, shuffle_labels=True,
                                         policy=GatePolicy(tolerance=0.01)),
                            world["settings"], session_factory(world["database_url"]), say=lambda line: None)
    assert report.decision is not None and not report.decision.promote
    assert report.decision.reason.startswith("rejected: ")
    assert live_version(world["registry_dir"]) == live_before  # nothing swapped
    assert load_metadata(world["registry_dir"], report.candidate_version)["retrain"]["status"] == "rejected"
    with session_factory(world["database_url"])() as session:
        row = session.get(ModelVersion, report.candidate_version)
        live_row = session.get(ModelVersion, live_before)
    assert (row.status, row.is_live, row.decision_reason) == ("rejected", False, report.decision.reason)
    assert live_row.is_live


def test_rollback_through_the_registry_is_synced_into_model_versions(world: dict, promoted: dict) -> None:
    from model.serving.registry import promote, rollback
    from monitor.storage.model_versions import sync_live

    candidate = promoted["report"].candidate_version
    assert rollback(world["registry_dir"]) == world["first"]
    try:
        with session_factory(world["database_url"]).begin() as session:
            assert sync_live(session, world["registry_dir"], reason="rolled back by test") == world["first"]
        with session_factory(world["database_url"])() as session:
            rolled_back, restored = session.get(ModelVersion, candidate), session.get(ModelVersion, world["first"])
        assert (rolled_back.status, rolled_back.is_live) == ("retired", False)
        assert rolled_back.decision_reason.endswith("rolled back by test")
        assert (restored.status, restored.is_live) == ("promoted", True)
    finally:
        promote(world["registry_dir"], candidate)
        with session_factory(world["database_url"]).begin() as session:
            sync_live(session, world["registry_dir"])


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _env(world: dict, **extra: str) -> dict[str, str]:
    return {**os.environ, "FINSENT_DATABASE_URL": world["database_url"],
            "FINSENT_REGISTRY_DIR": str(world["registry_dir"]), "FINSENT_DATA_DIR": str(world["settings"].data_dir),
            "FINSENT_DEVICE": "cpu", "FINSENT_ALERT_RULES": str(world["root"] / "rules.yaml"), **extra}


def test_a_running_worker_stores_new_articles_with_the_promoted_version(world: dict, promoted: dict,
                                                                        kafka_bootstrap: str,
                                                                        unique_topic: str) -> None:
    """Live swap seen from the stream side: the stream engineer's `finsent worker` (bounded run)."""
    from kafka import KafkaProducer
    from kafka.admin import KafkaAdminClient, NewTopic

    admin = KafkaAdminClient(bootstrap_servers=kafka_bootstrap)
    admin.create_topics([NewTopic(unique_topic, num_partitions=1, replication_factor=1)])
    admin.close()
    items = [NewsItem(source="test", headline=h, published_at=datetime.now(UTC))
             for h in ("Oracle shares jump after cloud deal", "Rivian falls as deliveries disappoint")]
    env = _env(world, FINSENT_NEWS_TOPIC=unique_topic, FINSENT_WORKER_GROUP=f"g-{unique_topic}",
               FINSENT_METRICS_PORT=str(free_port()), FINSENT_KAFKA_BOOTSTRAP_SERVERS=kafka_bootstrap)
    worker = subprocess.Popen([FINSENT, "worker", "--count", str(len(items)), "--timeout", "180"], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    producer = KafkaProducer(bootstrap_servers=kafka_bootstrap)
    for item in items:
        producer.send(unique_topic, item.model_dump_json().encode("utf-8"))
    producer.flush()
    producer.close()
    output, _ = worker.communicate(timeout=240)
    assert worker.returncode == 0, output[-3000:]
    with session_factory(world["database_url"])() as session:
        versions = set(session.scalars(select(ModelOutput.model_version)
                                       .where(ModelOutput.article_id.in_([i.id for i in items]))))
    assert versions == {promoted["report"].candidate_version}


def test_a_failed_run_raises_the_retrain_failed_alert_with_a_queued_webhook(world: dict, tmp_path: Path) -> None:
    result = subprocess.run([FINSENT, "retrain", "--profile", "tiny", "--dataset", "twitter_sentiment",
                             "--no-progress"], env=_env(world, FINSENT_DATA_DIR=str(tmp_path / "no-data")),
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 1, result.stderr[-3000:]
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    assert summary["failed"] and "DatasetMissingError" in summary["error"]
    with session_factory(world["database_url"]).begin() as session:
        alert = session.scalars(select(Alert).where(Alert.rule_name == "retrain_failed")).one()
        assert (alert.status, alert.labels) == ("firing", {"alertname": "retrain_failed", "severity": "warning"})
        delivery = session.scalars(select(WebhookDelivery).where(WebhookDelivery.alert_id == alert.id)).one()
        assert delivery.receiver == "ops"
        assert delivery.payload["version"] == "4"
        assert delivery.payload["alerts"][0]["labels"]["alertname"] == "retrain_failed"
        assert "DatasetMissingError" in delivery.payload["alerts"][0]["annotations"]["description"]
        session.execute(delete(WebhookDelivery))
        session.execute(delete(Alert))


def test_the_advisory_lock_admits_one_holder(database_url: str) -> None:
    first, second = create_engine(database_url), create_engine(database_url)
    try:
        with try_advisory_lock(first) as held:
            assert held
            with try_advisory_lock(second) as also_held:
                assert not also_held
        with try_advisory_lock(second) as held_after_release:
            assert held_after_release
    finally:
        first.dispose()
        second.dispose()


def test_two_schedulers_started_at_once_run_the_job_once(world: dict, promoted: dict) -> None:
    command = [FINSENT, "scheduler", "--once", "--profile", "tiny", "--dataset", "twitter_sentiment",
               "--dataset", "twitter_topic", "--dev-fraction", "0.3", "--max-steps", "20", "--no-progress"]
    started = time.monotonic()
    processes = [subprocess.Popen(command, env=_env(world), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                  text=True) for _ in range(2)]
    results = [p.communicate(timeout=400) for p in processes]
    outcomes = sorted(json.loads(out.strip().splitlines()[-1])["outcome"] for out, _ in results)
    assert [p.returncode for p in processes] == [0, 0], [err[-2000:] for _, err in results]
    assert outcomes == ["ran", "skipped"], (outcomes, time.monotonic() - started)


def test_dry_run_counts_the_training_set_and_changes_nothing(world: dict) -> None:
    from model.serving.registry import list_versions

    before = [v.version for v in list_versions(world["registry_dir"])]
    report = run_retraining(tiny_options(world["root"], dry_run=True), world["settings"],
                            session_factory(world["database_url"]), say=lambda line: None)
    assert report.dry_run and report.decision is None and report.candidate_version is None
    assert report.label_counts["used"] == {"sentiment": 3, "topic": 3}
    assert report.training_examples["analyst"] == 3
    assert report.training_examples["twitter_sentiment"] > 0
    assert [v.version for v in list_versions(world["registry_dir"])] == before
