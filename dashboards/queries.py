"""Cached, parameterised reads for the dashboard pages.

Time-series charts, figures and pickers read only `sentiment_aggregates`,
through its primary key (scope_kind, scope_key, bucket_seconds, bucket_start)
or its (bucket_seconds, bucket_start) index, at the range's bucket size: hourly
up to 7 days, daily for 30 days and the year, so no chart or total reads more
than ~720 buckets per scope key however many articles the range holds. Lists
of articles, alerts and labels, and the entity page's co-mention and source
bars (no aggregate scope holds those), touch raw rows, always bounded by an
indexed key and time range and a LIMIT (the newest 2,000 articles for the
bars, the newest 500 for co-mentions); article lists are paged by keyset (`PageCursor`: the (published_at, id)
of the last row shown), never by OFFSET, so page 50 costs what page 1 does.

Every query takes the database URL first so cache entries never mix two
databases, and runs on the pooled engine from `engine_for`. The undecorated
function stays reachable as `fn.__wrapped__`: the benchmark
(`finsent dashboard bench`) times the database through it, not the cache.
Values are bound parameters throughout; no SQL is assembled from strings.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any, NamedTuple, cast

import pandas as pd
import streamlit as st
from sqlalchemy import Engine, and_, func, select, text
from sqlalchemy.sql import Executable

from model.network.labels import TOPIC_LABELS
from monitor.alerts.silences.matchers import load_matchers, matches_all
from monitor.contract import PRECISION_SECONDS
from monitor.storage.db import make_engine
from monitor.storage.models import ModelVersion, SentimentAggregate

LIVE_TTL_S = 10  # what the auto-refreshing panels read: alerts, health, latest buckets
HISTORY_TTL_S = 60  # trends and lists that change little between two refreshes
SLOW_TTL_S = 300  # model versions, choices for pickers

# Topic keys are known (ids 0..19): naming them lets PostgreSQL walk the primary key
# once per topic instead of reading every topic row of both bucket sizes.
TOPIC_KEYS: tuple[str, ...] = tuple(str(i) for i in range(len(TOPIC_LABELS)))



def precisions_for(bucket_seconds: int) -> tuple[str, ...]:
    """The published_at precisions the aggregates count in buckets this wide (minute buckets and hour
    buckets hold only minute-precision articles; daily ones date-only ones too). Article lists of a
    range filter on them, so a list shows exactly what the range's figures and charts count."""
    return tuple(precision for precision, narrowest in PRECISION_SECONDS.items()
                 if narrowest is not None and narrowest <= bucket_seconds)


class PageCursor(NamedTuple):
    """Where the next page of a newest-first article list starts: strictly after this row."""

    published_at: datetime
    id: str


def cursor_params(cursor: PageCursor | None, until: datetime) -> dict[str, Any]:
    """Bind values for the lists' keyset condition: without a cursor the page starts at `until`."""
    if cursor is None:
        return {"before_at": until, "before_id": ""}
    return {"before_at": cursor.published_at, "before_id": cursor.id}


AGGREGATE_COUNTS = ("article_count", "story_count", "negative_count", "neutral_count", "positive_count",
                    "score_sum", "score_sq_sum")


@st.cache_resource(show_spinner=False)
def engine_for(database_url: str) -> Engine:
    """One connection pool per database URL for the whole Streamlit process; sessions in UTC."""
    return make_engine(database_url, connect_args={"options": "-c timezone=UTC"}, pool_size=5, max_overflow=5)


def _frame(database_url: str, statement: Executable, params: Mapping[str, Any] | None = None) -> pd.DataFrame:
    """Run one statement and return its rows as a DataFrame that keeps its columns when empty."""
    with engine_for(database_url).connect() as connection:
        result = connection.execute(statement, dict(params or {}))
        return pd.DataFrame(result.fetchall(), columns=list(result.keys()))


