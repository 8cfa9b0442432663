"""Small pieces every page uses: where the database is, empty states, entity highlighting, badges."""

from __future__ import annotations

import html
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any, TypedDict

import pandas as pd
import streamlit as st

from dashboards import filters, queries
from model.network.labels import TOPIC_LABELS

SENTIMENT_COLOURS = {"negative": "#fadbd8", "neutral": "#eaeded", "positive": "#d5f5e3"}
SENTIMENT_ARROWS = {"negative": "▼", "neutral": "■", "positive": "▲"}
NO_DATA = "No data yet — is the worker running? Start the stack and the worker (`make run`), or widen the time range."


def database_url() -> str:
    """The database this session reads, set by app.py from the settings on every run."""
    return st.session_state["database_url"]


def alertmanager_url() -> str:
    """The Alertmanager base URL (FINSENT_ALERTMANAGER_URL; empty: off), set by app.py from the settings on
    every run."""
    return st.session_state["alertmanager_url"]


def empty_state(message: str = NO_DATA) -> None:
    st.info(message, icon=":material/hourglass_empty:")


def page_header(title: str, subtitle: str) -> filters.TimeRange:
    """Title, what the page answers, and the range it shows (with a staleness warning)."""
    st.title(title)
    message = st.session_state.pop("flash", None)
    if message:
        st.success(message, icon=":material/check:")
    range_ = filters.time_range()
    st.caption(f"{subtitle}  \n{filters.describe(range_)}")
    if range_.anchored and range_.latest_data is not None:
        age = datetime.now(UTC) - range_.latest_data
        st.info(f"Showing the latest data: {range_.since:%Y-%m-%d %H:%M} → {range_.until:%Y-%m-%d %H:%M} UTC. "
                f"Nothing was published in the {range_.label.lower()} up to now: the newest scored article is "
                f"from {range_.latest_data:%Y-%m-%d %H:%M} UTC ({humanise(age.total_seconds())} ago; replayed "
                "history or a stopped worker). Switch off \"Follow the data\" in the sidebar to end at now.",
                icon=":material/history:")
    elif range_.latest_data is not None:
        age = datetime.now(UTC) - range_.latest_data
        if age.total_seconds() > 15 * 60:
            st.warning(f"The newest scored article is from {range_.latest_data:%Y-%m-%d %H:%M} UTC "
                       f"({humanise(age.total_seconds())} ago): the worker may be stopped or replaying.",
                       icon=":material/schedule:")
    return range_


def sentiment_and_volume(series: Any, range_: filters.TimeRange, alert_starts: Any = None,
                         height: int = 260) -> None:
    """Draw the sentiment line above the volume bars, both spanning the whole selected range."""
    from dashboards import charts

    domain = (range_.since, range_.until)
    st.altair_chart(charts.sentiment_line(series, domain, alert_starts, height), width="stretch")
    st.altair_chart(charts.volume_bars(series, range_.bucket_seconds, domain, int(height * 0.8)), width="stretch")


class SeriesTotals(TypedDict):
    """series_totals: the counts, and the per-story shares (None without stories)."""

    articles: float
    stories: float
    mean: float | None
    negative: float | None


def series_totals(series: Any) -> SeriesTotals:
    """A scope_series frame summed over the range: articles, stories, mean sentiment, negative share.

    Figures read this from the very frame their chart draws, so they cannot
    disagree with it. Sentiment is per story (see monitor.storage.aggregates).
    """
    stories = float(series["story_count"].sum())
    return {"articles": float(series["article_count"].sum()), "stories": stories,
            "mean": float(series["score_sum"].sum()) / stories if stories else None,
            "negative": float(series["negative_count"].sum()) / stories if stories else None}


# Labels every alert carries: naming an alert by them says nothing about which series fired.
GENERIC_ALERT_LABELS = frozenset({"alertname", "severity", "scope"})


def firing_banner(alerts: Any, limit: int = 5) -> str | None:
    """'2 alerts firing: ticker-sentiment-drop (ticker=AAPL), …' for the firing rows of an alerts frame;
    None when nothing fires. Silenced alerts are named as such: they fire but notify no one."""
    if alerts is None or alerts.empty:
        return None
    firing = alerts[alerts["status"] == "firing"]
    if firing.empty:
        return None
    names = []
    for row in records(firing.head(limit)):
        scope = ", ".join(f"{k}={v}" for k, v in sorted(row["labels"].items()) if k not in GENERIC_ALERT_LABELS)
        silenced = " 🔕" if row.get("silenced") else ""
        names.append(f"{row['rule_name']}" + (f" ({scope})" if scope else "") + silenced)
    more = f" and {len(firing) - limit} more" if len(firing) > limit else ""
    return f"**{len(firing)} alert{'' if len(firing) == 1 else 's'} firing**: {', '.join(names)}{more}."


