"""Seed a test database with what the dashboard tests expect to see.

Articles go through the project's own storage code
(monitor.storage.writes.store_scored_batch, as the worker stores them), from
the small hand-written fixture tests/fixtures/dashboard/scored_articles.jsonl.
Alerts, webhook deliveries and model versions are inserted as ORM rows, the
way the alert engine and the registry write them. Seeding twice is a no-op.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import select

from model.network.labels import SENTIMENT_LABELS, TOPIC_LABELS
from model.network.results import ArticleResult, EntityResult
from monitor.contract import NewsItem
from monitor.storage.db import session_factory
from monitor.storage.models import Alert, ModelVersion, WebhookDelivery
from monitor.storage.writes import store_scored_batch

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "dashboard" / "scored_articles.jsonl"
MODEL_VERSION = "v20261120-093000-a1b2"
FIRING_RULE = "ticker-sentiment-drop"
RESOLVED_RULE = "negative-burst"


@dataclass(frozen=True)
class SeededDashboard:
    """What the tests look for on the pages."""

    headline: str  # the newest headline, about AAPL
    ticker: str
    firing_rule: str
    firing_alert_id: int
    article_id: str  # the newest article, for labelling


def _probabilities(label: str, score: float) -> list[float]:
    """A (negative, neutral, positive) distribution whose p(pos) - p(neg) equals score."""
    rest = 1.0 - abs(score)
    probs = [rest / 3] * 3
    probs[SENTIMENT_LABELS.index(label)] += abs(score)
    return probs


def scored_pairs(now: datetime) -> list[tuple[NewsItem, ArticleResult]]:
    """The fixture's articles as (NewsItem, ArticleResult), published relative to now."""
    pairs = []
    for line_number, line in enumerate(FIXTURE.read_text(encoding="utf-8").splitlines(), start=1):
        row = json.loads(line)
        item = NewsItem(source=row["source"], url=row["url"], headline=row["headline"], tickers=row["tickers"],
                        published_at=now - timedelta(minutes=row["minutes_before_now"]))
        entities = []
        for text, entity_type, ticker, label, score in row["entities"]:
            start = row["headline"].find(text)
            if start < 0:
                raise ValueError(f"{FIXTURE.name} line {line_number}: entity {text!r} is not in the headline")
            entities.append(EntityResult(start, start + len(text), text, entity_type, ticker, label, score))
        topic_probs = [0.01] * len(TOPIC_LABELS)
        topic_probs[row["topic"]] = 1.0 - 0.01 * (len(TOPIC_LABELS) - 1)
        result = ArticleResult(topic=row["topic"], topic_probs=topic_probs, sentiment_label=row["sentiment"],
                               sentiment_score=row["score"],
                               sentiment_probs=_probabilities(row["sentiment"], row["score"]),
                               entities=entities, model_version=MODEL_VERSION)
        pairs.append((item, result))
    return pairs


def seed_dashboard_data(database_url: str, now: datetime | None = None) -> SeededDashboard:
    """Store the fixture articles, two alerts with deliveries and two model versions (once)."""
    now = (now or datetime.now(UTC)).replace(microsecond=0)
    pairs = scored_pairs(now)
    newest_item, _ = min(pairs, key=lambda pair: now - pair[0].published_at)
    factory = session_factory(database_url)
    with factory.begin() as session:
        existing = session.scalar(select(Alert.id).where(Alert.rule_name == FIRING_RULE))
        if existing is not None:
            return SeededDashboard(newest_item.headline, "AAPL", FIRING_RULE, existing, newest_item.id or "")
        store_scored_batch(session, pairs)
        apple_articles = [item for item, _ in pairs if "AAPL" in item.tickers][:3]
        firing = Alert(
            fingerprint="f" * 32, rule_name=FIRING_RULE, status="firing", severity="critical",
            labels={"alertname": FIRING_RULE, "severity": "critical", "scope": "ticker", "ticker": "AAPL",
                    "sector": "Technology"},
            annotations={"summary": "AAPL sentiment dropped to -0.70 (baseline +0.64)",
                         "description": "4 negative stories in 2 h against a positive week."},
            evidence={"metric": "mean_score", "detector": "zscore", "value": -0.70, "baseline": 0.64,
                      "zscore": -4.2, "stories": 4, "articles": 4,
                      "top_articles": [{"id": item.id, "headline": item.headline} for item in apple_articles]},
            starts_at=now - timedelta(minutes=30))
        resolved = Alert(
            fingerprint="e" * 32, rule_name=RESOLVED_RULE, status="resolved", severity="warning",
            labels={"alertname": RESOLVED_RULE, "severity": "warning", "scope": "ticker", "ticker": "TSLA"},
            annotations={"summary": "TSLA negative burst"}, evidence={"value": 3.0, "baseline": 0.4},
            starts_at=now - timedelta(hours=3), ends_at=now - timedelta(hours=2))
        session.add_all([firing, resolved])
        session.flush()
        session.add_all([
            WebhookDelivery(alert_id=firing.id, receiver="slack-desk", payload={"status": "firing"},
                            idempotency_key=f"{firing.id}-slack", status="delivered", attempts=1,
                            delivered_at=now - timedelta(minutes=29)),
            WebhookDelivery(alert_id=firing.id, receiver="pager", payload={"status": "firing"},
                            idempotency_key=f"{firing.id}-pager", status="dead", attempts=8,
                            last_error="HTTP 503 from https://pager.example.com/hook"),
        ])
        session.add_all([
            ModelVersion(version="v20261101-080000-9f3c", status="retired", is_live=False, path="models/old",
                         metrics={"sentiment": {"macro_f1": 0.79}, "topic": {"macro_f1": 0.81}, "ner": {"f1": 0.74}},
                         created_at=now - timedelta(days=19), decision_reason="superseded"),
            ModelVersion(version=MODEL_VERSION, status="promoted", is_live=True, path=f"models/{MODEL_VERSION}",
                         metrics={"sentiment": {"macro_f1": 0.83}, "topic": {"macro_f1": 0.84}, "ner": {"f1": 0.78}},
                         created_at=now - timedelta(days=9), promoted_at=now - timedelta(days=9),
                         decision_reason="beats live on every gated metric"),
        ])
        return SeededDashboard(newest_item.headline, "AAPL", FIRING_RULE, firing.id, newest_item.id or "")


