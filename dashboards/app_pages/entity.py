"""Entity page: one ticker's sentiment trend with alert markers, its articles, co-mentions and sources."""

from __future__ import annotations

import streamlit as st

from dashboards import charts, queries, ui

range_ = ui.page_header("Entity", "How the news treats one company: trend, alerts, articles and why.")
url = ui.database_url()

tickers = queries.scope_choices(url, "ticker", range_.hourly_since, range_.hourly_until)
if tickers.empty:
    ui.empty_state()
    st.stop()

choices = tickers["scope_key"].tolist()
article_counts = tickers.set_index("scope_key")["article_count"]
wanted = st.query_params.get("ticker")
if wanted in choices and "entity_ticker" not in st.session_state:
    st.session_state["entity_ticker"] = wanted
ticker = st.selectbox("Ticker", choices, key="entity_ticker",
                      format_func=lambda t: f"{t}  ({int(article_counts[t])} articles)")
st.query_params["ticker"] = ticker

totals = tickers.set_index("scope_key").loc[ticker]
columns = st.columns(4)
columns[0].metric("Articles", f"{totals['article_count']:,.0f}", border=True)
columns[1].metric("Stories", f"{totals['story_count']:,.0f}", border=True)
columns[2].metric("Mean sentiment", f"{totals['mean_score']:+.2f}" if totals["story_count"] else "—", border=True)
columns[3].metric("Negative share", f"{totals['negative_share']:.0%}" if totals["story_count"] else "—",
                  border=True)

series = queries.scope_series(url, "ticker", range_.bucket_seconds, range_.since, range_.until, (ticker,))
alerts = queries.ticker_alerts(url, ticker, range_.since, range_.until)
ui.sentiment_and_volume(series, range_, alerts)
if not alerts.empty:
    st.caption(f"Red rules mark alert starts: {', '.join(sorted(set(alerts['rule_name'])))}.")

articles_column, context_column = st.columns([3, 2], gap="large")
with articles_column:
    st.subheader("Recent articles")
    articles = queries.ticker_articles(url, ticker, range_.since, range_.until)
    if articles.empty:
        ui.empty_state("No articles about this ticker in the range.")
    else:
        mentions = queries.entity_mentions(url, tuple(articles["id"]))
        cards = [ui.article_card(article, ui.mentions_of(mentions, article))
                 for article in ui.records(articles)]
        st.markdown("".join(cards), unsafe_allow_html=True)
with context_column:
    st.subheader("Mentioned alongside")
    co = queries.co_mentions(url, ticker, range_.since, range_.until)
    if co.empty:
        st.caption("No other entities named in the same articles.")
    else:
        st.altair_chart(charts.count_bars(co, "entity", "articles", color_by_score="mean_score"), width="stretch")
    st.subheader("Sources")
    sources = queries.ticker_sources(url, ticker, range_.since, range_.until)
    if sources.empty:
        st.caption("No articles list this ticker in the range.")
    else:
        st.altair_chart(charts.count_bars(sources, "source", "articles"), width="stretch")
