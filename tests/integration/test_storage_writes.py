"""store_scored_batch on the real PostgreSQL: idempotent, story-aware, entity-aware."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from model.network.results import ArticleResult, EntityResult
from monitor.contract import NewsItem
from monitor.storage.db import session_factory
from monitor.storage.models import Article, EntityMention, ModelOutput, SentimentAggregate
from monitor.storage.writes import store_scored_batch
from tests.databases import scratch_database

pytestmark = pytest.mark.integration

WHEN = datetime(2024, 3, 5, 14, 7, 30, tzinfo=UTC)


def item(headline: str, source: str = "reuters", url: str | None = None, tickers: list[str] | None = None) -> NewsItem:
    return NewsItem(source=source, url=url, published_at=WHEN, headline=headline, tickers=tickers or [])


def result(label: str, score: float, entities: list[EntityResult] | None = None) -> ArticleResult:
    probs = {"negative": [0.8, 0.1, 0.1], "neutral": [0.1, 0.8, 0.1], "positive": [0.1, 0.1, 0.8]}[label]
    return ArticleResult(topic=5, topic_probs=[0.05] * 20, sentiment_label=label, sentiment_score=score,
                         sentiment_probs=probs, entities=entities or [], model_version="v-test")


def aggregate(session, kind: str, key: str) -> SentimentAggregate:  # noqa: ANN001
    return session.scalars(select(SentimentAggregate).where(
        SentimentAggregate.scope_kind == kind, SentimentAggregate.scope_key == key,
        SentimentAggregate.bucket_seconds == 60)).one()


@pytest.fixture()
def own_database_url(database_server_url: str) -> Iterator[str]:
    """A database of this test's own: its counts are exact only when nobody else writes there."""
    with scratch_database(database_server_url, "finsent_writes") as url:
        yield url


def test_redelivery_stores_and_counts_nothing_twice(own_database_url: str) -> None:
    factory = session_factory(own_database_url)
    beats = EntityResult(0, 5, "Apple", "ORG", "AAPL", "positive", 0.9)
    misses = EntityResult(22, 27, "Intel", "ORG", "INTC", "negative", -0.8)
    batch = [
        (item("Apple beats estimates while Intel misses", url="https://x/1"), result("neutral", 0.0, [beats, misses])),
        (item("Apple beats estimates while Intel misses!", source="cnbc", url="https://y/1"),
         result("neutral", 0.0, [beats, misses])),  # a syndicated copy: same story
        (item("Oil slides", url="https://x/2", tickers=["XOM"]), result("negative", -0.7)),
    ]
    with factory.begin() as session:
        first = store_scored_batch(session, batch)
    with factory.begin() as session:
        again = store_scored_batch(session, batch)

    assert (first.inserted_articles, first.duplicate_articles, first.new_stories) == (3, 0, 2)
    assert first.mentions == 4
    assert (again.inserted_articles, again.duplicate_articles, again.outputs) == (0, 3, 0)
    with factory() as session:
        assert session.scalar(select(func.count()).select_from(Article)) == 3
        assert session.scalar(select(func.count()).where(ModelOutput.model_version == "v-test")) == 3
        assert session.scalar(select(func.count()).where(EntityMention.ticker == "AAPL")) == 2
        everything = aggregate(session, "global", "all")
        assert (everything.article_count, everything.story_count) == (3, 2)
        assert (everything.negative_count, everything.neutral_count) == (1, 1)
        # Entity-level sentiment decides the ticker scopes: positive for AAPL, negative for INTC.
        assert aggregate(session, "ticker", "AAPL").positive_count == 1
        assert aggregate(session, "ticker", "INTC").negative_count == 1
        assert aggregate(session, "ticker", "XOM").score_sum == pytest.approx(-0.7)
        assert aggregate(session, "source", "cnbc").story_count == 0  # the copy adds volume, not a story
        assert aggregate(session, "source", "cnbc").article_count == 1