# --- replayed history ----------------------------------------------------------------------------
# A slice shaped like the replay corpus's last days (2020-07-17/18): Benzinga rows known to the
# minute, Reuters rows known only to the day (stamped 00:00). NFLX reproduces issue #11: one
# headline late on the 16th (inside the hour the old range's figures rounded down to, outside
# its chart and list), two date-only ones on the 17th and one that afternoon.
REPLAY_NEWEST = datetime(2020, 7, 17, 23, 51, tzinfo=UTC)
REPLAYED_ROWS: list[tuple[str, str, str, list[str], str, float, list[tuple[str, str, str | None, str, float]]]] = [
    # (published_at, precision, source, tickers, headline, score, entities (text, type, ticker, label, score))
    ("2020-07-17T00:00", "day", "reuters", [], "Netflix shares sink as subscriber outlook disappoints", -0.8,
     [("Netflix", "ORG", "NFLX", "negative", -0.8)]),
    ("2020-07-17T00:00", "day", "reuters", [], "Netflix warns of slower growth after lockdown boom", -0.7,
     [("Netflix", "ORG", "NFLX", "negative", -0.7)]),
    ("2020-07-16T23:20", "minute", "benzinga", ["NFLX"], "Netflix options traders brace for earnings", -0.3,
     [("Netflix", "ORG", "NFLX", "negative", -0.3)]),
    ("2020-07-17T14:25", "minute", "benzinga", ["NFLX"], "Netflix price target lowered at Goldman Sachs", -0.6,
     [("Netflix", "ORG", "NFLX", "negative", -0.6), ("Goldman Sachs", "ORG", "GS", "neutral", 0.0)]),
    ("2020-07-17T15:02", "minute", "benzinga", ["AAPL"], "Apple shares rise on strong iPhone demand", 0.7,
     [("Apple", "ORG", "AAPL", "positive", 0.7)]),
    ("2020-07-17T19:40", "minute", "benzinga", ["MSFT"], "Microsoft cloud revenue tops estimates", 0.6,
     [("Microsoft", "ORG", "MSFT", "positive", 0.6)]),
    ("2020-07-17T23:51", "minute", "benzinga", ["TSLA"], "Tesla recalls vehicles over seat belt issue", -0.5,
     [("Tesla", "ORG", "TSLA", "negative", -0.5)]),
    ("2020-07-16T13:10", "minute", "cnbc", ["AAPL"], "Apple supplier sees stable orders", 0.1,
     [("Apple", "ORG", "AAPL", "neutral", 0.1)]),
]
REPLAY_FIRING_RULE = "entity-negative-burst"


def _label(score: float) -> str:
    return "negative" if score < -0.2 else "positive" if score > 0.2 else "neutral"


def seed_replayed_history(database_url: str) -> int:
    """Store REPLAYED_ROWS as the worker would after a replay, plus one alert firing now; return its id."""
    pairs = []
    for published, precision, source, tickers, headline, score, entity_rows in REPLAYED_ROWS:
        item = NewsItem(source=source, headline=headline, tickers=tickers, published_precision=precision,
                        published_at=datetime.fromisoformat(published).replace(tzinfo=UTC))
        entities = [EntityResult(headline.index(text), headline.index(text) + len(text), text, kind, ticker, label,
                                 entity_score) for text, kind, ticker, label, entity_score in entity_rows]
        label = _label(score)
        pairs.append((item, ArticleResult(topic=2, topic_probs=[0.05] * len(TOPIC_LABELS), sentiment_label=label,
                                          sentiment_score=score, sentiment_probs=_probabilities(label, score),
                                          entities=entities, model_version=MODEL_VERSION)))
    with session_factory(database_url).begin() as session:
        store_scored_batch(session, pairs)
        # An alert engine following the replay live stamps its alerts with wall-clock time, years after the data.
        firing = Alert(fingerprint="r" * 32, rule_name=REPLAY_FIRING_RULE, status="firing", severity="warning",
                       labels={"alertname": REPLAY_FIRING_RULE, "scope": "ticker", "ticker": "NFLX"},
                       annotations={"summary": "NFLX negative stories burst"}, evidence={"value": 3.0},
                       starts_at=datetime.now(UTC) - timedelta(minutes=3))
        session.add(firing)
        session.flush()
        return firing.id
