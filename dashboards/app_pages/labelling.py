"""Labelling page: analysts correct an article's sentiment, topic or entities.

Each saved correction is one analyst_labels row (task, label JSON, author,
created_at) that the retraining job reads; the model's own prediction and
version are stored beside it so a reviewer can see what was corrected.
"""

from __future__ import annotations

import json

import pandas as pd
import streamlit as st

from dashboards import actions, filters, queries, ui
from model.network.labels import ENTITY_TYPES, SENTIMENT_LABELS, TOPIC_LABELS
from monitor.storage.db import session_factory

range_ = ui.page_header("Labelling", "Correct what the model got wrong; corrections feed the next retrain.")
url = ui.database_url()
author = filters.analyst_name()

ARTICLES_PER_PAGE = 50
search = st.text_input("Search headlines", key="label_search", placeholder="e.g. guidance")
list_context = (search, range_.since, range_.until)  # paging starts again when any of these changes
cursor = ui.page_cursor("label_articles", list_context)
articles = queries.search_articles(url, search, range_.since, range_.until, limit=ARTICLES_PER_PAGE, cursor=cursor)
if articles.empty:
    ui.empty_state("No older articles match in this time range." if cursor is not None
                   else "No articles match in this time range." if search else ui.NO_DATA)
    ui.pager("label_articles", list_context, articles, ARTICLES_PER_PAGE)
    st.stop()

by_id = {row["id"]: row for row in ui.records(articles)}
article_id = st.selectbox("Article", list(by_id), key="label_article", format_func=lambda i: (
    f"{by_id[i]['published_at']:%m-%d %H:%M} · {by_id[i]['source']} · {by_id[i]['headline'][:110]}"))
article = by_id[article_id]
ui.pager("label_articles", list_context, articles, ARTICLES_PER_PAGE)
mentions = ui.mentions_of(queries.entity_mentions(
    url, (article_id,), ui.published_times(articles[articles["id"] == article_id])), article)
st.markdown(ui.article_card(article, mentions), unsafe_allow_html=True)
if not author:
    st.warning("Enter your name in the sidebar: corrections are stored with who made them.", icon=":material/person:")


def save(task: str, label: dict) -> None:
    """Store one correction and confirm it on the next run."""
    try:
        with session_factory(url).begin() as session:
            actions.record_label(session, article_id, task, label, author, article.get("model_version"))
    except actions.ActionError as error:
        st.error(str(error))
        return
    queries.clear_after_write(queries.analyst_labels)
    ui.flash(f"Saved your {task} label for this article.")
    st.rerun()


sentiment_tab, topic_tab, entities_tab = st.tabs(["Sentiment", "Topic", "Entities"])
with sentiment_tab, st.form("label_sentiment"):
    predicted = article.get("sentiment_label")
    sentiment = st.radio("Sentiment", SENTIMENT_LABELS, horizontal=True,
                         index=SENTIMENT_LABELS.index(predicted) if predicted in SENTIMENT_LABELS else 1)
    if st.form_submit_button("Save sentiment", disabled=not author):
        save("sentiment", actions.sentiment_label(sentiment, predicted))
with topic_tab, st.form("label_topic"):
    predicted_topic = None if pd.isna(article.get("topic")) else int(article["topic"])
    topic = st.selectbox("Topic", range(len(TOPIC_LABELS)), format_func=lambda i: TOPIC_LABELS[i],
                         index=predicted_topic if predicted_topic is not None else 0)
    if st.form_submit_button("Save topic", disabled=not author):
        save("topic", actions.topic_label(int(topic), predicted_topic))
with entities_tab, st.form("label_entities"):
    st.caption("One row per entity in the headline: its exact text, type and the sentiment toward it. "
               "Add or delete rows as needed.")
    headline_mentions = [m for m in mentions if int(m["end_char"]) <= len(article["headline"])]
    rows = pd.DataFrame([{"text": m["text"], "type": m["entity_type"] if m["entity_type"] in ENTITY_TYPES else "ORG",
                          "sentiment": m["sentiment_label"]} for m in headline_mentions],
                        columns=["text", "type", "sentiment"])
    edited = st.data_editor(rows, num_rows="dynamic", width="stretch", hide_index=True, column_config={
        "text": st.column_config.TextColumn("text", required=True),
        "type": st.column_config.SelectboxColumn("type", options=list(ENTITY_TYPES), required=True),
        "sentiment": st.column_config.SelectboxColumn("sentiment", options=list(SENTIMENT_LABELS), required=True)})
    if st.form_submit_button("Save entities", disabled=not author):
        try:
            corrections = [actions.EntityCorrection(str(r["text"] or ""), str(r["type"] or ""),
                                                    str(r["sentiment"] or ""))
                           for r in edited.to_dict("records")]
            label = actions.entities_label(article["headline"], corrections)
        except actions.ActionError as error:
            st.error(str(error))
        else:
            save("entities", label)

st.subheader("Corrections of this article")
labels = queries.analyst_labels(url, article_id)
if labels.empty:
    st.caption("None yet.")
else:
    labels = labels.assign(label=labels["label"].map(json.dumps))
    st.dataframe(labels[["created_at", "author", "task", "label"]], hide_index=True, width="stretch",
                 column_config={"created_at": st.column_config.DatetimeColumn("when", format="YYYY-MM-DD HH:mm")})
with st.expander("Latest corrections by everyone"):
    everyone = queries.analyst_labels(url, None)
    everyone = everyone.assign(label=everyone["label"].map(json.dumps))
    st.dataframe(everyone[["created_at", "author", "task", "headline", "label"]], hide_index=True, width="stretch")
