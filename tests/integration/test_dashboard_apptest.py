"""Each dashboard page rendered by Streamlit's AppTest against the real PostgreSQL.

The test database is seeded through the project's storage code (see
dashboard_seeding.py); the app is pointed at it with FINSENT_DATABASE_URL.
Action tests click the buttons and then read the database directly.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pytest
from sqlalchemy import select, text
from streamlit.testing.v1 import AppTest

from dashboards import queries
from dashboards.auth import hash_password
from dashboards.health import describe_throughput
from monitor.storage.db import session_factory
from monitor.storage.models import Alert, AnalystLabel, Silence
from tests.databases import scratch_database
from tests.integration.dashboard_seeding import (
    MODEL_VERSION,
    REPLAY_FIRING_RULE,
    REPLAYED_ROWS,
    SeededDashboard,
    seed_dashboard_data,
    seed_replayed_history,
)

pytestmark = pytest.mark.integration

APP = Path(__file__).resolve().parents[2] / "dashboards" / "app.py"
FIRING_ICON = ":material/notifications_active:"
VOLUME_TITLE = "Stories per bucket: red negative, grey neutral, green positive"


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


def chart_data(app: AppTest, title: str, column: str) -> pd.DataFrame:
    """The rows with `column` that a Vega-Lite chart with this title was sent (as Arrow IPC, one
    dataset per layer)."""
    for chart in app.get("vega_lite_chart"):
        if json.loads(chart.proto.spec).get("title") == title:
            for dataset in chart.proto.datasets:
                frame = pa.ipc.open_stream(dataset.data.data).read_all().to_pandas()
                if column in frame.columns:
                    return frame
    raise AssertionError(f"no chart titled {title!r} with a {column!r} column")


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


def test_model_page_shows_the_background_training_run(app: AppTest, tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    from monitor.retrain.background import PROGRESS_FILE, BackgroundProgress, write_progress

    monkeypatch.setenv("FINSENT_STATE_DIR", str(tmp_path))
    open_page(app, "model")
    assert "No background training run yet" in page_text(app)
    write_progress(tmp_path / PROGRESS_FILE, BackgroundProgress(profile="full", state="training", step=1200,
                                                                max_steps=5000, best_dev_score=0.71, eta_s=3000.0))
    app.run()
    assert ("Background run — full profile: training, step 1,200 / 5,000, best dev score 0.710, about 50 min left"
            in page_text(app))


def test_silence_is_stored_with_the_alerts_labels(app: AppTest, seeded: SeededDashboard, database_url: str) -> None:
    open_page(app, "alerts")
    app.sidebar.text_input(key="analyst_name").input("j.doe").run()
    next(box for box in app.main.text_input if box.label == "Comment").input("known supplier news")
    next(b for b in app.button if b.label == "Silence").click().run()
    assert not app.exception
    action_errors = [e.value for e in app.error if e.icon != FIRING_ICON]  # not the firing-alerts banner
    assert not action_errors
    with session_factory(database_url).begin() as session:
        silence = session.scalars(select(Silence).where(Silence.created_by == "j.doe")).one()
    # by default the series' identity: the rule and its ticker, not every label (sector, severity)
    assert silence.matchers == [{"name": "alertname", "value": seeded.firing_rule, "isRegex": False, "isEqual": True},
                                {"name": "ticker", "value": "AAPL", "isRegex": False, "isEqual": True}]
    assert silence.comment == "known supplier news"
    assert (silence.ends_at - silence.starts_at).total_seconds() == 4 * 3600
    assert "Silence #" in page_text(app)


def test_silence_preview_lists_what_it_would_mute_and_stores_nothing(app: AppTest, seeded: SeededDashboard,
                                                                     database_url: str) -> None:
    open_page(app, "alerts")
    with session_factory(database_url).begin() as session:
        before = len(session.scalars(select(Silence)).all())
    next(box for box in app.text_area if box.label == "More matchers").input('ticker=~"AA.*"')
    next(b for b in app.button if b.label == "Preview").click().run()
    assert not app.exception
    assert "Would silence 1 firing or pending alert(s) now." in page_text(app)
    with session_factory(database_url).begin() as session:
        assert len(session.scalars(select(Silence)).all()) == before
    next(box for box in app.text_area if box.label == "More matchers").input("ticker=~(?=A)")
    next(b for b in app.button if b.label == "Preview").click().run()
    assert "lookahead" in page_text(app)


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
    assert "author: required" in page_text(app)
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
    expected = {"alerts": "No alert matches the chosen statuses",
                "model": "No model versions recorded yet"}.get(page or "", "No data yet — is the worker running?")
    assert expected in text_shown


# --- replayed history (issue #11) -----------------------------------------------------------------


@pytest.fixture(scope="module")
def replay_database_url(database_server_url: str) -> Iterator[str]:
    """A database holding only 2020 news, as after replaying the corpus, and one alert firing now."""
    with scratch_database(database_server_url, "finsent_test_dash_replay") as url:
        seed_replayed_history(url)
        yield url


@pytest.fixture()
def replay_app(replay_database_url: str, monkeypatch: pytest.MonkeyPatch) -> AppTest:
    monkeypatch.setenv("FINSENT_DATABASE_URL", replay_database_url)
    monkeypatch.setenv("FINSENT_METRICS_PORT", str(unused_port()))
    monkeypatch.delenv("FINSENT_DASHBOARD_PASSWORD_HASH", raising=False)
    return AppTest.from_file(str(APP), default_timeout=60)


def replayed(ticker: str | None, since: datetime, until: datetime, precision: str = "minute") -> int:
    """Seeded rows (about the ticker, or all) of this precision published in [since, until)."""
    return sum(1 for published, row_precision, _, tickers, _, _, entities in REPLAYED_ROWS
               if row_precision == precision
               and since <= datetime.fromisoformat(published).replace(tzinfo=UTC) < until
               and (ticker is None or ticker in tickers or any(e[2] == ticker for e in entities)))


def test_replayed_history_opens_on_the_latest_data(replay_app: AppTest) -> None:
    open_page(replay_app)
    # The newest article (2020-07-17 23:51) is years old: the default 24 h range ends at its hour.
    since, until = datetime(2020, 7, 17, tzinfo=UTC), datetime(2020, 7, 18, tzinfo=UTC)
    assert "Showing the latest data: 2020-07-17 00:00 → 2020-07-18 00:00 UTC" in page_text(replay_app)
    assert metric(replay_app, "Articles") == str(replayed(None, since, until)) != "0"
    assert chart_data(replay_app, VOLUME_TITLE, "stories")["stories"].sum() > 0


def test_replayed_history_still_ends_now_when_not_following_the_data(replay_app: AppTest) -> None:
    open_page(replay_app)
    replay_app.sidebar.toggle(key="follow_data").set_value(False).run()
    assert "Showing the latest data" not in page_text(replay_app)
    assert metric(replay_app, "Articles") == "0"


def test_entity_figures_chart_and_list_agree(replay_app: AppTest) -> None:
    """Issue #11: the figures said "2 articles, 100 % negative" for NFLX while chart and list were empty."""
    open_page(replay_app, "entity")
    replay_app.selectbox(key="entity_ticker").select("NFLX").run()
    assert not replay_app.exception
    since, until = datetime(2020, 7, 17, tzinfo=UTC), datetime(2020, 7, 18, tzinfo=UTC)
    expected = replayed("NFLX", since, until)  # the 14:25 headline; not the one of 23:20 the day before
    cards = sum(str(m.value).count('class="fs-article"') for m in replay_app.markdown)
    volume = chart_data(replay_app, VOLUME_TITLE, "stories")
    sentiment = chart_data(replay_app, "Sentiment", "mean_score")
    assert metric(replay_app, "Articles") == str(expected) == str(cards)
    assert metric(replay_app, "Stories") == str(int(volume["stories"].sum()))
    charted_mean = (sentiment["mean_score"] * sentiment["story_count"]).sum() / sentiment["story_count"].sum()
    assert metric(replay_app, "Mean sentiment") == f"{charted_mean:+.2f}"
    # The date-only headlines are in daily buckets only: named, not silently mixed in.
    undated = replayed("NFLX", since, until, precision="day")
    assert f"Besides these, {undated} date-only articles" in page_text(replay_app)