def stat(label: str, value: str, help_text: str | None = None) -> None:
    """A bordered figure for values too long for st.metric (version ids, schedules)."""
    with st.container(border=True):
        st.caption(label, help=help_text)
        st.markdown(f"**`{value}`**")


def flash(message: str) -> None:
    """Show message once at the top of the next run (after an action's st.rerun)."""
    st.session_state["flash"] = message


def humanise(seconds: float) -> str:
    """'3 d', '5 h', '12 min', '40 s': the largest unit that fits."""
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            return f"{seconds / size:.0f} {unit}"
    return f"{seconds:.0f} s"


def topic_name(topic: Any) -> str:
    try:
        return TOPIC_LABELS[int(topic)]
    except (TypeError, ValueError, IndexError):
        return "—"


def sentiment_badge(label: str | None, score: float | None) -> str:
    """HTML badge like '▲ positive +0.62' on the label's colour."""
    if not label:
        return '<span class="fs-badge">not scored</span>'
    score_text = "" if score is None else f" {score:+.2f}"
    return (f'<span class="fs-badge" style="background:{SENTIMENT_COLOURS.get(label, "#eee")}">'
            f"{SENTIMENT_ARROWS.get(label, '')} {html.escape(label)}{score_text}</span>")


def highlight_entities(text: str, mentions: Iterable[dict[str, Any]]) -> str:
    """The text as HTML with each entity span marked in its sentiment's colour (spans past the text skipped)."""
    spans = sorted((m for m in mentions if 0 <= int(m["start_char"]) < int(m["end_char"]) <= len(text)),
                   key=lambda m: int(m["start_char"]))
    parts, cursor = [], 0
    for mention in spans:
        start, end = int(mention["start_char"]), int(mention["end_char"])
        if start < cursor:  # overlapping spans: keep the first
            continue
        parts.append(html.escape(text[cursor:start]))
        label = mention["sentiment_label"]
        tip = f"{mention['entity_type']}{' · ' + mention['ticker'] if mention.get('ticker') else ''} · {label}"
        parts.append(f'<mark title="{html.escape(tip)}" style="background:{SENTIMENT_COLOURS.get(label, "#eee")};'
                     f'padding:0 3px;border-radius:3px">{html.escape(text[start:end])}</mark>')
        cursor = end
    parts.append(html.escape(text[cursor:]))
    return "".join(parts)


def entity_chips(mentions: Iterable[dict[str, Any]]) -> str:
    """Per-entity sentiment as a row of small badges: 'Apple (AAPL) ▲ +0.62'."""
    chips = []
    for mention in mentions:
        name = html.escape(mention["text"]) + (f" ({html.escape(mention['ticker'])})" if mention.get("ticker") else "")
        if mention.get("role") == "source":  # the broker of a rating: its sentiment is not the story's
            name += " · source"
        colour = SENTIMENT_COLOURS.get(mention["sentiment_label"], "#eee")
        chips.append(f'<span class="fs-chip" style="background:{colour}">'
                     f'{name} {SENTIMENT_ARROWS.get(mention["sentiment_label"], "")} '
                     f'{float(mention["sentiment_score"]):+.2f}</span>')
    return " ".join(chips)


EVENT_COLOURS = {-1: "#f8d0d0", 0: "#e8e8e8", 1: "#cfeccf"}  # as SENTIMENT_COLOURS, by polarity


def event_label(event: dict[str, Any]) -> str:
    """'earnings miss (EPS -20%)', 'price target cut by B. Riley': what an analyst reads first."""
    label = str(event["event_type"]).replace("_", " ")
    if event.get("detail"):
        label += f" {event['detail']}"
    figures = event.get("figures") or []
    if figures:
        # an estimate of zero makes the surprise huge (model/events/estimates.py): shown capped
        label += " (" + ", ".join(f"{f['metric'].upper()} {max(-999.0, min(999.0, float(f['surprise_pct']))):+.0f}%"
                                  for f in figures) + ")"
    if event.get("source"):
        label += f" by {event['source']}"
    return label


def event_chips(events: Iterable[dict[str, Any]]) -> str:
    """Per-event badges coloured by polarity for the subject: 'NVIDIA: price target cut by B. Riley'."""
    chips = []
    for event in events:
        subject = f"{html.escape(event['subject'])}: " if event.get("subject") else ""
        colour = EVENT_COLOURS.get(int(event["polarity"]), "#eee")
        chips.append(f'<span class="fs-chip fs-event" style="background:{colour}">'
                     f'&#9873; {subject}{html.escape(event_label(event))}</span>')
    return " ".join(chips)