def _with_sentiment_columns(frame: pd.DataFrame) -> pd.DataFrame:
    """Add mean_score and negative/positive shares; a story counts once (see monitor.storage.aggregates)."""
    stories = frame["story_count"].where(frame["story_count"] > 0)
    frame["mean_score"] = (frame["score_sum"] / stories).astype(float)
    frame["negative_share"] = (frame["negative_count"] / stories).astype(float)
    frame["positive_share"] = (frame["positive_count"] / stories).astype(float)
    return frame


# --- aggregates: what the charts read ------------------------------------------------------------


@st.cache_data(ttl=LIVE_TTL_S, show_spinner=False)
def latest_bucket_start(database_url: str) -> datetime | None:
    """When the newest scored article was published: the newest one-minute global bucket, or the newest
    daily one when date-only articles are newer (their day's start). Two backward primary-key probes."""
    def newest(bucket_seconds: int) -> Any:
        return (select(func.max(SentimentAggregate.bucket_start))
                .where(SentimentAggregate.scope_kind == "global", SentimentAggregate.scope_key == "all",
                       SentimentAggregate.bucket_seconds == bucket_seconds).scalar_subquery())
    statement = select(func.greatest(newest(60), newest(86_400)))
    with engine_for(database_url).connect() as connection:
        return connection.execute(statement).scalar_one_or_none()


@st.cache_data(ttl=LIVE_TTL_S, show_spinner=False)  # the live figures read it every refresh
def scope_series(database_url: str, scope_kind: str, bucket_seconds: int, since: datetime, until: datetime,
                 scope_keys: tuple[str, ...] | None = None) -> pd.DataFrame:
    """One row per (scope_key, bucket) in [since, until): counts, mean_score, negative_share."""
    table = SentimentAggregate
    conditions = [table.scope_kind == scope_kind, table.bucket_seconds == bucket_seconds,
                  table.bucket_start >= since, table.bucket_start < until]
    if scope_keys is not None:
        conditions.append(table.scope_key.in_(scope_keys))
    statement = (select(table.scope_key, table.bucket_start, *(getattr(table, c) for c in AGGREGATE_COUNTS))
                 .where(and_(*conditions)).order_by(table.scope_key, table.bucket_start))
    return _with_sentiment_columns(_frame(database_url, statement))


@st.cache_data(ttl=HISTORY_TTL_S, show_spinner=False)
def scope_totals(database_url: str, scope_kind: str, bucket_seconds: int, since: datetime, until: datetime,
                 limit: int = 500, scope_keys: tuple[str, ...] | None = None) -> pd.DataFrame:
    """Per scope_key totals over [since, until), busiest first."""
    table = SentimentAggregate
    conditions = [table.scope_kind == scope_kind, table.bucket_seconds == bucket_seconds,
                  table.bucket_start >= since, table.bucket_start < until]
    if scope_keys is not None:
        conditions.append(table.scope_key.in_(scope_keys))
    statement = (select(table.scope_key, *(func.sum(getattr(table, c)).label(c) for c in AGGREGATE_COUNTS))
                 .where(and_(*conditions))
                 .group_by(table.scope_key).order_by(func.sum(table.article_count).desc()).limit(limit))
    return _with_sentiment_columns(_frame(database_url, statement))


@st.cache_data(ttl=SLOW_TTL_S, show_spinner=False)
def scope_choices(database_url: str, scope_kind: str, hourly_since: datetime, hourly_until: datetime,
                  limit: int = 500) -> pd.DataFrame:
    """scope_totals over whole hours, for pickers: cached for minutes, since the set of tickers or
    sources seen in a range barely changes while its totals are computed from ~200k hourly rows."""
    # streamlit's CachedFunc has the uncached function as __wrapped__ (functools.update_wrapper) but does not declare it
    return scope_totals.__wrapped__(  # type: ignore[attr-defined]
        database_url, scope_kind, 3600, hourly_since, hourly_until, limit)