def test_firing_alerts_show_whatever_the_range(replay_app: AppTest) -> None:
    open_page(replay_app)  # the range is in 2020; the alert fired minutes ago
    assert metric(replay_app, "Alerts firing") == "1"
    assert "**1 alert firing**: entity-negative-burst (ticker=NFLX)" in page_text(replay_app)
    replay_app.switch_page("app_pages/alerts.py").run()
    alerts = next(frame.value for frame in replay_app.dataframe if "rule_name" in frame.value.columns)
    assert alerts["rule_name"].tolist() == [REPLAY_FIRING_RULE]


def test_throughput_counts_articles_by_when_they_were_stored(replay_app: AppTest, replay_database_url: str) -> None:
    """Published over two days, stored two minutes ago: the rate is per minute of storing."""
    engine = queries.engine_for.__wrapped__(replay_database_url)  # a plain engine, not the app's cached one
    with engine.begin() as connection:
        stored = connection.execute(text("UPDATE articles SET received_at = now() - interval '2 minutes'")).rowcount
    queries.stored_throughput.clear()
    open_page(replay_app)
    assert metric(replay_app, "Stored (last 5 min)") == describe_throughput(stored / 5)
    with engine.begin() as connection:
        connection.execute(text("UPDATE articles SET received_at = now() - interval '1 hour'"))
    engine.dispose()
    queries.stored_throughput.clear()
    open_page(replay_app)
    assert metric(replay_app, "Stored (last 5 min)") == "0.0 articles/min"
    assert "Nothing stored for 1 h" in page_text(replay_app)
