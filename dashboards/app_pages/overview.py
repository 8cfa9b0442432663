"""Overview page: what the market is feeling now, who moved, what is firing, is the worker healthy."""

from __future__ import annotations

from datetime import UTC, datetime

import altair as alt
import pandas as pd
import streamlit as st

from dashboards import charts, filters, health, queries, ui

range_ = ui.page_header("Market sentiment", "What is the market feeling, about whom, since when, and why.")
url = ui.database_url()
ALL_NEWS = ("global", "all")


def scope_choices() -> list[tuple[str, str]]:
    """All news, then each source and sector seen in the range (busiest first): aggregate scopes only."""
    choices = [ALL_NEWS]
    for kind in ("source", "sector"):
        totals = queries.range_choices(url, kind, range_.bucket_seconds, range_.since, range_.until, limit=50)
        choices += [(kind, key) for key in totals["scope_key"]]
    return choices


def describe_scope(scope: tuple[str, str]) -> str:
    return "All news" if scope == ALL_NEWS else f"{scope[0].capitalize()}: {scope[1]}"


scope_kind, scope_key = st.selectbox("News from", scope_choices(), format_func=describe_scope, key="overview_scope")


@st.fragment(run_every=filters.refresh_interval())
def headline_numbers() -> None:
    """Totals of the range against the range just before it."""
    width = range_.until - range_.since
    current = queries.scope_series(url, scope_kind, range_.bucket_seconds, range_.since, range_.until, (scope_key,))
    previous = queries.scope_series(url, scope_kind, range_.bucket_seconds, range_.since - width, range_.since,
                                    (scope_key,))
    now, before = ui.series_totals(current), ui.series_totals(previous)
    firing = queries.active_alerts(url)
    columns = st.columns(5)
    columns[0].metric("Articles", f"{now['articles']:,.0f}", f"{now['articles'] - before['articles']:+,.0f}",
                      border=True)
    columns[1].metric("Stories", f"{now['stories']:,.0f}", f"{now['stories'] - before['stories']:+,.0f}",
                      border=True)
    mean_delta = (f"{now['mean'] - before['mean']:+.2f}" if now["mean"] is not None and before["mean"] is not None
                  else None)
    columns[2].metric("Mean sentiment", "—" if now["mean"] is None else f"{now['mean']:+.2f}", mean_delta,
                      border=True)
    negative_delta = (f"{(now['negative'] - before['negative']) * 100:+.1f} pt"
                      if now["negative"] is not None and before["negative"] is not None else None)
    columns[3].metric("Negative share", "—" if now["negative"] is None else f"{now['negative']:.0%}", negative_delta,
                      delta_color="inverse", border=True)
    firing_now = int((firing["status"] == "firing").sum()) if not firing.empty else 0
    columns[4].metric("Alerts firing", firing_now, border=True)
    banner = ui.firing_banner(firing)
    if banner:
        st.error(banner + " See *Firing alerts* below, or act on them on the Alerts page.",
                 icon=":material/notifications_active:")


headline_numbers()

if range_.latest_data is None:
    ui.empty_state()
else:
    left, right = st.columns([2, 1], gap="large")
    with left:
        series = queries.scope_series(url, scope_kind, range_.bucket_seconds, range_.since, range_.until,
                                      (scope_key,))
        if series.empty:
            ui.empty_state("No articles in this time range — widen it in the sidebar.")
        else:
            ui.sentiment_and_volume(series, range_)
    with right:
        st.subheader("Top movers")
        st.caption("Tickers whose sentiment moved most against their previous 7 days.")
        movers = queries.top_movers(url, range_.rollup_since, range_.rollup_until,
                                    range_.rollup_since - filters.BASELINE, bucket_seconds=range_.rollup_seconds)
        if movers.empty:
            ui.empty_state("Not enough history yet: movers need 3 stories in the range and in the 7 days before.")
        else:
            st.altair_chart(charts.movers_bars(movers), width="stretch")
            st.dataframe(movers[["ticker", "recent_mean", "baseline_mean", "shift", "recent_stories"]],
                         hide_index=True, width="stretch", column_config={
                             "ticker": st.column_config.TextColumn("ticker"),
                             "recent_mean": st.column_config.NumberColumn("now", format="%+.2f"),
                             "baseline_mean": st.column_config.NumberColumn("baseline", format="%+.2f"),
                             "shift": st.column_config.NumberColumn("shift", format="%+.2f"),
                             "recent_stories": st.column_config.NumberColumn("stories")})

    st.subheader("Sentiment by topic")
    topic_totals = charts.with_topic_names(
        queries.scope_totals(url, "topic", range_.bucket_seconds, range_.since, range_.until, limit=20,
                         scope_keys=queries.TOPIC_KEYS))
    busiest = topic_totals["topic"].head(5).tolist()
    chosen = st.multiselect("Topics", topic_totals["topic"].tolist(), default=busiest, key="overview_topics")
    topic_series = charts.with_topic_names(
        queries.scope_series(url, "topic", range_.bucket_seconds, range_.since, range_.until, queries.TOPIC_KEYS))
    topic_series = topic_series[topic_series["topic"].isin(chosen)]
    if topic_series.empty:
        ui.empty_state("No topic in this range — pick one above or widen the range.")
    else:
        st.altair_chart(alt.Chart(topic_series).mark_line(point=True).encode(
            x=alt.X("bucket_start:T", axis=charts.TIME_AXIS,
                    scale=alt.Scale(domain=[range_.since.isoformat(), range_.until.isoformat()])),
            y=alt.Y("mean_score:Q", scale=alt.Scale(domain=[-1, 1]), axis=charts.SENTIMENT_AXIS),
            color=alt.Color("topic:N", scale=alt.Scale(scheme="tableau10")),
            tooltip=["topic:N", alt.Tooltip("mean_score:Q", format="+.2f"), "story_count:Q"],
        ).properties(height=300), width="stretch")