def range_choices(database_url: str, scope_kind: str, bucket_seconds: int, since: datetime, until: datetime,
                  limit: int = 500) -> pd.DataFrame:
    """The scope keys with articles in exactly [since, until), busiest first, with their totals.

    Hourly ranges read the slowly cached `scope_choices` (their ends lie on the
    hour, so the hourly sums are the range's); minute ranges (at most 6 h of
    one-minute rows) read `scope_totals` at their own bucket size.
    """
    if bucket_seconds == 3600:
        return scope_choices(database_url, scope_kind, since, until, limit)
    return scope_totals(database_url, scope_kind, bucket_seconds, since, until, limit)


TOP_MOVERS_SQL = text("""
    SELECT scope_key AS ticker,
           coalesce(sum(article_count) FILTER (WHERE bucket_start >= :since), 0) AS recent_articles,
           coalesce(sum(story_count) FILTER (WHERE bucket_start >= :since), 0) AS recent_stories,
           coalesce(sum(score_sum) FILTER (WHERE bucket_start >= :since), 0) AS recent_score_sum,
           coalesce(sum(story_count) FILTER (WHERE bucket_start < :since), 0) AS baseline_stories,
           coalesce(sum(score_sum) FILTER (WHERE bucket_start < :since), 0) AS baseline_score_sum,
           coalesce(sum(score_sq_sum) FILTER (WHERE bucket_start < :since), 0) AS baseline_score_sq_sum
    FROM sentiment_aggregates
    WHERE scope_kind = 'ticker' AND bucket_seconds = :bucket_seconds
      AND bucket_start >= :baseline_since AND bucket_start < :until
    GROUP BY scope_key
    HAVING coalesce(sum(story_count) FILTER (WHERE bucket_start >= :since), 0) >= :min_stories
       AND coalesce(sum(story_count) FILTER (WHERE bucket_start < :since), 0) >= :min_stories
""")

# A floor on the baseline's spread, so a ticker whose past news was uniformly
# neutral does not get an infinite z-score from one mildly negative story.
MIN_BASELINE_STD = 0.15


@st.cache_data(ttl=SLOW_TTL_S, show_spinner=False)  # hourly buckets: a few minutes stale is fine
def top_movers(database_url: str, since: datetime, until: datetime, baseline_since: datetime,
               min_stories: int = 3, limit: int = 10, bucket_seconds: int = 3600) -> pd.DataFrame:
    """Tickers whose mean sentiment in [since, until) moved most from their [baseline_since, since) mean.

    Reads `bucket_seconds` buckets: hourly for ranges up to 7 days, daily for longer ones (their ends
    lie on days), so a 30-day range with its 7-day baseline reads ~37 rows per ticker, not ~900.

    `shift` is the difference of means; `z` divides it by the baseline's
    standard error for the recent story count, so "moved a lot on many
    stories" ranks above "moved a lot on three".
    """
    frame = _frame(database_url, TOP_MOVERS_SQL, {"since": since, "until": until, "baseline_since": baseline_since,
                                                  "min_stories": min_stories, "bucket_seconds": bucket_seconds})
    if frame.empty:
        return frame.assign(recent_mean=[], baseline_mean=[], shift=[], z=[])
    frame = frame.astype({c: float for c in frame.columns if c != "ticker"})
    frame["recent_mean"] = frame["recent_score_sum"] / frame["recent_stories"]
    frame["baseline_mean"] = frame["baseline_score_sum"] / frame["baseline_stories"]
    variance = frame["baseline_score_sq_sum"] / frame["baseline_stories"] - frame["baseline_mean"] ** 2
    baseline_std = variance.clip(lower=MIN_BASELINE_STD ** 2) ** 0.5
    frame["shift"] = frame["recent_mean"] - frame["baseline_mean"]
    frame["z"] = frame["shift"] / (baseline_std / frame["recent_stories"] ** 0.5)
    order = frame["shift"].abs().sort_values(ascending=False).index
    return frame.loc[order].head(limit).reset_index(drop=True)


