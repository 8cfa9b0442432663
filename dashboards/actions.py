"""The writes an analyst makes from the dashboard: silence, acknowledge, correct a label.

Each function takes a Session and leaves the transaction to the caller
(`with session_factory(url).begin() as session:`), validates its input with
an error that names the field, and touches only the tables and columns that
the `finsent_dashboard` database role may write (see dashboards/grants.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from model.network.labels import ENTITY_TYPES, SENTIMENT_LABELS, TOPIC_LABELS
from monitor.alerts.delivery import alertmanager_api
from monitor.alerts.silences import store as silence_store
from monitor.alerts.silences.matchers import Matcher, describe, matches_all, matches_empty
from monitor.storage.models import Alert, AnalystLabel, Article, Silence

LABEL_TASKS = ("sentiment", "topic", "entities", "entity-sentiment")  # as monitor/retrain/labels.py reads them


class ActionError(ValueError):
    """An analyst's input that cannot be stored; the message names the field."""


def _require_author(author: str) -> str:
    author = author.strip()
    if not author:
        raise ActionError("author: enter your name in the sidebar before acting")
    return author


def acknowledge_alert(session: Session, alert_id: int, acknowledged_by: str) -> None:
    """Record who took ownership of an alert; it keeps firing (acknowledging is not silencing)."""
    result = session.execute(update(Alert).where(Alert.id == alert_id).values(
        acknowledged_by=_require_author(acknowledged_by), acknowledged_at=datetime.now(UTC)))
    if result.rowcount == 0:  # type: ignore[attr-defined]
        raise ActionError(f"alert_id: no alert {alert_id}")


def silence_matchers(chosen_labels: dict[str, str], more: str = "") -> list[Matcher]:
    """The page's matchers: equality on the chosen labels, plus one Alertmanager matcher per line of `more`
    (`ticker!=BA`, `alertname=~"drift.*"`), parsed and checked by the CLI's code."""
    lines = [line.strip() for line in more.splitlines() if line.strip()]
    try:
        return silence_store.silence_matchers([*(Matcher(k, str(v)) for k, v in chosen_labels.items()), *lines])
    except silence_store.SilenceError as error:
        raise ActionError(str(error)) from None


def preview_silence(session: Session, matchers: list[Matcher]) -> list[Alert]:
    """The firing and pending alerts the matchers would mute now (monitor.alerts.silences.store.silence_preview)."""
    try:
        return silence_store.silence_preview(session, matchers)
    except silence_store.SilenceError as error:
        raise ActionError(str(error)) from None


def create_silence(session: Session, matchers: silence_store.MatcherInput, duration: timedelta, created_by: str,
                   comment: str = "", starts_at: datetime | None = None, force: bool = False) -> Silence:
    """monitor.alerts.silences.store.create_silence (the one the CLI uses), its refusals as ActionError for the page."""
    try:
        return silence_store.create_silence(session, matchers, duration, created_by, comment, starts_at, force=force)
    except silence_store.SilenceError as error:
        raise ActionError(str(error)) from None


# --- silences in Alertmanager (FINSENT_ALERTMANAGER_URL set: the Alerts page calls these) ----------

def alertmanager_silences(alertmanager_url: str, include_expired: bool = False) -> list[dict[str, Any]]:
    """Alertmanager's silences (`GET /api/v2/silences`), active and pending first."""
    try:
        return alertmanager_api.list_silences(alertmanager_url, include_expired=include_expired)
    except alertmanager_api.AlertmanagerError as error:
        raise ActionError(f"Alertmanager: {error}") from None


def preview_alertmanager_silence(alertmanager_url: str, matchers: list[Matcher]) -> list[dict[str, Any]]:
    """Alertmanager's alerts (`GET /api/v2/alerts`, active or already muted) that the matchers would silence."""
    try:
        found = alertmanager_api.get_alerts(alertmanager_url)
    except alertmanager_api.AlertmanagerError as error:
        raise ActionError(f"Alertmanager: {error}") from None
    return [alert for alert in found if matches_all(matchers, alert.get("labels", {}))]


