"""Alerts page: firing / pending / resolved / silenced alerts, their evidence, deliveries, and actions.

Acknowledging writes alerts.acknowledged_by/at; silencing writes a `silences`
row whose matchers are the chosen labels of the alert plus any Alertmanager
matchers typed in (parsed and checked by the CLI's code, with a preview of the
alerts it would mute now). The alert engine (monitor/alerts) reads silences on
its next evaluation. With FINSENT_ALERTMANAGER_URL set (the alerter also posts
to an Alertmanager), silences are Alertmanager's instead: the page lists them
(`GET /api/v2/silences`), creates them (`POST /api/v2/silences`) and expires
them, through dashboards/actions.py.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import streamlit as st

from dashboards import actions, filters, queries, ui
from monitor.alerts.delivery.alertmanager_api import describe_matchers
from monitor.storage.db import session_factory

STATUSES = ("firing", "pending", "resolved")
SILENCE_DURATIONS = {"1 hour": timedelta(hours=1), "4 hours": timedelta(hours=4), "24 hours": timedelta(days=1),
                     "7 days": timedelta(days=7)}
EVIDENCE_ARTICLE_KEYS = ("top_articles", "top_article_ids", "article_ids")  # monitor/alerts writes top_articles
EVIDENCE_NUMBERS = ("value", "baseline", "zscore", "stories")
NO_MATCH = "No alert matches the chosen statuses (firing and pending at any time, resolved in this time range)."

range_ = ui.page_header("Alerts", "What fired, why, who is on it, and whether the webhooks got through.")
url = ui.database_url()
alertmanager_url = ui.alertmanager_url()


def describe_labels(labels: dict[str, Any]) -> str:
    return ", ".join(f"{k}={v}" for k, v in sorted(labels.items()))


def evidence_article_ids(evidence: dict[str, Any]) -> tuple[str, ...]:
    for key in EVIDENCE_ARTICLE_KEYS:
        value = evidence.get(key)
        if isinstance(value, list):
            ids = (item.get("id") or item.get("article_id") if isinstance(item, dict) else item for item in value)
            return tuple(str(i) for i in ids if i)
    return ()


left, right = st.columns([3, 1])
statuses = left.multiselect("Status", STATUSES, default=["firing", "pending"], key="alert_statuses")
show_silenced = right.toggle("Include silenced", value=True, key="alert_show_silenced")


st.caption("Firing and pending alerts are listed whatever the time range; resolved ones when they were active "
           "in it.")


@st.fragment(run_every=filters.refresh_interval())
def alert_list() -> None:
    found = queries.alerts_in_range(url, tuple(statuses), range_.since, range_.until)
    if not show_silenced and not found.empty:
        found = found[~found["silenced"]]
    if found.empty:
        st.success(NO_MATCH, icon=":material/check_circle:")
        return
    banner = ui.firing_banner(found)
    if banner:
        st.error(banner, icon=":material/notifications_active:")
    view = found.assign(what=found["labels"].map(describe_labels),
                        summary=found["annotations"].map(lambda notes: notes.get("summary", "")),
                        silenced=found["silenced"].map(lambda s: "🔕" if s else ""))
    st.dataframe(view[["id", "status", "silenced", "severity", "rule_name", "what", "summary", "starts_at", "ends_at",
                       "acknowledged_by"]], hide_index=True, width="stretch", column_config={
        "starts_at": st.column_config.DatetimeColumn("started", format="MMM D HH:mm"),
        "ends_at": st.column_config.DatetimeColumn("resolved", format="MMM D HH:mm"),
        "rule_name": "rule", "acknowledged_by": "acknowledged by"})


alert_list()


def alertmanager_silence_list() -> None:
    """Alertmanager's silences, with a way to end one (shown whether or not finsent has alerts)."""
    st.caption(f"Silences in {alertmanager_url}")
    try:
        am_silences = actions.alertmanager_silences(alertmanager_url, include_expired=st.toggle(
            "Include expired", value=False, key="am_silences_expired"))
    except actions.ActionError as error:
        st.error(str(error))
    else:
        if not am_silences:
            st.caption("No active or pending silence.")
        else:
            st.dataframe([{"id": s_["id"], "state": s_.get("status", {}).get("state", ""),
                           "matchers": describe_matchers(s_.get("matchers", [])), "created by": s_.get("createdBy"),
                           "comment": s_.get("comment"), "starts": s_.get("startsAt"), "ends": s_.get("endsAt")}
                          for s_ in am_silences], hide_index=True, width="stretch")
            live = [s_["id"] for s_ in am_silences if s_.get("status", {}).get("state") != "expired"]
            if live:
                chosen = st.selectbox("Silence to end", live, key="am_silence_expire")
                if st.button("End silence now", key="am_silence_expire_button"):
                    try:
                        actions.expire_alertmanager_silence(alertmanager_url, chosen)
                    except actions.ActionError as error:
                        st.error(str(error))
                    else:
                        ui.flash(f"Alertmanager silence {chosen} ended.")
                        st.rerun()


