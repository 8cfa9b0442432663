"""Altair chart builders shared by the pages: one function per kind of chart.

They take the DataFrames that dashboards/queries.py returns and know nothing
about Streamlit, so a page is "query, then chart, then st.altair_chart".
"""

from __future__ import annotations

from datetime import datetime

import altair as alt
import pandas as pd

from model.network.labels import SENTIMENT_LABELS, TOPIC_LABELS
from model.network.tasks import TASKS

# Streamlit draws charts with autosize "fit": a chart's height includes its title,
# axes and legend, so heights below add that overhead to the plot area wanted.
AXIS_OVERHEAD = 70
NEGATIVE, NEUTRAL, POSITIVE = "#c0392b", "#95a5a6", "#27ae60"
SENTIMENT_SCALE = alt.Scale(domain=[-1, 0, 1], range=[NEGATIVE, "#f4f4f4", POSITIVE])
SENTIMENT_AXIS = alt.Axis(title="mean sentiment", values=[-1, -0.5, 0, 0.5, 1])
TIME_AXIS = alt.Axis(title=None, format="%b %d %H:%M", labelAngle=0)


def _time_scale(domain: tuple[datetime, datetime] | None) -> alt.Scale:
    return alt.Scale(domain=[d.isoformat() for d in domain]) if domain else alt.Scale()


def with_bucket_end(series: pd.DataFrame, bucket_seconds: int) -> pd.DataFrame:
    """Add bucket_end so bars span their whole bucket on a time axis."""
    return series.assign(bucket_end=series["bucket_start"] + pd.Timedelta(seconds=bucket_seconds))


def sentiment_line(series: pd.DataFrame, domain: tuple[datetime, datetime] | None = None,
                   alert_starts: pd.DataFrame | None = None, height: int = 260) -> alt.LayerChart:
    """Mean sentiment per bucket, a dashed zero line, and a red rule where each alert started."""
    zero = alt.Chart(pd.DataFrame({"y": [0]})).mark_rule(color="#bbbbbb", strokeDash=[4, 4]).encode(y="y:Q")
    line = alt.Chart(series).mark_line(point=alt.OverlayMarkDef(size=22), color="#34495e").encode(
        x=alt.X("bucket_start:T", axis=TIME_AXIS, scale=_time_scale(domain)),
        y=alt.Y("mean_score:Q", scale=alt.Scale(domain=[-1, 1]), axis=SENTIMENT_AXIS),
        tooltip=[alt.Tooltip("bucket_start:T", title="bucket", format="%Y-%m-%d %H:%M"),
                 alt.Tooltip("mean_score:Q", title="mean sentiment", format="+.2f"),
                 alt.Tooltip("story_count:Q", title="stories"),
                 alt.Tooltip("negative_share:Q", title="negative share", format=".0%")])
    layers: list[alt.Chart] = [zero, line]
    if alert_starts is not None and not alert_starts.empty:
        layers.append(alt.Chart(alert_starts).mark_rule(color=NEGATIVE, strokeWidth=2).encode(
            x="starts_at:T", tooltip=["rule_name:N", "severity:N", "status:N",
                                      alt.Tooltip("starts_at:T", format="%Y-%m-%d %H:%M")]))
    chart = alt.layer(*layers)
    assert isinstance(chart, alt.LayerChart)  # a FacetChart only when the layers share facet encodings: none has one
    return chart.properties(height=height, title="Sentiment")


def stacked_volume(series: pd.DataFrame, bucket_seconds: int) -> pd.DataFrame:
    """Long form for volume bars: one row per (bucket, sentiment) with its stacked span [stack_low, stack_high)."""
    rows = []
    for bucket in with_bucket_end(series, bucket_seconds).itertuples(index=False):
        low = 0
        for label in SENTIMENT_LABELS:
            count = int(getattr(bucket, f"{label}_count"))
            rows.append({"bucket_start": bucket.bucket_start, "bucket_end": bucket.bucket_end, "label": label,
                         "stories": count, "stack_low": low, "stack_high": low + count})
            low += count
    return pd.DataFrame(rows, columns=["bucket_start", "bucket_end", "label", "stories", "stack_low", "stack_high"])


def volume_bars(series: pd.DataFrame, bucket_seconds: int, domain: tuple[datetime, datetime] | None = None,
                height: int = 200) -> alt.Chart:
    """Stories per bucket, stacked by sentiment; each bar spans its bucket (rects with explicit corners,
    since Vega-Lite will not stack bars that have an x2)."""
    return alt.Chart(stacked_volume(series, bucket_seconds)).mark_rect().encode(
        x=alt.X("bucket_start:T", axis=TIME_AXIS, scale=_time_scale(domain)),
        x2="bucket_end:T",
        y=alt.Y("stack_low:Q", title="stories", axis=alt.Axis(tickMinStep=1)),
        y2="stack_high:Q",
        color=alt.Color("label:N", title=None, scale=alt.Scale(domain=list(SENTIMENT_LABELS),
                                                              range=[NEGATIVE, NEUTRAL, POSITIVE]),
                        legend=None),  # the title names the colours: a legend would squeeze the plot
        tooltip=[alt.Tooltip("bucket_start:T", title="bucket", format="%Y-%m-%d %H:%M"), "label:N", "stories:Q"],
    ).properties(height=height, title="Stories per bucket: red negative, grey neutral, green positive")


