"""Keep the `model_versions` table in step with the registry (what the dashboard's Model page reads).

The registry on disk (model.serving.registry) is the truth for which version is live;
this table records every version and every decision about it:

- `record_decision`: a retrained candidate, promoted or rejected, with the
  metrics of both models, the data hashes, label counts and duration.
- `sync_live`: after any change of the live pointer, mark the live version
  promoted/is_live, and the version it replaced retired.

Every path that changes the live pointer (`finsent train` promoting its first
model, `finsent models ensure`, `finsent models promote|rollback`, scheduled
retraining) goes through `promote_live` / `rollback_live`, which move the
registry pointer and then mirror it here, so the two never disagree for long.
When they do (the database was down during a promotion, someone edited LIVE by
hand), `live_mismatch` says how; the worker repairs it at start
(`repair_at_start`), the dashboard shows a banner, and by hand:

    finsent models sync        # mirror FINSENT_REGISTRY_DIR's live pointer into model_versions

Functions that take a session leave committing to the caller; the others take the
database as an argument (`database_url`, which the commands and the worker read from
FINSENT_DATABASE_URL, or a `sessions` factory).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session, sessionmaker

from monitor.storage.models import ModelVersion

log = logging.getLogger(__name__)

REPAIR_COMMAND = "finsent models sync"


def record_decision(session: Session, *, version: str, path: Path, status: str, reason: str,
                    metrics: dict[str, Any], data_hashes: dict[str, Any], label_counts: dict[str, Any],
                    duration_s: float, compared_with: str | None, now: datetime | None = None) -> None:
    """Insert or update the row of a judged candidate (status promoted or rejected)."""
    if status not in ("promoted", "rejected"):
        raise ValueError(f"status must be promoted or rejected, got {status!r}")
    now = now or datetime.now(UTC)
    values = {"status": status, "path": str(path), "metrics": metrics, "data_hashes": data_hashes,
              "decision_reason": reason, "label_counts": label_counts, "duration_s": duration_s,
              "compared_with": compared_with, "is_live": False, "promoted_at": now if status == "promoted" else None}
    session.execute(insert(ModelVersion).values(version=version, **values)
                    .on_conflict_do_update(index_elements=["version"], set_=values))


def sync_live(session: Session, registry_dir: Path, reason: str | None = None,
              now: datetime | None = None) -> str | None:
    """Make the table's is_live/status agree with the registry's live pointer; return the live version.

    Versions the registry has but the table lacks (trained with `finsent train`)
    are added as candidates first. The version that stops being live becomes
    retired; `reason` (e.g. "rolled back by alice") is appended to its decision.
    """
    from model.serving.registry import list_versions, live_version

    now = now or datetime.now(UTC)
    registry_dir = Path(registry_dir)
    live = live_version(registry_dir)
    known = set(session.scalars(select(ModelVersion.version)))
    for info in list_versions(registry_dir):
        if info.version not in known:
            session.add(ModelVersion(version=info.version, status="candidate", path=str(info.path),
                                     metrics=info.metrics or {}, data_hashes={}, label_counts={}))
    session.flush()
    for row in session.scalars(select(ModelVersion).where(ModelVersion.is_live, ModelVersion.version != live)):
        row.is_live = False
        row.status = "retired"
        if reason:
            row.decision_reason = f"{row.decision_reason}; {reason}" if row.decision_reason else reason
    if live is not None:
        session.execute(update(ModelVersion).where(ModelVersion.version == live).values(
            is_live=True, status="promoted"))
        session.execute(update(ModelVersion).where(ModelVersion.version == live, ModelVersion.promoted_at.is_(None))
                        .values(promoted_at=now))
    return live


def _check_database(database_url: str | None, sessions: sessionmaker[Session] | None) -> None:
    if database_url is None and sessions is None:
        raise TypeError("model_versions needs the database: pass database_url (settings.database_url) or sessions")


def sync_after_pointer_change(registry_dir: Path, reason: str | None, database_url: str | None = None,
                              sessions: sessionmaker[Session] | None = None) -> str | None:
    """Sync in its own transaction; warn (not fail) if the database is unreachable, since the registry
    change has already happened and workers follow the registry. Returns the live version, None on failure.

    The database: `database_url` or `sessions` (one of them is needed)."""
    from monitor.storage.db import session_factory

    _check_database(database_url, sessions)
    try:
        with (sessions or session_factory(database_url)).begin() as session:
            return sync_live(session, registry_dir, reason=reason)
    except Exception as error:  # noqa: BLE001
        log.warning("model_versions not updated (%s); run `%s` when the database is back", error, REPAIR_COMMAND)
        return None


def promote_live(registry_dir: Path, version: str, reason: str, database_url: str | None = None,
                 sessions: sessionmaker[Session] | None = None) -> None:
    """The one way to make `version` live: move the registry pointer, then mirror it into model_versions.

    The registry goes first because workers follow it; a database outage only
    delays the mirror (a warning, and the worker repairs it at its next start).
    """
    from model.serving.registry import promote

    _check_database(database_url, sessions)
    promote(Path(registry_dir), version)
    sync_after_pointer_change(registry_dir, reason, database_url, sessions)


def rollback_live(registry_dir: Path, reason: str, database_url: str | None = None,
                  sessions: sessionmaker[Session] | None = None) -> str:
    """Make the previously live version live again (registry, then model_versions); return it."""
    from model.serving.registry import rollback

    _check_database(database_url, sessions)
    version = rollback(Path(registry_dir))
    sync_after_pointer_change(registry_dir, reason, database_url, sessions)
    return version


@dataclass(frozen=True)
class LiveMismatch:
    """The registry's live pointer and model_versions.is_live disagree."""

    registry_live: str | None
    table_live: tuple[str, ...]

    def describe(self) -> str:
        table = ", ".join(self.table_live) if self.table_live else "none"
        return (f"the model registry says live is {self.registry_live or 'none'}, "
                f"model_versions says {table}; repair with `{REPAIR_COMMAND}`")


def compare_live(registry_live: str | None, table_live: list[str] | tuple[str, ...]) -> LiveMismatch | None:
    """A mismatch, or None when the table marks exactly the registry's live version (or none of both)."""
    expected = {registry_live} if registry_live else set()
    if set(table_live) == expected:
        return None
    return LiveMismatch(registry_live, tuple(sorted(table_live)))


def live_mismatch(session: Session, registry_dir: Path) -> LiveMismatch | None:
    """Compare the registry's live pointer with the rows marked is_live."""
    from model.serving.registry import live_version

    table_live = list(session.scalars(select(ModelVersion.version).where(ModelVersion.is_live)))
    return compare_live(live_version(Path(registry_dir)), table_live)


def repair_at_start(registry_dir: Path, database_url: str) -> LiveMismatch | None:
    """Worker start: when the table disagrees with the registry, mirror the registry (the truth the
    worker serves) into it and log what was repaired. Never fails the start: returns the mismatch found."""
    from monitor.storage.db import session_factory

    try:
        with session_factory(database_url).begin() as session:
            mismatch = live_mismatch(session, registry_dir)
            if mismatch is not None:
                sync_live(session, registry_dir, reason="repaired at worker start")
    except Exception as error:  # noqa: BLE001 - the worker's own store retries cover an outage
        log.warning("could not compare model_versions with the registry (%s); run `%s` later",
                    error, REPAIR_COMMAND)
        return None
    if mismatch is not None:
        log.warning("repaired model_versions: %s", mismatch.describe().split("; repair")[0])
    return mismatch
