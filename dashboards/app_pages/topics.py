"""Topics page: the 20-topic breakdown over time and the sentiment within each topic."""

from __future__ import annotations

import streamlit as st

from dashboards import charts, queries, ui
from model.network.labels import TOPIC_LABELS

range_ = ui.page_header("Topics", "What the news is about, and how each subject feels.")
url = ui.database_url()

series = queries.scope_series(url, "topic", range_.bucket_seconds, range_.since, range_.until, queries.TOPIC_KEYS)
if series.empty:
    ui.empty_state()
    st.stop()
series = charts.with_topic_names(series)
totals = charts.with_topic_names(
    queries.scope_totals(url, "topic", range_.bucket_seconds, range_.since, range_.until, limit=len(TOPIC_LABELS),
                         scope_keys=queries.TOPIC_KEYS))

st.subheader("Volume by topic")
domain = (range_.since, range_.until)
st.altair_chart(charts.topic_volume_area(series, domain), width="stretch")

left, right = st.columns([3, 2], gap="large")
with left:
    st.subheader("Sentiment by topic over time")
    st.altair_chart(charts.topic_sentiment_heatmap(series, range_.bucket_seconds, domain), width="stretch")
with right:
    st.subheader("Sentiment mix per topic")
    st.altair_chart(charts.topic_breakdown_bars(totals), width="stretch")

st.subheader("One topic")
topic = st.selectbox("Topic", totals["topic"].tolist(), key="topics_topic")
chosen = series[series["topic"] == topic]
ui.sentiment_and_volume(chosen, range_, height=220)
st.dataframe(totals[["topic", "article_count", "story_count", "mean_score", "negative_share", "positive_share"]],
             hide_index=True, width="stretch", column_config={
                 "article_count": "articles", "story_count": "stories",
                 "mean_score": st.column_config.NumberColumn("mean sentiment", format="%+.2f"),
                 "negative_share": st.column_config.ProgressColumn("negative", format="percent", min_value=0,
                                                                   max_value=1),
                 "positive_share": st.column_config.ProgressColumn("positive", format="percent", min_value=0,
                                                                   max_value=1)})