if alertmanager_url:
    with st.expander("Alertmanager silences", expanded=True):
        alertmanager_silence_list()

found = queries.alerts_in_range(url, tuple(statuses), range_.since, range_.until)
if found.empty:
    st.stop()
by_id = {int(row["id"]): row for row in ui.records(found)}
alert_id = st.selectbox("Alert", list(by_id), key="alert_selected",
                        format_func=lambda i: f"#{i} {by_id[i]['rule_name']} ({describe_labels(by_id[i]['labels'])})")
alert = by_id[alert_id]

st.subheader(f"#{alert_id} {alert['rule_name']}")
st.markdown(f"**{alert['status']}** · severity **{alert['severity']}** · "
            f"since {alert['starts_at']:%Y-%m-%d %H:%M} UTC"
            + (" · 🔕 silenced" if alert["silenced"] else "")
            + (f" · acknowledged by **{alert['acknowledged_by']}**" if alert["acknowledged_by"] else ""))
if alert["annotations"].get("summary") or alert["annotations"].get("description"):
    notes = alert["annotations"]
    st.info(" — ".join(str(notes[k]) for k in ("summary", "description") if notes.get(k)))

evidence_column, delivery_column = st.columns([3, 2], gap="large")
with evidence_column:
    st.markdown("**Evidence**")
    numbers = {k: alert["evidence"][k] for k in EVIDENCE_NUMBERS
               if isinstance(alert["evidence"].get(k), (int, float))}
    if numbers:
        metric_columns = st.columns(min(len(numbers), 4))
        for column, (name, value) in zip(metric_columns, list(numbers.items())[:4], strict=False):
            column.metric(name.replace("_", " "), f"{value:+.2f}" if isinstance(value, float) else value)
    cited = alert["evidence"].get("events") or []
    if cited:  # the financial events about the company in the window (monitor/alerts/rules/store.py)
        st.markdown("**Events cited**")
        st.markdown(ui.event_chips(cited), unsafe_allow_html=True)
    article_ids = evidence_article_ids(alert["evidence"])
    if article_ids:
        evidence_articles = queries.articles_by_id(url, article_ids)
        mentions = queries.entity_mentions(url, tuple(evidence_articles["id"]))
        events = queries.article_events(url, tuple(evidence_articles["id"]))
        st.markdown("".join(ui.article_card(article, ui.mentions_of(mentions, article), ui.events_of(events, article))
                            for article in ui.records(evidence_articles)), unsafe_allow_html=True)
    else:
        st.caption("The alert carries no article ids.")
with delivery_column:
    st.markdown("**Webhook deliveries**")
    deliveries = queries.webhook_deliveries(url, alert_id)
    if deliveries.empty:
        st.caption("No notifications were sent for this alert (routed nowhere, or still pending evaluation).")
    else:
        st.dataframe(deliveries[["receiver", "status", "attempts", "last_error", "delivered_at"]], hide_index=True,
                     width="stretch", column_config={
                         "delivered_at": st.column_config.DatetimeColumn("delivered", format="MMM D HH:mm:ss")})