# --- alerts -------------------------------------------------------------------------------------

ALERT_COLUMNS = """
    a.id, a.rule_name, a.status, a.severity, a.labels, a.annotations, a.evidence, a.starts_at, a.ends_at,
    a.updated_at, a.acknowledged_by, a.acknowledged_at
"""
# Silences carry Alertmanager matchers (=, !=, =~ RE2 regexes, !~; monitor/alerts/silences/matchers.py), which SQL's
# `@>` cannot express: `silenced` is computed with the alerter's own matcher code (`_with_silenced`).
ACTIVE_SILENCES_SQL = text("SELECT id, matchers FROM silences WHERE starts_at <= now() AND ends_at > now() "
                           "ORDER BY id")


def _with_silenced(database_url: str, frame: pd.DataFrame) -> pd.DataFrame:
    """Add `silenced`: whether an active silence matches the alert's labels, as the alerter decides it."""
    silences = [load_matchers(m) for m in _frame(database_url, ACTIVE_SILENCES_SQL)["matchers"]]
    frame["silenced"] = pd.Series([any(matches_all(s, labels) for s in silences) for labels in frame["labels"]],
                                  index=frame.index, dtype=bool)
    return frame


# Firing and pending alerts are what is true now, whatever the range: an alert engine
# following a live feed stamps them with wall-clock times, one replaying history with
# the replay's, and neither may hide them. Resolved ones are history: the range bounds them.
ALERTS_IN_RANGE_SQL = text(f"""
    SELECT {ALERT_COLUMNS}
    FROM alerts a
    WHERE a.status = ANY(:statuses)
      AND (a.status IN ('firing', 'pending')
           OR (a.starts_at < :until AND (a.ends_at IS NULL OR a.ends_at >= :since)))
    ORDER BY (a.status = 'firing') DESC, a.starts_at DESC
    LIMIT :limit
""")

ACTIVE_ALERTS_SQL = text(f"""
    SELECT {ALERT_COLUMNS}
    FROM alerts a
    WHERE a.status IN ('firing', 'pending')
    ORDER BY a.starts_at DESC
    LIMIT :limit
""")


@st.cache_data(ttl=LIVE_TTL_S, show_spinner=False)
def alerts_in_range(database_url: str, statuses: tuple[str, ...], since: datetime, until: datetime,
                    limit: int = 200) -> pd.DataFrame:
    """Alerts of the given statuses, firing ones first then newest first, with `silenced`: every firing or
    pending one, and the resolved ones active at some point in [since, until)."""
    return _with_silenced(database_url, _frame(database_url, ALERTS_IN_RANGE_SQL, {
        "statuses": list(statuses), "since": since, "until": until, "limit": limit}))


@st.cache_data(ttl=LIVE_TTL_S, show_spinner=False)
def active_alerts(database_url: str, limit: int = 50) -> pd.DataFrame:
    """What is firing or pending now, whatever the selected time range."""
    return _with_silenced(database_url, _frame(database_url, ACTIVE_ALERTS_SQL, {"limit": limit}))


# The alert engine labels a series either {"ticker": "AAPL"} or {"scope_kind": "ticker", "scope_key": "AAPL"}.
TICKER_ALERTS_SQL = text("""
    SELECT a.id, a.rule_name, a.status, a.severity, a.starts_at, a.ends_at
    FROM alerts a
    WHERE a.starts_at < :until AND (a.ends_at IS NULL OR a.ends_at >= :since)
      AND (a.labels @> CAST(:ticker_label AS jsonb) OR a.labels @> CAST(:scope_label AS jsonb))
    ORDER BY a.starts_at
    LIMIT 200
""")


@st.cache_data(ttl=LIVE_TTL_S, show_spinner=False)
def ticker_alerts(database_url: str, ticker: str, since: datetime, until: datetime) -> pd.DataFrame:
    """Alerts about one ticker in the range: the markers on its trend chart."""
    return _frame(database_url, TICKER_ALERTS_SQL, {
        "since": since, "until": until, "ticker_label": json.dumps({"ticker": ticker}),
        "scope_label": json.dumps({"scope_kind": "ticker", "scope_key": ticker})})


