"""Keep the `model_versions` table in step with the registry (what the dashboard's Model page reads).

The registry on disk (model.registry) is the truth for which version is live;
this table records every version and every decision about it:

- `record_decision`: a retrained candidate, promoted or rejected, with the
  metrics of both models, the data hashes, label counts and duration.
- `sync_live`: after any change of the live pointer (`finsent models promote`,
  `finsent models rollback`, or a promotion here), mark the live version
  promoted/is_live, and the version it replaced retired. Run it from the shell:

      python -m monitor.retrain.records        # sync FINSENT_REGISTRY_DIR into FINSENT_DATABASE_URL

All functions take the caller's session; the caller commits.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from monitor.storage.models import ModelVersion


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
    from model.registry import list_versions, live_version

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


def sync_after_pointer_change(registry_dir: Path, reason: str, database_url: str | None = None) -> str | None:
    """One call for `finsent models promote/rollback`: sync in its own transaction, warn (not fail) if the
    database is unreachable, since the registry change has already happened and workers follow the registry."""
    import logging

    from monitor.storage.db import session_factory

    try:
        with session_factory(database_url).begin() as session:
            return sync_live(session, registry_dir, reason=reason)
    except Exception as error:  # noqa: BLE001
        logging.getLogger(__name__).warning("model_versions not updated (%s); run `python -m "
                                            "monitor.retrain.records` when the database is back", error)
        return None


if __name__ == "__main__":  # pragma: no cover - a manual repair
    from monitor.settings import get_settings
    from monitor.storage.db import session_factory

    with session_factory().begin() as session:
        print(f"live: {sync_live(session, get_settings().registry_dir, reason='synced by hand')}")
