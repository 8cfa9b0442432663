"""One truth for "live": every path that moves the registry pointer mirrors it into model_versions,
and a disagreement is found and repaired (worker start, `finsent models sync`) or shown (dashboard).

Real PostgreSQL (a scratch database per module); registry versions are folders with a metadata.json,
which is all the pointer functions read.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import delete, select

from model.serving.registry import LIVE_FILE, METADATA_FILE, live_version, promote
from monitor.storage.db import session_factory
from monitor.storage.model_versions import live_mismatch, promote_live, repair_at_start, rollback_live
from monitor.storage.models import ModelVersion
from tests.databases import scratch_database

pytestmark = pytest.mark.integration
PROJECT_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture()
def url(database_server_url: str) -> Iterator[str]:
    with scratch_database(database_server_url, "finsent_test_live") as scratch:
        yield scratch


@pytest.fixture()
def registry(tmp_path: Path) -> Path:
    for version in ("v20260101-000000-aaaa", "v20260102-000000-bbbb"):
        (tmp_path / version).mkdir()
        (tmp_path / version / METADATA_FILE).write_text(json.dumps({"created_at": "2026-01-01", "profile": "quick",
                                                                    "metrics": {"dev_score": 0.8}}))
    return tmp_path


V1, V2 = "v20260101-000000-aaaa", "v20260102-000000-bbbb"


def table(url: str) -> dict[str, tuple[str, bool, str | None]]:
    with session_factory(url)() as session:
        return {row.version: (row.status, row.is_live, row.decision_reason)
                for row in session.scalars(select(ModelVersion))}


def test_promote_and_rollback_move_the_pointer_and_the_table_together(registry: Path, url: str) -> None:
    promote_live(registry, V1, reason="first", database_url=url)
    assert live_version(registry) == V1 and table(url)[V1][:2] == ("promoted", True)
    promote_live(registry, V2, reason="replaced by v2", database_url=url)
    rows = table(url)
    assert live_version(registry) == V2 and rows[V2][:2] == ("promoted", True)
    assert rows[V1] == ("retired", False, "replaced by v2")
    assert rollback_live(registry, reason="rolled back by alice", database_url=url) == V1
    rows = table(url)
    assert rows[V1][:2] == ("promoted", True) and rows[V2] == ("retired", False, "rolled back by alice")
    with session_factory(url)() as session:
        assert live_mismatch(session, registry) is None


def test_a_database_outage_leaves_the_registry_promoted_and_warns_how_to_repair(
        registry: Path, caplog: pytest.LogCaptureFixture) -> None:
    dead = "postgresql+psycopg2://finsent@127.0.0.1:1/finsent"  # nothing listens on port 1
    with caplog.at_level(logging.WARNING, logger="monitor.storage.model_versions"):
        promote_live(registry, V1, reason="first", database_url=dead)
    assert live_version(registry) == V1
    assert "finsent models sync" in caplog.text


def test_the_worker_start_repairs_a_table_out_of_step(registry: Path, url: str,
                                                      caplog: pytest.LogCaptureFixture) -> None:
    promote_live(registry, V1, reason="first", database_url=url)
    (registry / LIVE_FILE).write_text(V2 + "\n")  # LIVE edited by hand: the table still says V1
    with session_factory(url)() as session:
        mismatch = live_mismatch(session, registry)
    assert mismatch is not None and (mismatch.registry_live, mismatch.table_live) == (V2, (V1,))
    with caplog.at_level(logging.WARNING, logger="monitor.storage.model_versions"):
        assert repair_at_start(registry, url) == mismatch
    assert "repaired model_versions" in caplog.text
    rows = table(url)
    assert rows[V2][:2] == ("promoted", True) and rows[V1][:2] == ("retired", False)
    assert repair_at_start(registry, url) is None  # in step now


def finsent(*args: str, registry: Path, url: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "FINSENT_REGISTRY_DIR": str(registry), "FINSENT_DATABASE_URL": url,
           "FINSENT_MODEL_BACKEND": "torch"}  # torch: `ensure` has no export to prepare for these stub versions
    return subprocess.run([sys.executable, "-m", "finsent.cli", *args], env=env, cwd=PROJECT_ROOT,
                          capture_output=True, text=True, timeout=120)


def test_every_models_command_keeps_the_table_in_step(registry: Path, url: str) -> None:
    promote(registry, V1)  # made live by the registry library alone, as `models ensure` used to (issue #11)
    result = finsent("models", "ensure", registry=registry, url=url)
    assert result.returncode == 0, result.stderr
    assert f"live: {V1}" in result.stdout and table(url)[V1][:2] == ("promoted", True)

    result = finsent("models", "promote", V2, registry=registry, url=url)
    assert result.returncode == 0, result.stderr
    assert table(url)[V2] == ("promoted", True, None) and table(url)[V1][:2] == ("retired", False)

    result = finsent("models", "rollback", registry=registry, url=url)
    assert result.returncode == 0, result.stderr
    assert table(url)[V1][:2] == ("promoted", True)

    with session_factory(url).begin() as session:  # the table lost its rows
        session.execute(delete(ModelVersion))
    result = finsent("models", "sync", registry=registry, url=url)
    assert result.returncode == 0, result.stderr
    assert "repaired" in result.stdout and table(url)[V1][:2] == ("promoted", True)
    assert "already in step" in finsent("models", "sync", registry=registry, url=url).stdout


def test_the_model_page_warns_with_the_repair_command(registry: Path, url: str,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    promote_live(registry, V1, reason="first", database_url=url)
    (registry / LIVE_FILE).write_text(V2 + "\n")
    monkeypatch.setenv("FINSENT_DATABASE_URL", url)
    monkeypatch.setenv("FINSENT_REGISTRY_DIR", str(registry))
    monkeypatch.delenv("FINSENT_DASHBOARD_PASSWORD_HASH", raising=False)
    st.cache_data.clear()
    app = AppTest.from_file(str(PROJECT_ROOT / "dashboards" / "app.py"), default_timeout=60)
    app.run()
    app.switch_page("app_pages/model.py").run()
    assert not app.exception, [e.value for e in app.exception]
    warnings = [str(w.value) for w in app.warning]
    assert any(f"registry says live is {V2}" in w and "`finsent models sync`" in w for w in warnings), warnings

    repair_at_start(registry, url)
    st.cache_data.clear()
    app.run()
    assert not any("Out of step" in str(w.value) for w in app.warning)