def events_table(events: Any) -> Any:
    """The Entity page's events table: when, what (with figures and broker), polarity, the headline."""
    import pandas as pd

    rows = [{"published (UTC)": f"{row['published_at']:%Y-%m-%d %H:%M}", "event": event_label(row),
             "polarity": {-1: "negative", 0: "neutral", 1: "positive"}.get(int(row["polarity"]), ""),
             "from": row["origin"], "headline": row["headline"]} for row in records(events)]
    return pd.DataFrame(rows)


STYLE = """
<style>
.fs-badge {padding: 1px 8px; border-radius: 10px; font-size: 0.8rem; white-space: nowrap;}
.fs-chip {padding: 1px 7px; border-radius: 6px; font-size: 0.78rem; margin-right: 4px; white-space: nowrap;}
.fs-article {padding: 0.55rem 0 0.6rem 0; border-bottom: 1px solid #eee;}
.fs-article .fs-headline {font-size: 1.02rem; line-height: 1.45;}
.fs-article .fs-meta {color: #777; font-size: 0.8rem;}
</style>
"""


def inject_style() -> None:
    st.markdown(STYLE, unsafe_allow_html=True)


def article_card(article: dict[str, Any], mentions: list[dict[str, Any]],
                 events: list[dict[str, Any]] | None = None) -> str:
    """One article as HTML: meta line, headline with highlighted entities, event and entity sentiment chips."""
    headline = highlight_entities(article["headline"], mentions)
    if article.get("url"):
        link = f' · <a href="{html.escape(article["url"], quote=True)}" target="_blank">open ↗</a>'
    else:
        link = ""
    meta = (f'{article["published_at"]:%Y-%m-%d %H:%M} UTC · {html.escape(article["source"])} · '
            f'{html.escape(topic_name(article.get("topic")))} · '
            f'{sentiment_badge(article.get("sentiment_label"), article.get("sentiment_score"))}{link}')
    chips = (event_chips(events) + " " if events else "") + entity_chips(mentions)
    return (f'<div class="fs-article"><div class="fs-meta">{meta}</div>'
            f'<div class="fs-headline">{headline}</div><div>{chips}</div></div>')


def mentions_of(mentions_frame: Any, article: dict[str, Any]) -> list[dict[str, Any]]:
    """The article's entity mentions from its own (newest) model version."""
    if mentions_frame is None or mentions_frame.empty:
        return []
    rows = mentions_frame[(mentions_frame["article_id"] == article["id"])
                          & (mentions_frame["model_version"] == article.get("model_version"))]
    return records(rows)


def events_of(events_frame: Any, article: dict[str, Any]) -> list[dict[str, Any]]:
    """The article's financial events from its own (newest) model version."""
    return mentions_of(events_frame, article)


def page_cursor(key: str, context: tuple[Any, ...]) -> queries.PageCursor | None:
    """Where the list `key` starts on this run: None (the newest rows) unless the analyst paged on,
    and the list still shows the same thing (same ticker, search, range) it was paged on."""
    saved = st.session_state.get(f"{key}_cursor")
    if saved is None or saved[0] != context:
        st.session_state.pop(f"{key}_cursor", None)
        return None
    return saved[1]


def pager(key: str, context: tuple[Any, ...], shown: Any, limit: int) -> None:
    """'Newest' and 'Older' buttons under a keyset-paged, newest-first list of articles.

    Why keyset: the next page is "the `limit` rows before the last one shown", one bounded index
    range scan whatever page the analyst is on; an OFFSET would read and skip every earlier row.
    A full page (`limit` rows) offers Older; a shorter one is the end of the range.
    """
    paged = page_cursor(key, context) is not None
    newest_column, older_column, _ = st.columns([1, 1, 4])
    if paged and newest_column.button("Newest", key=f"{key}_newest", icon=":material/first_page:"):
        st.session_state.pop(f"{key}_cursor", None)
        st.rerun()
    if len(shown) >= limit and older_column.button("Older", key=f"{key}_older", icon=":material/chevron_right:"):
        last = shown.iloc[-1]
        cursor = queries.PageCursor(pd.Timestamp(last["published_at"]).to_pydatetime(), str(last["id"]))
        st.session_state[f"{key}_cursor"] = (context, cursor)
        st.rerun()


def published_times(articles: Any) -> tuple[datetime, ...]:
    """The articles' published_at as plain datetimes: what `queries.entity_mentions` prunes partitions by."""
    return tuple(pd.Timestamp(value).to_pydatetime() for value in articles["published_at"])


def records(frame: Any) -> list[dict[str, Any]]:
    """DataFrame rows as dicts with SQL NULLs as None (pandas turns them into NaN)."""
    return frame.astype(object).where(frame.notna(), None).to_dict("records")
