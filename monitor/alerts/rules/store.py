"""The database side of rule evaluation: read aggregates and memory, write rule states and alert rows.

Every function takes a Session and leaves the transaction to the caller, so
`runner.run_once` writes the rule states, the alert rows, the notification
groups and the webhook_deliveries (outbox) rows of one evaluation atomically
(with delivery/store.py): a crash either loses the whole step (redone at the
next tick) or none of it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, or_, select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from monitor.alerts.detectors.observation import Bucket, Observation
from monitor.alerts.rules.config import RuleSpec
from monitor.alerts.rules.evaluation import Evaluation, SectorLookup, SeriesResult, StoredState, render_annotations
from monitor.alerts.rules.lifecycle import SeriesState
from monitor.alerts.rules.series import build_observations, load_range, query_range
from monitor.storage.aggregates import entity_key
from monitor.storage.known_names import names_in
from monitor.storage.models import Alert as AlertRow
from monitor.storage.models import AlertRuleState, Article, ArticleEvent, EntityMention, ModelOutput, SentimentAggregate

EVALUATOR_LOCK_ID = 0x66696E73_616C7274  # "fins" "alrt": one evaluator at a time per database
TOP_ARTICLES = 5


def try_evaluator_lock(session: Session) -> bool:
    """Take the transaction-scoped advisory lock; False when another alerter holds it."""
    return bool(session.execute(text("SELECT pg_try_advisory_xact_lock(:id)"), {"id": EVALUATOR_LOCK_ID}).scalar())


# --- reading ------------------------------------------------------------------

def load_buckets(session: Session, rule: RuleSpec, start: datetime, end: datetime, feed: bool = False,
                 width: int | None = None) -> list[Bucket]:
    """The rule's aggregate rows in [start, end); feed=True: the whole feed's (`global`) rows of the same width.

    A count rule pools its prior over every key of the scope, so its rows are not filtered by `keys`.
    width: another bucket width than the rule's (the replay reads finer rows to know when stories came).
    """
    agg = SentimentAggregate
    query = select(agg.scope_key, agg.bucket_start, agg.article_count, agg.story_count, agg.negative_count,
                   agg.score_sum, agg.positive_count, agg.sources).where(
        agg.scope_kind == ("global" if feed else rule.scope.aggregate_kind),
        agg.bucket_seconds == (width or rule.bucket_seconds), agg.bucket_start >= start, agg.bucket_start < end)
    if rule.scope.keys != "*" and not feed and not rule.detector.pooled:
        query = query.where(agg.scope_key.in_(rule.scope.keys))
    return [Bucket(*row[:-1], tuple(row[-1] or ())) for row in session.execute(query).tuples()]


def load_rule_buckets(session: Session, rule: RuleSpec, now: datetime) -> list[Bucket]:
    return load_buckets(session, rule, *query_range(rule, now))


def load_observations(session: Session, rule: RuleSpec, now: datetime) -> dict[str, Observation]:
    """What the rule sees at now: its keys' windows, plus the feed's volume and the pooled prior when it needs them."""
    start, end = load_range(rule, now)
    needs_feed = rule.detector.pooled or rule.min_sources > 1
    return build_observations(load_buckets(session, rule, start, end), rule, now,
                              load_buckets(session, rule, start, end, feed=True) if needs_feed else ())


def load_states(session: Session) -> dict[tuple[str, str], StoredState]:
    states = {}
    for row in session.scalars(select(AlertRuleState)):
        states[(row.rule_name, row.fingerprint)] = StoredState(
            rule_name=row.rule_name, fingerprint=row.fingerprint,
            scope_key=str(row.detector_state.get("scope_key", "")),
            series=SeriesState(row.state, row.active_since, row.held_at))  # type: ignore[arg-type]
    return states


def top_articles(session: Session, rule: RuleSpec, key: str, start: datetime, end: datetime,
                 sector_of: SectorLookup, limit: int = TOP_ARTICLES) -> list[dict[str, Any]]:
    """The articles that pushed the metric: the most negative (or, for `down` rules, lowest) in the window."""
    score = func.min(ModelOutput.sentiment_score).label("score")
    query = (select(Article.id, Article.headline, Article.source, Article.published_at, Article.tickers, score)
             .join(ModelOutput, ModelOutput.article_id == Article.id)
             .where(Article.published_at >= start, Article.published_at < end)
             .group_by(Article.id, Article.published_at)  # the key of the partitioned table (docs/storage.md)
             .order_by(score, Article.published_at.desc()))
    kind = rule.scope.kind
    if kind == "ticker":
        mentioned = select(EntityMention.article_id).where(EntityMention.ticker == key)
        # ARRAY's any() (`:key = ANY (tickers)`); SQLAlchemy types Mapped attributes' any() as a relationship's
        query = query.where(or_(Article.tickers.any(key), Article.id.in_(mentioned)))  # type: ignore[arg-type]
    elif kind in ("entity", "place"):
        # the key is entity_key(text) ("boeing" for "Boeing's"): candidates by substring, then the same rule
        candidates = session.execute(select(EntityMention.article_id, EntityMention.text).where(
            EntityMention.published_at >= start, EntityMention.published_at < end,
            func.lower(EntityMention.text).contains(key, autoescape=True))).all()
        named = {m.article_id for m in candidates if entity_key(m.text) == key}
        if kind == "entity":  # and the headlines counted on a known name the tagger missed (known_names.py)
            named |= {a.id for a in session.execute(select(Article.id, Article.headline).where(
                Article.published_at >= start, Article.published_at < end,
                func.lower(Article.headline).contains(key, autoescape=True))) if key in names_in(a.headline)}
        query = query.where(Article.id.in_(named))
    elif kind == "event":
        query = query.where(Article.id.in_(_event_articles(key, start, end)))
    elif kind == "topic" and key.isdigit():
        query = query.where(ModelOutput.topic == int(key))
    elif kind == "source":
        query = query.where(Article.source == key)
    rows = session.execute(query.limit(limit * 20 if kind == "sector" else limit)).all()
    if kind == "sector":
        rows = [r for r in rows if any(sector_of(t) == key for t in r.tickers)][:limit]
    return [{"id": r.id, "headline": r.headline, "source": r.source, "published_at": r.published_at.isoformat(),
             "sentiment_score": round(r.score, 4)} for r in rows]


def _event_articles(key: str, start: datetime, end: datetime):  # noqa: ANN202 - a select
    """The ids of the articles with an event about the key (subject_key is the scope's key) in [start, end)."""
    return select(ArticleEvent.article_id).where(ArticleEvent.published_at >= start, ArticleEvent.published_at < end,
                                                 ArticleEvent.subject_key == key)


def cited_events(session: Session, rule: RuleSpec, key: str, start: datetime, end: datetime,
                 limit: int = TOP_ARTICLES) -> list[dict[str, Any]]:
    """The financial events about the alert's company in its window, most adverse first: what an analyst
    reads first ("Q3 EPS miss, -12 %", "Moody's downgrade"). Empty for scopes that are no company."""
    kind = rule.scope.kind
    if kind not in ("entity", "event", "ticker"):
        return []
    query = (select(ArticleEvent.article_id, ArticleEvent.event_type, ArticleEvent.polarity, ArticleEvent.subject,
                    ArticleEvent.source, ArticleEvent.detail, ArticleEvent.figures, ArticleEvent.origin,
                    Article.headline, Article.published_at)
             .join(Article, (Article.id == ArticleEvent.article_id)
                   & (Article.published_at == ArticleEvent.published_at))
             .where(ArticleEvent.published_at >= start, ArticleEvent.published_at < end)
             .order_by(ArticleEvent.polarity, ArticleEvent.published_at))
    query = query.where(ArticleEvent.subject_ticker == key if kind == "ticker" else ArticleEvent.subject_key == key)
    rows = session.execute(query.limit(limit)).all()
    return [{"article_id": r.article_id, "event_type": r.event_type, "polarity": r.polarity, "subject": r.subject,
             "source": r.source, "detail": r.detail, "figures": r.figures, "origin": r.origin,
             "headline": r.headline, "published_at": r.published_at.isoformat()} for r in rows]


# --- writing an evaluation -------------------------------------------------------

def _open_alert(session: Session, fingerprint: str) -> AlertRow | None:
    return session.scalars(select(AlertRow).where(AlertRow.fingerprint == fingerprint,
                                                  AlertRow.status.in_(("pending", "firing")))
                           .order_by(AlertRow.id.desc()).limit(1).with_for_update()).first()


def _evidence(session: Session, result: SeriesResult, now: datetime, sector_of: SectorLookup) -> dict[str, Any]:
    """The detector's numbers plus the window and its top contributing articles."""
    _, end = query_range(result.rule, now)
    window_start = end - result.rule.window
    return result.evidence() | {
        "window_start": window_start.isoformat(), "window_end": end.isoformat(),
        "top_articles": top_articles(session, result.rule, result.scope_key, window_start, end, sector_of),
        "events": cited_events(session, result.rule, result.scope_key, window_start, end)}


def apply_evaluation(session: Session, evaluation: Evaluation, sector_of: SectorLookup) -> None:
    """Store rule states and open, promote, resolve or cancel alert rows for the evaluation's events."""
    now = evaluation.now
    for result in evaluation.results:
        detection = result.judgement.detection
        if result.state.state == "inactive":
            session.execute(delete(AlertRuleState).where(AlertRuleState.rule_name == result.rule.name,
                                                         AlertRuleState.fingerprint == result.fingerprint))
        else:
            values = {"rule_name": result.rule.name, "fingerprint": result.fingerprint, "state": result.state.state,
                      "labels": result.labels, "active_since": result.state.active_since, "last_evaluated_at": now,
                      "held_at": result.state.held_at,
                      "last_value": detection.value if detection else None,
                      "detector_state": {"scope_key": result.scope_key}}
            session.execute(insert(AlertRuleState).values(**values).on_conflict_do_update(
                index_elements=["rule_name", "fingerprint"], set_={k: v for k, v in values.items()
                                                                   if k not in ("rule_name", "fingerprint")}))
        if result.event is None:
            continue
        alert = _open_alert(session, result.fingerprint)
        if result.event in ("pending", "firing"):
            evidence = _evidence(session, result, now, sector_of)
            annotations = render_annotations(result, evidence)
            if alert is None:
                alert = AlertRow(fingerprint=result.fingerprint, rule_name=result.rule.name,
                                 severity=result.rule.severity, starts_at=result.state.active_since or now)
                session.add(alert)
            alert.status, alert.labels, alert.annotations, alert.evidence = (
                result.event, result.labels, annotations, evidence)
        elif result.event == "resolved" and alert is not None:
            alert.status, alert.ends_at = "resolved", now
            alert.evidence = {**alert.evidence, "resolved_value": detection.value if detection else None,
                              "resolved_reason": result.judgement.reason or "below threshold"}
        elif result.event == "cancelled" and alert is not None:
            session.delete(alert)  # never fired, never notified: not an alert episode
    session.flush()


def list_alerts(session: Session, statuses: Sequence[str], since: datetime | None, limit: int) -> list[AlertRow]:
    query = select(AlertRow).where(AlertRow.status.in_(statuses)).order_by(AlertRow.starts_at.desc()).limit(limit)
    if since is not None:
        query = query.where(or_(AlertRow.ends_at.is_(None), AlertRow.ends_at >= since))
    return list(session.scalars(query))
