"""Keyset paging of the dashboard's article lists, on the real (time-partitioned) PostgreSQL.

Issue #15: drill-down lists are bounded and paged by (published_at, id), never by OFFSET.
Paging through a list a few rows at a time must give exactly the rows of one big page, in
the same newest-first order, with no row twice, even when several articles share a
published_at (the id breaks the tie), and the partition-pruning joins must not change
which entities an article shows.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from dashboards import queries
from model.network.labels import TOPIC_LABELS
from model.network.results import ArticleResult, EntityResult
from monitor.contract import NewsItem
from monitor.storage.db import session_factory
from monitor.storage.writes import store_scored_batch
from tests.databases import scratch_database

pytestmark = pytest.mark.integration

TICKER = "PGNT"
SOURCE = "paging-test"
N_ARTICLES = 35  # more than the Entity page's 30 per page
APP = Path(__file__).resolve().parents[2] / "dashboards" / "app.py"


@pytest.fixture(scope="module")
def database_url(database_server_url: str) -> Iterator[str]:
    """A database of its own: these articles must not change what other dashboard tests count."""
    with scratch_database(database_server_url, "finsent_test_dash_paging") as url:
        yield url


@pytest.fixture(scope="module")
def paged_articles(database_url: str) -> tuple[datetime, datetime]:
    """N_ARTICLES about TICKER within the last hour, three of them published in the same second."""
    now = datetime.now(UTC).replace(microsecond=0)
    times = [now - timedelta(minutes=5)] * 3 + [now - timedelta(minutes=6 + i) for i in range(N_ARTICLES - 3)]
    pairs = []
    for i, published in enumerate(times):
        headline = f"Paging Corp story {i}: shares move on volume"
        item = NewsItem(source=SOURCE, headline=headline, tickers=[TICKER], published_at=published)
        entity = EntityResult(0, len("Paging Corp"), "Paging Corp", "ORG", TICKER, "neutral", 0.0)
        result = ArticleResult(topic=0, topic_probs=[1.0 / len(TOPIC_LABELS)] * len(TOPIC_LABELS),
                               sentiment_label="neutral", sentiment_score=0.0, sentiment_probs=[0.2, 0.6, 0.2],
                               entities=[entity], model_version="paging-v1")
        pairs.append((item, result))
    with session_factory(database_url).begin() as session:
        store_scored_batch(session, pairs)
    return now - timedelta(hours=1), now + timedelta(minutes=1)


def page_through(fetch: Callable[[queries.PageCursor | None], pd.DataFrame], size: int) -> list[pd.DataFrame]:
    """Every page of a list, following the cursor of each page's last row until a short page."""
    pages, cursor = [], None
    while True:
        page = fetch(cursor)
        pages.append(page)
        if len(page) < size:
            return pages
        last = page.iloc[-1]
        cursor = queries.PageCursor(pd.Timestamp(last["published_at"]).to_pydatetime(), str(last["id"]))


def test_ticker_articles_page_by_keyset_without_gaps_or_repeats(database_url: str,
                                                                 paged_articles: tuple[datetime, datetime]) -> None:
    since, until = paged_articles
    fetch = queries.ticker_articles.__wrapped__
    everything = fetch(database_url, TICKER, since, until, limit=100)
    assert len(everything) == N_ARTICLES
    # pages of 2: the three articles of the same second straddle the first page's end
    pages = page_through(lambda cursor: fetch(database_url, TICKER, since, until, limit=2, cursor=cursor), 2)
    assert all(len(page) <= 2 for page in pages) and len(pages) == N_ARTICLES // 2 + 1
    paged = pd.concat(pages)
    assert paged["id"].tolist() == everything["id"].tolist()  # same rows, same newest-first order
    assert paged["id"].is_unique
    assert paged["published_at"].is_monotonic_decreasing


def test_search_articles_page_by_keyset_without_gaps_or_repeats(database_url: str,
                                                                 paged_articles: tuple[datetime, datetime]) -> None:
    since, until = paged_articles
    fetch = queries.search_articles.__wrapped__
    everything = fetch(database_url, "Paging Corp", since, until, limit=100)
    assert len(everything) == N_ARTICLES
    pages = page_through(lambda cursor: fetch(database_url, "Paging Corp", since, until, limit=2, cursor=cursor), 2)
    paged = pd.concat(pages)
    assert paged["id"].tolist() == everything["id"].tolist()
    assert paged["id"].is_unique


def test_mentions_read_by_partition_are_the_same_mentions(database_url: str,
                                                          paged_articles: tuple[datetime, datetime]) -> None:
    since, until = paged_articles
    articles = queries.ticker_articles.__wrapped__(database_url, TICKER, since, until, limit=100)
    ids = tuple(articles["id"])
    published = tuple(pd.Timestamp(value).to_pydatetime() for value in articles["published_at"])
    pruned = queries.entity_mentions.__wrapped__(database_url, ids, published)
    unpruned = queries.entity_mentions.__wrapped__(database_url, ids)
    assert len(pruned) == N_ARTICLES
    pd.testing.assert_frame_equal(pruned, unpruned)


def cards(app: AppTest) -> list[str]:
    """The article cards the Entity page drew, in order (their markdown)."""
    return [str(m.value) for m in app.markdown if 'class="fs-article"' in str(m.value)]


def test_entity_page_pages_older_and_back_to_newest(database_url: str, paged_articles: tuple[datetime, datetime],
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FINSENT_DATABASE_URL", database_url)
    monkeypatch.delenv("FINSENT_DASHBOARD_PASSWORD_HASH", raising=False)
    app = AppTest.from_file(str(APP), default_timeout=60)
    app.run()
    app.switch_page("app_pages/entity.py").run()
    assert not app.exception, [e.value for e in app.exception]
    assert app.selectbox(key="entity_ticker").value == TICKER
    first = "".join(cards(app))
    assert first.count('class="fs-article"') == 30
    app.button(key="entity_articles_older").click().run()
    older = "".join(cards(app))
    assert older.count('class="fs-article"') == N_ARTICLES - 30
    assert "Articles published before" in "".join(str(c.value) for c in app.caption)
    assert not any(f"story {i}:" in first for i in range(N_ARTICLES) if f"story {i}:" in older)  # no repeats
    assert not any(b.key == "entity_articles_older" for b in app.button)  # a short page is the end
    app.button(key="entity_articles_newest").click().run()
    assert "".join(cards(app)) == first
