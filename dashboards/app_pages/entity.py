"""Entity page: one ticker's sentiment trend with alert markers, its articles, financial events, co-mentions
and sources."""

from __future__ import annotations

import streamlit as st

from dashboards import charts, filters, queries, ui
from model.network.tasks import EVENT_TYPE_NAMES

range_ = ui.page_header("Entity", "How the news treats one company: trend, alerts, articles and why.")
url = ui.database_url()
ARTICLES_PER_PAGE = 30
precisions = queries.precisions_for(range_.bucket_seconds)  # the lists show what the figures count


def date_only_articles(ticker: str) -> int:
    """Date-only articles about the ticker on the range's days: in daily buckets, absent from finer ones."""
    if range_.bucket_seconds >= 86_400:
        return 0
    day_since = range_.since.replace(hour=0, minute=0, second=0, microsecond=0)
    day_until = filters.ceil_to_bucket(range_.until, 86_400)
    daily = queries.scope_series(url, "ticker", 86_400, day_since, day_until, (ticker,))
    hourly = queries.scope_series(url, "ticker", 3600, day_since, day_until, (ticker,))
    return int(daily["article_count"].sum() - hourly["article_count"].sum())

# Picker, figures, chart and article list all read the same [since, until): the range's ends lie on
# bucket boundaries, so the aggregate buckets hold exactly the articles published in it.
tickers = queries.range_choices(url, "ticker", range_.bucket_seconds, range_.since, range_.until)
if tickers.empty:
    ui.empty_state("No ticker has articles in this time range — widen it in the sidebar."
                   if range_.latest_data is not None else ui.NO_DATA)
    st.stop()

choices = tickers["scope_key"].tolist()
article_counts = tickers.set_index("scope_key")["article_count"]
wanted = st.query_params.get("ticker")
if wanted in choices and "entity_ticker" not in st.session_state:
    st.session_state["entity_ticker"] = wanted
ticker = st.selectbox("Ticker", choices, key="entity_ticker",
                      format_func=lambda t: f"{t}  ({int(article_counts[t])} articles)")
st.query_params["ticker"] = ticker

series = queries.scope_series(url, "ticker", range_.bucket_seconds, range_.since, range_.until, (ticker,))
totals = ui.series_totals(series)  # the figures are the chart's own sums
columns = st.columns(4)
columns[0].metric("Articles", f"{totals['articles']:,.0f}", border=True)
columns[1].metric("Stories", f"{totals['stories']:,.0f}", border=True)
columns[2].metric("Mean sentiment", "—" if totals["mean"] is None else f"{totals['mean']:+.2f}", border=True)
columns[3].metric("Negative share", "—" if totals["negative"] is None else f"{totals['negative']:.0%}",
                  border=True)

alerts = queries.ticker_alerts(url, ticker, range_.since, range_.until)
ui.sentiment_and_volume(series, range_, alerts)
if not alerts.empty:
    st.caption(f"Red rules mark alert starts: {', '.join(sorted(set(alerts['rule_name'])))}.")

articles_column, context_column = st.columns([3, 2], gap="large")
with articles_column:
    st.subheader("Recent articles")
    list_context = (ticker, range_.since, range_.until)  # paging starts again when any of these changes
    cursor = ui.page_cursor("entity_articles", list_context)
    articles = queries.ticker_articles(url, ticker, range_.since, range_.until, limit=ARTICLES_PER_PAGE,
                                       precisions=precisions, cursor=cursor)
    undated = date_only_articles(ticker)
    if undated > 0:
        st.caption(f"Besides these, {undated:,} date-only articles (no time of day) about {ticker} on these days "
                   "count in daily buckets only: choose the 30- or 365-day range to see them.")
    if articles.empty:
        ui.empty_state("No articles about this ticker in the range." if cursor is None
                       else "No older articles about this ticker in the range.")
    else:
        if cursor is not None:
            st.caption(f"Articles published before {cursor.published_at:%Y-%m-%d %H:%M} UTC, "
                       f"{ARTICLES_PER_PAGE} per page, of {totals['articles']:,.0f} in the range.")
        elif len(articles) < totals["articles"]:
            st.caption(f"The newest {len(articles)} of {totals['articles']:,.0f} articles in the range.")
        mentions = queries.entity_mentions(url, tuple(articles["id"]), ui.published_times(articles))
        events = queries.article_events(url, tuple(articles["id"]), ui.published_times(articles))
        cards = [ui.article_card(article, ui.mentions_of(mentions, article), ui.events_of(events, article))
                 for article in ui.records(articles)]
        st.markdown("".join(cards), unsafe_allow_html=True)
    ui.pager("entity_articles", list_context, articles, ARTICLES_PER_PAGE)
with context_column:
    st.subheader("Financial events")
    event_types = st.multiselect("Event types", EVENT_TYPE_NAMES, key="entity_event_types",
                                 format_func=lambda name: name.replace("_", " "), placeholder="All types")
    company_events = queries.ticker_events(url, ticker, range_.since, range_.until, tuple(event_types))
    if company_events.empty:
        st.caption("No financial events about this company in the range" + (" of these types." if event_types
                                                                              else "."))
    else:
        st.dataframe(ui.events_table(company_events), hide_index=True, width="stretch")
    st.subheader("Mentioned alongside")
    co = queries.co_mentions(url, ticker, range_.since, range_.until, precisions=precisions)
    if co.empty:
        st.caption("No other entities named in the same articles.")
    else:
        st.altair_chart(charts.count_bars(co, "entity", "articles", color_by_score="mean_score"), width="stretch")
    st.subheader("Sources")
    sources = queries.ticker_sources(url, ticker, range_.since, range_.until, precisions=precisions)
    if sources.empty:
        st.caption("No articles list this ticker in the range.")
    else:
        st.altair_chart(charts.count_bars(sources, "source", "articles"), width="stretch")