DELIVERIES_SQL = text("""
    SELECT id, receiver, status, attempts, next_attempt_at, last_error, created_at, delivered_at
    FROM webhook_deliveries WHERE alert_id = :alert_id ORDER BY created_at
""")


@st.cache_data(ttl=LIVE_TTL_S, show_spinner=False)
def webhook_deliveries(database_url: str, alert_id: int) -> pd.DataFrame:
    """Each notification of one alert and where its delivery stands."""
    return _frame(database_url, DELIVERIES_SQL, {"alert_id": alert_id})


# --- articles -----------------------------------------------------------------------------------

# The newest model output of each article (an article may be rescored by a later model).
ARTICLE_COLUMNS = """
    a.id, a.source, a.url, a.published_at, a.headline, a.body, a.tickers,
    o.model_version, o.topic, o.sentiment_label, o.sentiment_score
"""
# Tables partitioned by published_at (migration 0003) find a row by id in one partition only when
# published_at is given too: every join below carries it, else each lookup probes every partition.
LATEST_OUTPUT_JOIN = """
    LEFT JOIN LATERAL (SELECT * FROM model_outputs m WHERE m.article_id = a.id AND m.published_at = a.published_at
                       ORDER BY m.created_at DESC LIMIT 1) o ON true
"""

ARTICLES_BY_ID_SQL = text(f"""
    SELECT {ARTICLE_COLUMNS} FROM articles a {LATEST_OUTPUT_JOIN}
    WHERE a.id = ANY(:ids) ORDER BY a.published_at DESC
""")

# Keyset paging: rows strictly before the cursor (published_at, id), newest first. The
# `published_at <= :before_at` half is what the published_at indexes bound; the OR breaks ties.
BEFORE_CURSOR = "{t}published_at <= :before_at AND ({t}published_at < :before_at OR {t}{id} < :before_id)"

# Mentions join their article by id alone, on purpose: with `AND p.published_at = m.published_at`
# the planner hashes every article of the range (8.5 s at 10 M articles), and as a correlated
# subquery each row pays the partition pruning set-up (~0.75 ms); by id the planner walks the
# (ticker, published_at) index backwards and probes each partition's key for the few rows it needs.
# Each branch takes only its newest :limit rows (index scans backward on published_at),
# so a ticker with 50,000 articles in the range costs as little as one with 50.
TICKER_ARTICLES_SQL = text(f"""
    WITH newest AS (
        (SELECT id, published_at FROM articles
         WHERE tickers @> ARRAY[CAST(:ticker AS varchar)] AND published_at >= :since AND published_at < :until
           AND {BEFORE_CURSOR.format(t="", id="id")}
           AND published_precision = ANY(:precisions)
         ORDER BY published_at DESC, id DESC LIMIT :limit)
        UNION
        (SELECT m.article_id, m.published_at FROM entity_mentions m JOIN articles p ON p.id = m.article_id
         WHERE m.ticker = :ticker AND m.published_at >= :since AND m.published_at < :until
           AND {BEFORE_CURSOR.format(t="m.", id="article_id")}
           AND p.published_precision = ANY(:precisions)
         ORDER BY m.published_at DESC, m.article_id DESC LIMIT :limit)
    )
    SELECT {ARTICLE_COLUMNS}
    FROM articles a {LATEST_OUTPUT_JOIN}
    WHERE (a.id, a.published_at) IN (SELECT id, published_at FROM newest ORDER BY published_at DESC, id DESC
                                     LIMIT :limit)
    ORDER BY a.published_at DESC, a.id DESC
""")