def test_events_and_mention_roles_are_stored_once(own_database_url: str) -> None:
    from model.network.results import EventResult
    from monitor.storage.models import ArticleEvent

    factory = session_factory(own_database_url)
    broker = EntityResult(0, 8, "B. Riley", "ORG", None, "neutral", 0.0, role="source")
    subject = EntityResult(26, 32, "NVIDIA", "ORG", "NVDA", "negative", -0.6, role="subject")
    events = [EventResult("rating_maintain", 0, "NVIDIA", "NVDA", "B. Riley", "pattern", 1.0),
              EventResult("price_target_cut", -1, "NVIDIA", "NVDA", "B. Riley", "pattern", 1.0),
              EventResult("earnings", -1, "NVIDIA", "NVDA", None, "figures", 1.0, "miss",
                          [{"metric": "eps", "actual": 0.4, "estimate": 0.5, "surprise_pct": -20.0}])]
    scored = ArticleResult(topic=0, topic_probs=[0.05] * 20, sentiment_label="negative", sentiment_score=-0.6,
                           sentiment_probs=[0.7, 0.2, 0.1], entities=[broker, subject], model_version="v-test",
                           events=events)
    batch = [(item("B. Riley Maintains Buy on NVIDIA, Lowers Price Target to $250", url="https://x/9"), scored)]
    with factory.begin() as session:
        first = store_scored_batch(session, batch)
    with factory.begin() as session:
        again = store_scored_batch(session, batch)

    assert (first.events, again.events) == (3, 0)
    with factory() as session:
        rows = session.scalars(select(ArticleEvent).order_by(ArticleEvent.ordinal)).all()
        assert [(r.event_type, r.polarity, r.subject_key, r.subject_ticker, r.source, r.origin) for r in rows] == [
            ("rating_maintain", 0, "nvidia", "NVDA", "B. Riley", "pattern"),
            ("price_target_cut", -1, "nvidia", "NVDA", "B. Riley", "pattern"),
            ("earnings", -1, "nvidia", "NVDA", None, "figures")]
        assert rows[2].figures[0]["surprise_pct"] == -20.0
        roles = dict(session.execute(select(EntityMention.text, EntityMention.role)).tuples().all())
        assert roles == {"B. Riley": "source", "NVIDIA": "subject"}


def test_a_wire_retelling_of_an_event_adds_nothing_to_the_event_scope_in_a_later_batch(own_database_url: str) -> None:
    """"Saifun quarterly profit falls", then "UPDATE 1-Saifun Q2 profit falls on costs": one adverse event."""
    from datetime import timedelta

    from model.network.results import EventResult

    factory = session_factory(own_database_url)

    def told(headline: str, url: str, hours: float, event: EventResult) -> tuple[NewsItem, ArticleResult]:
        news = NewsItem(source="reuters", url=url, published_at=WHEN + timedelta(hours=hours), headline=headline)
        return news, ArticleResult(**{**vars(result("negative", -0.6)), "events": [event]})

    falls = EventResult("earnings", -1, "Saifun", None, None, "pattern", 1.0, "down")
    with factory.begin() as session:
        store_scored_batch(session, [told("Saifun quarterly profit falls", "https://x/s1", 0, falls)])
    with factory.begin() as session:
        store_scored_batch(session, [
            told("UPDATE 1-Saifun Q2 profit falls on costs", "https://x/s2", 2, falls),
            told("Saifun Inc CEO resigns", "https://x/s3", 3,
                 EventResult("executive_departure", -1, "Saifun Inc", None, None, "pattern", 1.0))])
    with factory() as session:
        rows = session.scalars(select(SentimentAggregate).where(
            SentimentAggregate.scope_kind == "event", SentimentAggregate.scope_key == "saifun",
            SentimentAggregate.bucket_seconds == 86_400)).all()
        # the first telling (-1) and the new event (-2); the retelling counts as a story with no severity
        assert sum(r.score_sum for r in rows) == pytest.approx(-3.0)


def test_an_event_alert_cites_the_events_and_articles_of_its_key(own_database_url: str) -> None:
    """subject_key is the event scope's key (entity_key: "Moody's" -> "moody"), so evidence is an equality."""
    from datetime import timedelta

    from model.network.results import EventResult
    from monitor.alerts.rules.evaluation import no_sectors
    from monitor.alerts.rules.parse import parse_rules
    from monitor.alerts.rules.store import cited_events, top_articles

    factory = session_factory(own_database_url)
    cut = [EventResult("rating_downgrade", -1, "Moody's", None, "S&P", "pattern", 1.0)]
    batch = [(item("S&P cuts Moody's to sell", url="https://x/m1"), result("negative", -0.8)),
             (item("Moody's Corp rallies", url="https://x/m2"), result("positive", 0.6))]
    batch[0] = (batch[0][0], ArticleResult(**{**vars(batch[0][1]), "events": cut}))
    with factory.begin() as session:
        store_scored_batch(session, batch)
    rule = parse_rules("rules:\n  - {name: ev, scope: event, window: 1h, min_stories: 1,\n"
                       "     detector: {type: threshold, metric: adverse_severity, threshold: 1, baseline: 1h}}\n"
                       "route: {receiver: hook}\nreceivers: [{name: hook, webhook: {url: 'http://127.0.0.1:9/'}}]\n"
                       ).rules[0]
    start, end = WHEN - timedelta(hours=1), WHEN + timedelta(hours=1)
    with factory() as session:
        events = cited_events(session, rule, "moody", start, end)
        articles = top_articles(session, rule, "moody", start, end, no_sectors)
    assert [(e["event_type"], e["polarity"], e["subject"], e["source"]) for e in events] == [
        ("rating_downgrade", -1, "Moody's", "S&P")]
    assert [a["headline"] for a in articles] == ["S&P cuts Moody's to sell"]  # not the one without an event