def create_alertmanager_silence(alertmanager_url: str, matchers: silence_store.MatcherInput, duration: timedelta,
                                created_by: str, comment: str = "", starts_at: datetime | None = None) -> str:
    """Create a silence in Alertmanager (`POST /api/v2/silences`); returns its id.

    The same checks as finsent's own silences (at least one matcher, valid names and RE2 regexes, 1 minute to
    30 days, an author that fits), plus Alertmanager's own rule, said before it refuses: some matcher must not
    match the empty string (a set such as `alertname=~".*"` alone would mute every alert).
    """
    try:
        author = silence_store.check_silence(matchers, duration, created_by)
        wanted = silence_store.silence_matchers(matchers)
    except silence_store.SilenceError as error:
        raise ActionError(str(error)) from None
    if matches_empty(wanted):
        raise ActionError(f"matchers: {describe(wanted)} matches an alert without these labels, so it would silence "
                          f"every alert, and Alertmanager refuses that: name a label value that must be present")
    starts_at = starts_at or datetime.now(UTC)
    try:
        return alertmanager_api.create_silence(alertmanager_url, wanted, starts_at, starts_at + duration, author,
                                               comment.strip())
    except alertmanager_api.AlertmanagerError as error:
        raise ActionError(f"Alertmanager: {error}") from None


def expire_alertmanager_silence(alertmanager_url: str, silence_id: str) -> None:
    """End an Alertmanager silence now (`DELETE /api/v2/silence/{id}`)."""
    try:
        alertmanager_api.expire_silence(alertmanager_url, silence_id)
    except alertmanager_api.AlertmanagerError as error:
        raise ActionError(f"Alertmanager: {error}") from None


@dataclass(frozen=True)
class EntityCorrection:
    """One entity as the analyst says it should be: its text must occur in the headline."""

    text: str
    entity_type: str
    sentiment_label: str


def sentiment_label(sentiment: str, previous: str | None) -> dict[str, Any]:
    """The analyst_labels.label JSON of a sentiment correction."""
    if sentiment not in SENTIMENT_LABELS:
        raise ActionError(f"sentiment: expected one of {', '.join(SENTIMENT_LABELS)}, got {sentiment!r}")
    return {"sentiment": sentiment, "previous": previous}


def topic_label(topic: int, previous: int | None) -> dict[str, Any]:
    """The analyst_labels.label JSON of a topic correction (id and name, so either survives a renaming)."""
    if not 0 <= topic < len(TOPIC_LABELS):
        raise ActionError(f"topic: expected an id in 0..{len(TOPIC_LABELS) - 1}, got {topic!r}")
    return {"topic": topic, "topic_name": TOPIC_LABELS[topic], "previous": previous}


def entities_label(headline: str, entities: list[EntityCorrection]) -> dict[str, Any]:
    """The analyst_labels.label JSON of an entity correction: character spans into the headline."""
    spans = []
    for row, entity in enumerate(entities, start=1):
        text = entity.text.strip()
        if not text:
            raise ActionError(f"entities row {row}: text is empty")
        start = headline.find(text)
        if start < 0:
            raise ActionError(f"entities row {row}: {text!r} does not occur in the headline")
        if entity.entity_type not in ENTITY_TYPES:
            raise ActionError(f"entities row {row}: type must be one of {', '.join(ENTITY_TYPES)}, "
                              f"got {entity.entity_type!r}")
        if entity.sentiment_label not in SENTIMENT_LABELS:
            raise ActionError(f"entities row {row}: sentiment must be one of {', '.join(SENTIMENT_LABELS)}, "
                              f"got {entity.sentiment_label!r}")
        spans.append({"start": start, "end": start + len(text), "text": text, "type": entity.entity_type,
                      "sentiment": entity.sentiment_label})
    return {"entities": spans}


def record_label(session: Session, article_id: str, task: str, label: dict[str, Any], author: str,
                 model_version: str | None = None) -> AnalystLabel:
    """Store one correction with who made it; created_at is set by the database."""
    if task not in LABEL_TASKS:
        raise ActionError(f"task: expected one of {', '.join(LABEL_TASKS)}, got {task!r}")
    if session.scalar(select(Article.id).where(Article.id == article_id)) is None:
        raise ActionError(f"article_id: no article {article_id!r}")
    row = AnalystLabel(article_id=article_id, task=task, label={**label, "model_version": model_version},
                       author=_require_author(author))
    session.add(row)
    session.flush()
    return row