SEARCH_ARTICLES_SQL = text(f"""
    SELECT {ARTICLE_COLUMNS}
    FROM articles a {LATEST_OUTPUT_JOIN}
    WHERE a.published_at >= :since AND a.published_at < :until
      AND {BEFORE_CURSOR.format(t="a.", id="id")}
      AND (CAST(:pattern AS text) IS NULL OR a.headline ILIKE :pattern)
    ORDER BY a.published_at DESC, a.id DESC
    LIMIT :limit
""")


@st.cache_data(ttl=HISTORY_TTL_S, show_spinner=False)
def articles_by_id(database_url: str, article_ids: tuple[str, ...]) -> pd.DataFrame:
    """The given articles with their newest model output (e.g. an alert's evidence)."""
    return _frame(database_url, ARTICLES_BY_ID_SQL, {"ids": list(article_ids)})


@st.cache_data(ttl=HISTORY_TTL_S, show_spinner=False)
def ticker_articles(database_url: str, ticker: str, since: datetime, until: datetime, limit: int = 30,
                    precisions: tuple[str, ...] = ("minute",), cursor: PageCursor | None = None) -> pd.DataFrame:
    """Newest articles of the given time precisions that list the ticker or mention an entity linked to it;
    with a cursor, the `limit` next older ones after it."""
    return _frame(database_url, TICKER_ARTICLES_SQL,
                  {"ticker": ticker, "since": since, "until": until, "limit": limit, "precisions": list(precisions),
                   **cursor_params(cursor, until)})


def like_pattern(search: str) -> str | None:
    """An ILIKE pattern matching `search` literally anywhere in the text; None for an empty search."""
    search = search.strip()
    if not search:
        return None
    escaped = search.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


@st.cache_data(ttl=HISTORY_TTL_S, show_spinner=False)
def search_articles(database_url: str, search: str, since: datetime, until: datetime, limit: int = 50,
                    cursor: PageCursor | None = None) -> pd.DataFrame:
    """Newest articles in the range whose headline contains `search` (all of them when empty); with a
    cursor, the `limit` next older ones after it."""
    return _frame(database_url, SEARCH_ARTICLES_SQL,
                  {"pattern": like_pattern(search), "since": since, "until": until, "limit": limit,
                   **cursor_params(cursor, until)})


def _of_articles(database_url: str, statement: Any, article_ids: tuple[str, ...],
                 published: tuple[datetime, ...] | None) -> pd.DataFrame:
    """Rows of a per-article table (mentions, events) for the given articles, read from their partitions
    only when their published_at are known."""
    return _frame(database_url, statement,
                  {"ids": list(article_ids), "published": None if published is None else list(published)})


def _of_articles_sql(table: str, columns: str, order: str) -> Any:
    """SELECT a per-article table's rows for :ids, from :published's partitions only when it is given."""
    return text(f"""
        SELECT {columns} FROM {table}
        WHERE article_id = ANY(:ids)
          AND (CAST(:published AS timestamptz[]) IS NULL OR published_at = ANY(CAST(:published AS timestamptz[])))
        ORDER BY article_id, {order}
    """)


MENTIONS_SQL = _of_articles_sql("entity_mentions", "article_id, model_version, start_char, end_char, text, "
                                "entity_type, ticker, sentiment_label, sentiment_score, role", "start_char")


@st.cache_data(ttl=HISTORY_TTL_S, show_spinner=False)
def entity_mentions(database_url: str, article_ids: tuple[str, ...],
                    published: tuple[datetime, ...] | None = None) -> pd.DataFrame:
    """Entities found in the given articles (every model version; pages keep the article's own).
    `published`, the articles' published_at when known, lets PostgreSQL read only their partitions."""
    return _of_articles(database_url, MENTIONS_SQL, article_ids, published)


EVENTS_SQL = _of_articles_sql("article_events", "article_id, model_version, ordinal, event_type, polarity, subject, "
                              "subject_ticker, source, origin, detail, figures", "ordinal")


