"""The database side of silences: make, end, list and load them, and what a new one would mute.

`create_silence` is the one way silences are made (`finsent alerts silence`
and the dashboard, dashboards/actions.py), so every silence is bounded, signed
and not accidentally everything, whichever door it came through. The engine
reads the active ones each step (`load_silences`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from monitor.alerts.silences.matchers import (
    Matcher,
    MatcherError,
    as_matchers,
    describe,
    load_matchers,
    matches_all,
    matches_empty,
)
from monitor.alerts.silences.matching import SilenceView
from monitor.storage.models import Alert as AlertRow
from monitor.storage.models import Silence

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


def list_silences(session: Session, now: datetime, include_expired: bool) -> list[Silence]:
    query = select(Silence).order_by(Silence.id.desc())
    if not include_expired:
        query = query.where(Silence.ends_at > now)
    return list(session.scalars(query))


def load_silences(session: Session, now: datetime) -> list[SilenceView]:
    rows = session.scalars(select(Silence).where(Silence.starts_at <= now, Silence.ends_at > now)
                           .order_by(Silence.id))
    return [SilenceView(r.id, tuple(load_matchers(r.matchers)), r.starts_at, r.ends_at, r.created_by, r.comment)
            for r in rows]
