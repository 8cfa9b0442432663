"""Each dashboard page rendered by Streamlit's AppTest against the real PostgreSQL.

The test database is seeded through the project's storage code (see
dashboard_seeding.py); the app is pointed at it with FINSENT_DATABASE_URL.
Action tests click the buttons and then read the database directly.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select
from streamlit.testing.v1 import AppTest

from dashboards.auth import hash_password
from monitor.storage.db import session_factory
from monitor.storage.models import Alert, AnalystLabel, Silence
from tests.databases import scratch_database
from tests.integration.dashboard_seeding import MODEL_VERSION, SeededDashboard, seed_dashboard_data

pytestmark = pytest.mark.integration

APP = Path(__file__).resolve().parents[2] / "dashboards" / "app.py"


def unused_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def seeded(database_url: str) -> SeededDashboard:
    return seed_dashboard_data(database_url)


@pytest.fixture()
def app(database_url: str, seeded: SeededDashboard, monkeypatch: pytest.MonkeyPatch) -> Iterator[AppTest]:
    monkeypatch.setenv("FINSENT_DATABASE_URL", database_url)
    monkeypatch.setenv("FINSENT_METRICS_PORT", str(unused_port()))  # no worker: the health panel falls back
    monkeypatch.delenv("FINSENT_DASHBOARD_PASSWORD_HASH", raising=False)
    yield AppTest.from_file(str(APP), default_timeout=60)


def open_page(app: AppTest, page: str | None = None) -> AppTest:
    app.run()
    if page is not None:
        app.switch_page(f"app_pages/{page}.py").run()
    assert not app.exception, [e.value for e in app.exception]
    return app


def page_text(app: AppTest) -> str:
    """Everything a reader sees as text: markdown, captions, alerts, metrics, tables, pickers."""
    parts: list[str] = []
    for kind in ("title", "subheader", "markdown", "caption", "info", "success", "warning", "error"):
        parts += [str(element.value) for element in getattr(app, kind)]
    parts += [f"{m.label}: {m.value}" for m in app.metric]
    parts += [frame.value.to_string() for frame in app.dataframe]
    parts += [str(box.value) for box in app.selectbox]
    return "\n".join(parts)


def metric(app: AppTest, label: str) -> str:
    return next(m.value for m in app.metric if m.label == label)


def test_overview_shows_totals_movers_and_the_firing_alert(app: AppTest, seeded: SeededDashboard) -> None:
    open_page(app)
    text = page_text(app)
    assert metric(app, "Alerts firing") == "1"
    assert metric(app, "Articles") == "8"  # the fixture articles of the last 24 h; 5 more are days older
    assert seeded.firing_rule in text
    movers = next(frame.value for frame in app.dataframe if "ticker" in frame.value.columns)
    assert movers.iloc[0]["ticker"] == "AAPL"  # four positive stories last week, four negative ones today
    assert movers.iloc[0]["shift"] < -1.0
    assert "Metrics endpoint not reachable" in text
    assert MODEL_VERSION in text


def test_overview_narrows_to_one_source(app: AppTest) -> None:
    open_page(app)
    scope = app.selectbox(key="overview_scope")
    assert scope.options[0] == "All news" and "Source: reuters" in scope.options
    scope.select(("source", "reuters")).run()
    assert not app.exception
    assert metric(app, "Articles") == "3"  # reuters wrote 3 of the 8 articles of the last 24 h


def test_entity_page_shows_the_tickers_articles_with_entities(app: AppTest, seeded: SeededDashboard) -> None:
    open_page(app, "entity")
    assert app.selectbox(key="entity_ticker").value == seeded.ticker
    text = page_text(app)
    assert "</mark> cuts iPhone production targets as <mark" in text
    assert '<mark title="ORG · AAPL · negative"' in text  # the entity highlighted with its sentiment
    assert "Foxconn" in text


def test_topics_page_names_the_topics(app: AppTest) -> None:
    open_page(app, "topics")
    totals = next(frame.value for frame in app.dataframe if "topic" in frame.value.columns)
    assert {"Company / Product News", "Earnings", "Fed / Central Banks"} <= set(totals["topic"])


def test_alerts_page_shows_evidence_and_delivery_status(app: AppTest, seeded: SeededDashboard) -> None:
    open_page(app, "alerts")
    text = page_text(app)
    assert seeded.firing_rule in text
    assert "</mark> shares slide 4% after weak" in text  # an evidence article, entities marked
    deliveries = next(frame.value for frame in app.dataframe if "receiver" in frame.value.columns)
    assert dict(zip(deliveries["receiver"], deliveries["status"], strict=True)) == {"slack-desk": "delivered",
                                                                                   "pager": "dead"}


def test_model_page_shows_versions_and_the_live_one(app: AppTest) -> None:
    open_page(app, "model")
    assert f"**`{MODEL_VERSION}`**" in page_text(app)  # the "Live version" figure
    versions = next(frame.value for frame in app.dataframe if "version" in frame.value.columns)
    assert len(versions) == 2
    assert versions.set_index("version").at[MODEL_VERSION, "sentiment.macro_f1"] == pytest.approx(0.83)


def test_silence_is_stored_with_the_alerts_labels(app: AppTest, seeded: SeededDashboard, database_url: str) -> None:
    open_page(app, "alerts")
    app.sidebar.text_input(key="analyst_name").input("j.doe").run()
    next(box for box in app.main.text_input if box.label == "Comment").input("known supplier news")
    next(b for b in app.button if b.label == "Silence").click().run()
    assert not app.exception
    assert not app.error, [e.value for e in app.error]
    with session_factory(database_url).begin() as session:
        silence = session.scalars(select(Silence).where(Silence.created_by == "j.doe")).one()
    # by default the series' identity: the rule and its ticker, not every label (sector, severity)
    assert silence.matchers == {"alertname": seeded.firing_rule, "ticker": "AAPL"}
    assert silence.comment == "known supplier news"
    assert (silence.ends_at - silence.starts_at).total_seconds() == 4 * 3600
    assert "Silence #" in page_text(app)


def test_acknowledge_records_who(app: AppTest, seeded: SeededDashboard, database_url: str) -> None:
    open_page(app, "alerts")
    app.sidebar.text_input(key="analyst_name").input("a.analyst").run()
    app.button(key="acknowledge").click().run()
    assert not app.exception
    with session_factory(database_url).begin() as session:
        alert = session.get(Alert, seeded.firing_alert_id)
        assert alert is not None
        assert alert.acknowledged_by == "a.analyst" and alert.acknowledged_at is not None


def test_an_action_without_a_name_is_refused(app: AppTest, database_url: str) -> None:
    open_page(app, "alerts")
    with session_factory(database_url).begin() as session:
        before = len(session.scalars(select(Silence)).all())
    next(b for b in app.button if b.label == "Silence").click().run()
    assert "author: enter your name in the sidebar" in page_text(app)
    with session_factory(database_url).begin() as session:
        assert len(session.scalars(select(Silence)).all()) == before


def test_sentiment_correction_is_stored_with_author(app: AppTest, seeded: SeededDashboard, database_url: str) -> None:
    open_page(app, "labelling")
    app.sidebar.text_input(key="analyst_name").input("k.lee").run()
    app.selectbox(key="label_article").select(seeded.article_id).run()
    app.radio[0].set_value("neutral")  # inside a form: sent with the submit click
    next(b for b in app.button if b.label == "Save sentiment").click().run()
    assert not app.exception
    with session_factory(database_url).begin() as session:
        label = session.scalars(select(AnalystLabel).where(AnalystLabel.author == "k.lee")).one()
    assert label.article_id == seeded.article_id and label.task == "sentiment"
    assert label.label == {"sentiment": "neutral", "previous": "negative", "model_version": MODEL_VERSION}
    assert label.created_at is not None


def test_entity_correction_is_stored_as_spans(app: AppTest, seeded: SeededDashboard, database_url: str) -> None:
    open_page(app, "labelling")
    app.sidebar.text_input(key="analyst_name").input("m.ng").run()
    app.selectbox(key="label_article").select(seeded.article_id).run()
    next(b for b in app.button if b.label == "Save entities").click().run()  # the model's entities, confirmed
    assert not app.exception
    with session_factory(database_url).begin() as session:
        label = session.scalars(select(AnalystLabel).where(AnalystLabel.author == "m.ng")).one()
    assert label.task == "entities"
    assert [(e["start"], e["end"], e["text"], e["type"]) for e in label.label["entities"]] == [
        (0, 5, "Apple", "ORG"), (40, 47, "Foxconn", "ORG")]


def test_a_configured_password_is_required(app: AppTest, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FINSENT_DASHBOARD_PASSWORD_HASH", hash_password("s3cret", iterations=1_000))
    app.run()
    assert not app.metric  # nothing but the sign-in form
    app.text_input[0].input("wrong")
    next(b for b in app.button if b.label == "Sign in").click().run()
    assert "Wrong password." in page_text(app)
    app.text_input[0].input("s3cret")
    next(b for b in app.button if b.label == "Sign in").click().run()
    assert not app.exception
    assert metric(app, "Alerts firing") == "1"


@pytest.fixture()
def fresh_database_url(database_server_url: str) -> Iterator[str]:
    """A migrated database with no rows at all: what a new deployment shows before the worker runs."""
    with scratch_database(database_server_url, "finsent_test_dash_empty") as url:
        yield url


@pytest.mark.parametrize("page", [None, "entity", "topics", "alerts", "model", "labelling"])
def test_every_page_explains_an_empty_database(page: str | None, fresh_database_url: str,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FINSENT_DATABASE_URL", fresh_database_url)
    monkeypatch.setenv("FINSENT_METRICS_PORT", str(unused_port()))
    monkeypatch.delenv("FINSENT_DASHBOARD_PASSWORD_HASH", raising=False)
    app = open_page(AppTest.from_file(str(APP), default_timeout=60), page)
    text_shown = page_text(app)
    expected = {"alerts": "No alerts match in this time range.",
                "model": "No model versions recorded yet"}.get(page or "", "No data yet — is the worker running?")
    assert expected in text_shown