st.divider()
act_column, silence_column = st.columns([1, 2], gap="large")
author = filters.analyst_name()
with act_column:
    st.markdown("**Acknowledge**")
    st.caption("Says you are on it; the alert keeps firing and notifying.")
    if st.button("Acknowledge", key="acknowledge", disabled=bool(alert["acknowledged_by"]), type="primary"):
        try:
            with session_factory(url).begin() as session:
                actions.acknowledge_alert(session, alert_id, author)
        except actions.ActionError as error:
            st.error(str(error))
        else:
            queries.clear_after_write(queries.alerts_in_range, queries.active_alerts)
            ui.flash(f"Alert #{alert_id} acknowledged by {author}.")
            st.rerun()
with silence_column:
    st.markdown("**Silence**" + (f" (in Alertmanager, {alertmanager_url})" if alertmanager_url else ""))
    if alertmanager_url:
        st.caption("Mutes Alertmanager's notifications; finsent's own webhooks are muted by "
                   "`finsent alerts silence` (docs/alerts.md).")
    with st.form("silence_form"):
        label_names = sorted(alert["labels"])
        # The series' identity by default (rule + its scope key): silences this alert, not its whole sector.
        identity = [n for n in ("alertname", alert["labels"].get("scope")) if n in alert["labels"]]
        matched = st.multiselect("Match labels", label_names, default=identity or label_names,
                                 format_func=lambda name: f"{name}={alert['labels'][name]}")
        more = st.text_area("More matchers", placeholder='one per line: ticker!=BA, alertname=~"drift.*"',
                            help="Alertmanager syntax: name=value, name!=value, name=~regex, name!~regex "
                                 "(anchored, RE2); all must match.")
        duration = st.selectbox("For", list(SILENCE_DURATIONS), index=1)
        comment = st.text_input("Comment", placeholder="why this is noise")
        force = st.checkbox("Even if it would silence every alert", value=False)
        preview_clicked = st.form_submit_button("Preview")
        submitted = st.form_submit_button("Silence")
    if alertmanager_url and (preview_clicked or submitted):
        try:
            matchers = actions.silence_matchers({name: str(alert["labels"][name]) for name in matched}, more)
            muted_am = actions.preview_alertmanager_silence(alertmanager_url, matchers)
            am_silence_id = None
            if submitted:
                am_silence_id = actions.create_alertmanager_silence(alertmanager_url, matchers,
                                                                    SILENCE_DURATIONS[duration], author, comment)
        except actions.ActionError as error:
            st.error(str(error))
        else:
            if am_silence_id is None:
                st.caption(f"Would silence {len(muted_am)} of Alertmanager's alert(s) now.")
                if muted_am:
                    st.dataframe([{"state": a.get("status", {}).get("state", ""),
                                   "labels": describe_labels(a.get("labels", {}))} for a in muted_am],
                                 hide_index=True, width="stretch")
            else:
                ui.flash(f"Alertmanager silence {am_silence_id} created for {duration}; "
                         f"it mutes {len(muted_am)} alert(s) now.")
                st.rerun()
    elif preview_clicked or submitted:
        try:
            matchers = actions.silence_matchers({name: str(alert["labels"][name]) for name in matched}, more)
            with session_factory(url).begin() as session:
                muted = [(row.id, row.status, row.rule_name, describe_labels(row.labels))
                         for row in actions.preview_silence(session, matchers)]
                silence_id = None
                if submitted:
                    silence_id = actions.create_silence(session, matchers, SILENCE_DURATIONS[duration], author,
                                                        comment, force=force).id
        except actions.ActionError as error:
            st.error(str(error))
        else:
            if silence_id is None:
                st.caption(f"Would silence {len(muted)} firing or pending alert(s) now.")
                if muted:
                    st.dataframe([{"id": i, "status": s_, "rule": r, "labels": lbl} for i, s_, r, lbl in muted],
                                 hide_index=True, width="stretch")
            else:
                queries.clear_after_write(queries.alerts_in_range, queries.active_alerts)
                ui.flash(f"Silence #{silence_id} created for {duration}; it mutes {len(muted)} alert(s) now.")
                st.rerun()

