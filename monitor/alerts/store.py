"""The database side of alerting: read aggregates and memory, write alerts and the outbox.

Every function takes a Session and leaves the transaction to the caller, so
`runner.run_once` writes the rule states, the alert rows, the notification
groups and the webhook_deliveries (outbox) rows of one evaluation atomically:
a crash either loses the whole step (redone at the next tick) or none of it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, or_, select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from monitor.alerts.evaluation import Evaluation, SectorLookup, SeriesResult, StoredState, render_annotations
from monitor.alerts.lifecycle import SeriesState
from monitor.alerts.matchers import (
    Matcher,
    MatcherError,
    as_matchers,
    describe,
    load_matchers,
    matches_all,
    matches_empty,
)
from monitor.alerts.matching import SilenceView
from monitor.alerts.notifications import AlertView, GroupState, NotificationPlan
from monitor.alerts.payload import webhook_payload
from monitor.alerts.rules_file import RulesFile, RuleSpec
from monitor.alerts.series import Bucket, Observation, build_observations, load_range, query_range
from monitor.storage.aggregates import entity_key
from monitor.storage.known_names import names_in
from monitor.storage.models import Alert as AlertRow
from monitor.storage.models import (
    AlertGroup,
    AlertRuleState,
    Article,
    ArticleEvent,
    EntityMention,
    ModelOutput,
    SentimentAggregate,
    Silence,
    WebhookDelivery,
)

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
    if rule.scope.keys != "*" and not feed and rule.detector.type != "count":
        query = query.where(agg.scope_key.in_(rule.scope.keys))
    return [Bucket(*row[:-1], tuple(row[-1] or ())) for row in session.execute(query)]


def load_rule_buckets(session: Session, rule: RuleSpec, now: datetime) -> list[Bucket]:
    return load_buckets(session, rule, *query_range(rule, now))


def load_observations(session: Session, rule: RuleSpec, now: datetime) -> dict[str, Observation]:
    """What the rule sees at now: its keys' windows, plus the feed's volume and the pooled prior when it needs them."""
    start, end = load_range(rule, now)
    needs_feed = rule.detector.type == "count" or rule.min_sources > 1
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
        query = query.where(or_(Article.tickers.any(key), Article.id.in_(mentioned)))
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


# --- notifications ------------------------------------------------------------

def _view(row: AlertRow) -> AlertView:
    return AlertView(id=row.id, fingerprint=row.fingerprint, rule_name=row.rule_name, status=row.status,
                     labels=row.labels, annotations=row.annotations, evidence=row.evidence,
                     starts_at=row.starts_at, ends_at=row.ends_at)


def load_groups(session: Session) -> dict[tuple[str, str], GroupState]:
    return {(g.receiver, g.group_key): GroupState(g.receiver, g.group_key, g.group_labels, g.first_seen_at,
                                                  g.last_notified_at, dict(g.notified))
            for g in session.scalars(select(AlertGroup))}


def load_alert_views(session: Session, groups: Iterable[GroupState]) -> tuple[list[AlertView], dict[str, AlertView]]:
    """Every firing alert, and the latest resolved alert of fingerprints that groups last sent as firing."""
    firing = [_view(r) for r in session.scalars(select(AlertRow).where(AlertRow.status == "firing")
                                                .order_by(AlertRow.id))]
    firing_fps = {a.fingerprint for a in firing}
    wanted = {fp for g in groups for fp, s in g.notified.items() if s == "firing"} - firing_fps
    resolved: dict[str, AlertView] = {}
    if wanted:
        for row in session.scalars(select(AlertRow).where(AlertRow.fingerprint.in_(wanted),
                                                          AlertRow.status == "resolved").order_by(AlertRow.id)):
            resolved[row.fingerprint] = _view(row)
    return firing, resolved


def load_resolved_now(session: Session, fingerprints: Iterable[str], now: datetime) -> list[AlertView]:
    """The alerts of these fingerprints that resolved at now (this evaluation): what the Alertmanager sink sends."""
    wanted = set(fingerprints)
    if not wanted:
        return []
    return [_view(r) for r in session.scalars(select(AlertRow).where(
        AlertRow.fingerprint.in_(wanted), AlertRow.status == "resolved", AlertRow.ends_at == now)
        .order_by(AlertRow.id))]


def load_silences(session: Session, now: datetime) -> list[SilenceView]:
    rows = session.scalars(select(Silence).where(Silence.starts_at <= now, Silence.ends_at > now)
                           .order_by(Silence.id))
    return [SilenceView(r.id, tuple(load_matchers(r.matchers)), r.starts_at, r.ends_at, r.created_by, r.comment)
            for r in rows]


def apply_plan(session: Session, plan: NotificationPlan, rules: RulesFile) -> int:
    """Write group memory and one outbox row per notification; returns the rows written."""
    for receiver, group_key in plan.delete_groups:
        session.execute(delete(AlertGroup).where(AlertGroup.receiver == receiver, AlertGroup.group_key == group_key))
    for group in plan.upsert_groups:
        values = {"receiver": group.receiver, "group_key": group.group_key, "group_labels": group.group_labels,
                  "first_seen_at": group.first_seen_at, "last_notified_at": group.last_notified_at,
                  "notified": group.notified}
        session.execute(insert(AlertGroup).values(**values).on_conflict_do_update(
            index_elements=["receiver", "group_key"],
            set_={k: v for k, v in values.items() if k not in ("receiver", "group_key")}))
    written = 0
    for notification in plan.notifications:
        webhook = rules.receiver(notification.receiver).webhook
        payload = webhook_payload(notification, rules.global_.external_url, webhook.max_alerts)
        result = session.execute(insert(WebhookDelivery).values(
            alert_id=min(a.id for a in notification.alerts), receiver=notification.receiver, payload=payload,
            idempotency_key=notification.idempotency_key).on_conflict_do_nothing(index_elements=["idempotency_key"]))
        written += result.rowcount or 0
    return written


# --- silences and listings (CLI, dashboard) ---------------------------------------

MAX_SILENCE = timedelta(days=30)  # longer than this is a rule change, not a silence someone will remember


class SilenceError(ValueError):
    """A silence that cannot be stored; the message names the field, so CLI and dashboard show it as is."""


AUTHOR_MAX_CHARS: int = Silence.__table__.c.created_by.type.length  # type: ignore[attr-defined]
MatcherInput = Mapping[str, str] | Sequence[Matcher | str | Mapping[str, Any]]


def silence_matchers(given: MatcherInput) -> list[Matcher]:
    """Alertmanager matchers from texts (`ticker=~"B.*"`), Matchers, or an old `{label: value}` map of equalities."""
    try:
        return as_matchers(given)
    except MatcherError as error:
        raise SilenceError(f"matchers: {error}") from None


def check_silence(matchers: MatcherInput, duration: timedelta, created_by: str) -> str:
    """Refuse a silence without matchers, with a bad matcher, longer than MAX_SILENCE, or without a (short enough)
    author; returns the author.

    Separate from create_silence so the CLI can refuse bad input before it connects to the database
    (whether the set would mute every alert needs the stored alerts: create_silence checks that).
    """
    if not silence_matchers(matchers):
        raise SilenceError("matchers: choose at least one label to match, or the silence would mute every alert")
    if not timedelta(minutes=1) <= duration <= MAX_SILENCE:
        raise SilenceError(f"duration: expected between 1 minute and {MAX_SILENCE.days} days, got {duration}")
    author = created_by.strip()
    if not author:
        raise SilenceError("author: required, so whoever sees the silence knows whom to ask "
                           "(--author on the command line, your name in the dashboard's sidebar)")
    if len(author) > AUTHOR_MAX_CHARS:
        raise SilenceError(f"author: at most {AUTHOR_MAX_CHARS} characters, got {len(author)}")
    return author


def silence_preview(session: Session, matchers: MatcherInput) -> list[AlertRow]:
    """The stored firing and pending alerts the matchers would mute now, oldest first."""
    wanted = silence_matchers(matchers)
    rows = session.scalars(select(AlertRow).where(AlertRow.status.in_(("firing", "pending"))).order_by(AlertRow.id))
    return [row for row in rows if matches_all(wanted, row.labels)]


def check_not_everything(session: Session, matchers: MatcherInput) -> None:
    """Refuse a set that matches an alert with no labels *and* every firing or pending alert stored now.

    Such a set (`alertname=~".*"`, `ticker!=""`-style matchers only) mutes everything, today and tomorrow;
    `--force` (CLI) / "Silence everything matching" (dashboard) create it anyway. A set that matches an
    unlabelled alert but leaves some stored alert unmuted (`ticker!=BA` while BA fires) is allowed.
    """
    wanted = silence_matchers(matchers)
    if not matches_empty(wanted):
        return
    rows = list(session.scalars(select(AlertRow).where(AlertRow.status.in_(("firing", "pending")))))
    if all(matches_all(wanted, row.labels) for row in rows):
        raise SilenceError(f"matchers: {describe(wanted)} would silence every alert (it matches an alert without "
                           f"these labels and all {len(rows)} firing or pending now); name a label value that "
                           f"must be present, or use --force")


def create_silence(session: Session, matchers: MatcherInput, duration: timedelta, created_by: str,
                   comment: str = "", starts_at: datetime | None = None, force: bool = False) -> Silence:
    """Mute alerts whose labels match all `matchers` from starts_at (default now) for `duration`.

    The one way silences are made (`finsent alerts silence` and the dashboard), so
    every silence is bounded, signed and not accidentally everything, whichever door
    it came through. The matchers are stored as Alertmanager's v2 API has them:
    `[{"name", "value", "isRegex", "isEqual"}, ...]`.
    """
    author = check_silence(matchers, duration, created_by)
    if not force:
        check_not_everything(session, matchers)
    starts_at = starts_at or datetime.now(UTC)
    silence = Silence(matchers=[m.as_dict() for m in silence_matchers(matchers)], starts_at=starts_at,
                      ends_at=starts_at + duration, created_by=author, comment=comment.strip())
    session.add(silence)
    session.flush()
    return silence


def expire_silence(session: Session, silence_id: int, now: datetime) -> bool:
    """End a silence now (kept as history); False when there is no such active silence."""
    silence = session.get(Silence, silence_id)
    if silence is None or silence.ends_at <= now:
        return False
    silence.ends_at = max(now, silence.starts_at)
    return True


def list_alerts(session: Session, statuses: Sequence[str], since: datetime | None, limit: int) -> list[AlertRow]:
    query = select(AlertRow).where(AlertRow.status.in_(statuses)).order_by(AlertRow.starts_at.desc()).limit(limit)
    if since is not None:
        query = query.where(or_(AlertRow.ends_at.is_(None), AlertRow.ends_at >= since))
    return list(session.scalars(query))


def list_deliveries(session: Session, statuses: Sequence[str], limit: int) -> list[WebhookDelivery]:
    return list(session.scalars(select(WebhookDelivery).where(WebhookDelivery.status.in_(statuses))
                                .order_by(WebhookDelivery.id.desc()).limit(limit)))


def list_silences(session: Session, now: datetime, include_expired: bool) -> list[Silence]:
    query = select(Silence).order_by(Silence.id.desc())
    if not include_expired:
        query = query.where(Silence.ends_at > now)
    return list(session.scalars(query))