@st.cache_data(ttl=HISTORY_TTL_S, show_spinner=False)
def article_events(database_url: str, article_ids: tuple[str, ...],
                   published: tuple[datetime, ...] | None = None) -> pd.DataFrame:
    """Financial events of the given articles (every model version; pages keep the article's own)."""
    return _of_articles(database_url, EVENTS_SQL, article_ids, published)


# The ticker's events, newest first, with their headlines: the Entity page's events table.
TICKER_EVENTS_SQL = text("""
    SELECT e.published_at, e.event_type, e.polarity, e.subject, e.source, e.detail, e.origin, e.figures,
           a.headline, a.source AS outlet
    FROM article_events e JOIN articles a ON a.id = e.article_id AND a.published_at = e.published_at
    WHERE e.subject_ticker = :ticker AND e.published_at >= :since AND e.published_at < :until
      AND (CAST(:types AS text[]) IS NULL OR e.event_type = ANY(CAST(:types AS text[])))
    ORDER BY e.published_at DESC, e.ordinal LIMIT :limit
""")


@st.cache_data(ttl=HISTORY_TTL_S, show_spinner=False)
def ticker_events(database_url: str, ticker: str, since: datetime, until: datetime,
                  types: tuple[str, ...] | None = None, limit: int = 200) -> pd.DataFrame:
    """The financial events about the ticker's company in the range (of the given types), newest first."""
    return _frame(database_url, TICKER_EVENTS_SQL, {"ticker": ticker, "since": since, "until": until,
                                                    "types": None if not types else list(types), "limit": limit})


# Co-mentions are counted over the ticker's newest :sample articles in the range: enough
# to show who it is named with, and bounded however busy the ticker is. The sample's mentions
# are looked up by article id (unique index) within the range's partitions.
CO_MENTIONS_SQL = text("""
    WITH about AS (
        SELECT DISTINCT article_id FROM (
            SELECT m.article_id FROM entity_mentions m JOIN articles p ON p.id = m.article_id
            WHERE m.ticker = :ticker AND m.published_at >= :since AND m.published_at < :until
              AND p.published_precision = ANY(:precisions)
            ORDER BY m.published_at DESC LIMIT :sample) AS newest
    )
    SELECT coalesce(m.ticker, m.text) AS entity, m.ticker, min(m.entity_type) AS entity_type,
           count(DISTINCT m.article_id) AS articles, avg(m.sentiment_score) AS mean_score
    FROM entity_mentions m
    WHERE m.article_id = ANY(ARRAY(SELECT article_id FROM about))
      AND m.published_at >= :since AND m.published_at < :until
      AND m.ticker IS DISTINCT FROM :ticker
    GROUP BY coalesce(m.ticker, m.text), m.ticker
    ORDER BY articles DESC, entity
    LIMIT :limit
""")


@st.cache_data(ttl=HISTORY_TTL_S, show_spinner=False)
def co_mentions(database_url: str, ticker: str, since: datetime, until: datetime, limit: int = 15,
                sample: int = 500, precisions: tuple[str, ...] = ("minute",)) -> pd.DataFrame:
    """Other entities named in the same articles as the ticker (its newest `sample`), most frequent first.
    The sample is 500, not 2,000 like the sources bars: finding a mention's article costs a key probe
    per partition of the range (~0.3 ms per sampled article at 10 M articles over 30 day partitions)."""
    return _frame(database_url, CO_MENTIONS_SQL, {"ticker": ticker, "since": since, "until": until, "limit": limit,
                                                  "sample": sample, "precisions": list(precisions)})


TICKER_SOURCES_SQL = text("""
    SELECT source, count(*) AS articles
    FROM (SELECT source FROM articles
          WHERE tickers @> ARRAY[CAST(:ticker AS varchar)] AND published_at >= :since AND published_at < :until
            AND published_precision = ANY(:precisions)
          ORDER BY published_at DESC LIMIT :sample) AS newest
    GROUP BY source ORDER BY articles DESC LIMIT 20
""")