def with_topic_names(frame: pd.DataFrame) -> pd.DataFrame:
    """Replace the topic id in scope_key by its name from model.network.labels.TOPIC_LABELS."""
    ids = pd.to_numeric(frame["scope_key"], errors="coerce")
    names = ids.map(lambda i: TOPIC_LABELS[int(i)] if pd.notna(i) and 0 <= int(i) < len(TOPIC_LABELS) else None)
    return frame.assign(topic=names.fillna(frame["scope_key"]))


def topic_volume_area(series: pd.DataFrame, domain: tuple[datetime, datetime] | None = None,
                      height: int = 300) -> alt.Chart:
    """Stacked articles per topic over time."""
    return alt.Chart(series).mark_area(interpolate="step-after").encode(
        x=alt.X("bucket_start:T", axis=TIME_AXIS, scale=_time_scale(domain)),
        y=alt.Y("article_count:Q", stack=True, title="articles"),
        color=alt.Color("topic:N", title="topic", scale=alt.Scale(scheme="tableau20")),
        tooltip=["topic:N", alt.Tooltip("bucket_start:T", format="%Y-%m-%d %H:%M"), "article_count:Q"],
    ).properties(height=height)


def topic_sentiment_heatmap(series: pd.DataFrame, bucket_seconds: int, domain: tuple[datetime, datetime] | None = None,
                            height: int = 480) -> alt.Chart:
    """Mean sentiment per topic (rows) and bucket (columns); empty cells mean no stories."""
    return alt.Chart(with_bucket_end(series, bucket_seconds)).mark_rect().encode(
        x=alt.X("bucket_start:T", axis=TIME_AXIS, scale=_time_scale(domain)),
        x2="bucket_end:T",
        y=alt.Y("topic:N", title=None, sort=list(TOPIC_LABELS)),
        color=alt.Color("mean_score:Q", scale=SENTIMENT_SCALE, title="sentiment"),
        tooltip=["topic:N", alt.Tooltip("bucket_start:T", format="%Y-%m-%d %H:%M"),
                 alt.Tooltip("mean_score:Q", format="+.2f"), "story_count:Q"],
    ).properties(height=height)


def topic_breakdown_bars(totals: pd.DataFrame, height: int = 480) -> alt.Chart:
    """Share of negative / neutral / positive stories within each topic, busiest topic first."""
    order = totals.sort_values("article_count", ascending=False)["topic"].tolist()
    return alt.Chart(totals).transform_fold(
        ["negative_count", "neutral_count", "positive_count"], as_=["label", "stories"]).mark_bar().encode(
        y=alt.Y("topic:N", sort=order, title=None),
        x=alt.X("stories:Q", stack="normalize", title="share of stories", axis=alt.Axis(format="%")),
        color=alt.Color("label:N", title=None, scale=alt.Scale(
            domain=["negative_count", "neutral_count", "positive_count"], range=[NEGATIVE, NEUTRAL, POSITIVE]),
            legend=alt.Legend(orient="bottom", labelExpr="replace(datum.label, '_count', '')")),
        tooltip=["topic:N", "label:N", "stories:Q"],
    ).properties(height=height)


def movers_bars(movers: pd.DataFrame) -> alt.Chart:
    """Each mover's sentiment shift against its baseline: red down, green up."""
    return alt.Chart(movers).mark_bar().encode(
        y=alt.Y("ticker:N", sort=alt.EncodingSortField("shift", order="ascending"), title=None),
        x=alt.X("shift:Q", title="sentiment shift vs 7-day baseline", scale=alt.Scale(domain=[-2, 2])),
        color=alt.condition("datum.shift < 0", alt.value(NEGATIVE), alt.value(POSITIVE)),
        tooltip=["ticker:N", alt.Tooltip("recent_mean:Q", format="+.2f"),
                 alt.Tooltip("baseline_mean:Q", format="+.2f"), alt.Tooltip("shift:Q", format="+.2f"),
                 alt.Tooltip("z:Q", format="+.1f"), alt.Tooltip("recent_stories:Q", title="stories")],
    ).properties(height=AXIS_OVERHEAD + 28 * max(len(movers), 2))


def count_bars(frame: pd.DataFrame, category: str, count: str, color_by_score: str | None = None) -> alt.Chart:
    """Horizontal bars of a count per category (sources, co-mentioned entities)."""
    color = (alt.Color(f"{color_by_score}:Q", scale=SENTIMENT_SCALE, title="sentiment")
             if color_by_score else alt.value("#34495e"))
    return alt.Chart(frame).mark_bar().encode(
        y=alt.Y(f"{category}:N", sort="-x", title=None),
        x=alt.X(f"{count}:Q", title=count, axis=alt.Axis(tickMinStep=1, format="d")),
        color=color,
        tooltip=list(frame.columns),
    ).properties(height=AXIS_OVERHEAD + 28 * max(len(frame), 2))


def dev_score_columns(metric_names: list[str]) -> list[str]:
    """The metric columns (`dataset.task.metric`) that hold each task's dev score: its headline metric
    (model.network.tasks), for the tasks the dev score counts. Counts (`.n`) and secondary scores are one
    click away, not the chart's first view."""
    headline = {task.slug: task.metric for task in TASKS if task.in_dev_score}
    chosen = []
    for name in metric_names:
        parts = name.split(".")
        if len(parts) == 3 and headline.get(parts[1]) == parts[2]:
            chosen.append(name)
    return chosen