alerts_column, health_column = st.columns([2, 1], gap="large")


@st.fragment(run_every=filters.refresh_interval())
def firing_alerts() -> None:
    st.subheader("Firing alerts")
    active = queries.active_alerts(url)
    if active.empty:
        st.success("Nothing is firing or pending.", icon=":material/check_circle:")
        return
    counts = active["status"].value_counts()
    st.caption(f"{counts.get('firing', 0)} firing, {counts.get('pending', 0)} pending (waiting out their `for` "
               "duration), whatever the time range.")
    view = active.assign(
        what=active["labels"].map(lambda labels: ", ".join(f"{k}={v}" for k, v in sorted(labels.items()))),
        summary=active["annotations"].map(lambda notes: notes.get("summary", "")),
        silenced=active["silenced"].map(lambda s: "silenced" if s else ""))
    st.dataframe(view[["status", "severity", "rule_name", "what", "summary", "starts_at", "silenced",
                       "acknowledged_by"]], hide_index=True, width="stretch",
                 column_config={"starts_at": st.column_config.DatetimeColumn("since", format="MMM D HH:mm"),
                                "rule_name": "rule", "acknowledged_by": "acknowledged by"})
    st.page_link("app_pages/alerts.py", label="Act on alerts", icon=":material/arrow_forward:")


@st.fragment(run_every=filters.refresh_interval())
def worker_health() -> None:
    st.subheader("Worker")
    port = int(st.session_state.get("metrics_port", 9464))
    metrics = health.scrape_worker(port)
    readiness = health.fetch_readiness(port) if metrics is not None else None
    if readiness is not None and readiness.ready:
        st.success("Ready", icon=":material/check_circle:")
    elif readiness is not None:
        reasons = [reason for reason in readiness.reasons if reason != readiness.status]  # "stopping" says itself
        st.warning(f"{readiness.status.capitalize()}" + (": " + "; ".join(reasons) if reasons else ""),
                   icon=":material/warning:")
    latest = queries.latest_output(url)
    throughput = queries.stored_throughput(url, health.THROUGHPUT_WINDOW_MINUTES)
    if metrics is None:
        st.caption("Metrics endpoint not reachable: figures below come from the stored rows.")
        ui.stat("Model version", latest["model_version"] if latest else "—")
    else:
        ui.stat("Model version", metrics.model_version or (latest["model_version"] if latest else "—"))
        st.metric("Consumer lag", "unknown" if metrics.consumer_lag is None else f"{metrics.consumer_lag:,.0f}")
        if metrics.articles_processed is not None:
            st.metric("Articles processed", f"{metrics.articles_processed:,.0f}")
    st.metric(f"Stored (last {health.THROUGHPUT_WINDOW_MINUTES} min)",
              health.describe_throughput(throughput["per_minute"]),
              help="Articles the worker stored per minute, counted by when they were stored (articles.received_at),"
                   " not when they were published: a replay stores years of news in minutes.")
    if throughput["newest_received_at"] is not None and not throughput["stored"]:
        idle = (throughput["measured_at"] - throughput["newest_received_at"]).total_seconds()
        st.caption(f"Nothing stored for {ui.humanise(idle)}: the newest article was stored "
                   f"{throughput['newest_received_at']:%Y-%m-%d %H:%M:%S} UTC.")
    if latest:
        predicted = pd.Timestamp(latest["created_at"]).to_pydatetime()
        st.caption(f"Last prediction stored {predicted:%Y-%m-%d %H:%M:%S} UTC "
                   f"({(datetime.now(UTC) - predicted).total_seconds() / 60:,.0f} min ago).")


with alerts_column:
    firing_alerts()
with health_column:
    worker_health()