@st.cache_data(ttl=HISTORY_TTL_S, show_spinner=False)
def ticker_sources(database_url: str, ticker: str, since: datetime, until: datetime,
                   sample: int = 2000, precisions: tuple[str, ...] = ("minute",)) -> pd.DataFrame:
    """Which outlets wrote the ticker's newest `sample` articles (of the given precisions) in the range."""
    return _frame(database_url, TICKER_SOURCES_SQL, {"ticker": ticker, "since": since, "until": until,
                                                     "sample": sample, "precisions": list(precisions)})


# --- model and labels ---------------------------------------------------------------------------


@st.cache_data(ttl=SLOW_TTL_S, show_spinner=False)
def model_versions(database_url: str) -> pd.DataFrame:
    """Every registered model version, newest first, with its metrics and promotion decision."""
    table = ModelVersion
    statement = select(table.version, table.status, table.is_live, table.created_at, table.promoted_at,
                       table.metrics, table.decision_reason, table.path).order_by(table.created_at.desc())
    return _frame(database_url, statement)


LATEST_OUTPUT_SQL = text("""
    SELECT model_version, published_at, created_at FROM model_outputs ORDER BY published_at DESC LIMIT 1
""")


@st.cache_data(ttl=LIVE_TTL_S, show_spinner=False)
def latest_output(database_url: str) -> dict[str, Any] | None:
    """The newest stored prediction: which model wrote it and when (health fallback)."""
    frame = _frame(database_url, LATEST_OUTPUT_SQL)
    return None if frame.empty else cast(dict[str, Any], frame.iloc[0].to_dict())  # keys: the SQL's column names


# articles.received_at is set by PostgreSQL on insert: when the worker stored the article,
# whatever its published_at (a replay stores years of news in minutes). now() is the
# database's clock too, so the window does not depend on the dashboard host's clock.
# The schema indexes articles(received_at) (migration 0003), so each scalar subquery is a short index
# range scan; at 10M articles a single FILTER aggregate over the table took about 1 s (docs/dashboard.md).
STORED_SQL = text("""
    SELECT (SELECT count(*) FROM articles
            WHERE received_at >= now() - make_interval(mins => :window_minutes)) AS stored,
           (SELECT max(received_at) FROM articles) AS newest_received_at, now() AS measured_at
""")


@st.cache_data(ttl=LIVE_TTL_S, show_spinner=False)
def stored_throughput(database_url: str, window_minutes: int = 5) -> dict[str, Any]:
    """Articles stored in the last `window_minutes` (by received_at), per minute, and the newest store time."""
    frame = _frame(database_url, STORED_SQL, {"window_minutes": window_minutes})
    row = frame.iloc[0]
    stored = int(row["stored"])
    newest = None if pd.isna(row["newest_received_at"]) else pd.Timestamp(row["newest_received_at"]).to_pydatetime()
    return {"stored": stored, "window_minutes": window_minutes, "per_minute": stored / window_minutes,
            "newest_received_at": newest, "measured_at": pd.Timestamp(row["measured_at"]).to_pydatetime()}


LABELS_SQL = text("""
    SELECT l.id, l.article_id, l.task, l.label, l.author, l.created_at, a.headline
    FROM analyst_labels l JOIN articles a ON a.id = l.article_id
    WHERE (CAST(:article_id AS varchar) IS NULL OR l.article_id = :article_id)
    ORDER BY l.created_at DESC, l.id DESC
    LIMIT :limit
""")


@st.cache_data(ttl=LIVE_TTL_S, show_spinner=False)
def analyst_labels(database_url: str, article_id: str | None = None, limit: int = 50) -> pd.DataFrame:
    """Newest analyst corrections, of one article or of all."""
    return _frame(database_url, LABELS_SQL, {"article_id": article_id, "limit": limit})


def clear_after_write(*functions: Any) -> None:
    """Drop cached results that a write just made stale, so the page shows it on the next run."""
    for function in functions:
        function.clear()
