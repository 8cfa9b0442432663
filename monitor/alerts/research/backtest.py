"""Score alert rules against labelled company events over stored history.

    finsent alerts backtest --events tests/fixtures/events/dev_events.yaml \
        --from 2018-01-01T00:00Z --to 2020-07-31T00:00Z --json

Replays the rules (the fast engine of `alerts replay`, hourly steps) and
matches their firing alerts to the events file (schema in docs/alerts.md):

- an alert **matches** an event when its series names the company: a
  `ticker` series whose key equals the event's ticker, or an `entity` series
  whose key contains one of the event's aliases as whole words (`thomas cook`
  matches the keys `thomas cook` and `thomas cook group`, not `cook`; both
  compared in the aggregates' key form, `monitor.storage.aggregates.entity_key`,
  so the alias `moody's` names the key `moody`); and it
  fires inside the event's window [from, to).
- a negative event with a matching alert is a **hit** (lead time: the first
  matching alert minus `first_headline_at`; negative = before it), else a
  **miss**; a positive control with a matching alert is a **false alarm**.
- alerts per day: every firing alert of every rule over the whole range,
  divided by its length in days. A firing that an inhibit rule of the rules
  file mutes as it fires (the same company's rolling event rule already
  firing) is never notified: it counts nowhere (`inhibited` says how many).

Lead times are measured at the evaluation step that fired, and a step sees
only the stories published before it (monitor/alerts/research/replay.py): with hourly
steps an hourly rule fires at the end of the hour that completes its
evidence, a daily rule at the first hour after it. Date-only stories have no
time and count from the start of their day (their sources' convention), so
a burst of them fires at 01:00 at the earliest. `lead_hours_at_window_end`
is the pessimistic bound: the first alert counted at the end of its window.

The report (also written to reports/alerts-backtest-<rules>.json) holds the
totals and the per-event detail: the matching alerts, the first of them, and
the lead time. With a judged-headlines file (`--splits`, e.g.
tests/fixtures/events/event_headlines.csv) it also splits recall and false
alarms by whether a model was tuned on the event's headlines (split `tune`)
or not (`eval`, or no judged headlines: `unseen`), since a model fine-tuned
on an event's own headlines flatters its recall.

Each event also gets `first_day_stories`: the most stories that one of its
own series (an entity key naming it, its ticker) held on the UTC date of its
first headline, as the rules' buckets hold them. Where that is under the
company rules' smallest `min_stories`, no rule could alert on the first day
without alerting on fewer stories than it requires, so a lead of a day or
more is the data's, not the rules'. `same_day_reachable` counts the negative
events that had enough; the median lead of the hits can be under a day only
if most hits are among them. `first_day_headlines` asks the same of the
stored headlines, whatever the tagger made of them: the distinct stories
published on that date whose headline names the company (an alias as whole
words, any case) or that carry its ticker. Where even that is under
`min_stories`, the first day held too little news for any company rule, and
`same_day_reachable.reachable_by_headlines` counts the events where it did not.
"""

from __future__ import annotations

import csv
import re
import statistics
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from model.data.events import CompanyEvent, EventsFileError
from monitor.alerts.research.replay import ReplayEvent, RuleHistory, load_history, replay_history
from monitor.alerts.rules.config import RulesFile
from monitor.alerts.rules.evaluation import SectorLookup, no_sectors
from monitor.storage.aggregates import entity_key
from monitor.storage.models import Article


def names_company(event: CompanyEvent, scope: str, key: str) -> bool:
    """Whether a series (scope kind, key) is about the event's company (see the module docstring)."""
    if scope == "ticker":
        return event.ticker is not None and key.upper() == event.ticker.upper()
    if scope in ("entity", "event"):
        # both sides in the aggregates' key form, so "moody's" names the key `moody` (and an older
        # database's `moody's`); whole words, so `cook` is not Thomas Cook
        return holds_whole_words(entity_key(key) or "", (entity_key(alias) or "" for alias in event.aliases))
    return False


def holds_whole_words(text: str, names: Iterable[str], flags: int = 0) -> bool:
    """Whether one of `names` (non-empty ones) stands in `text` as whole words: `cook` is not in `cookery`."""
    return any(re.search(rf"(?<!\w){re.escape(name)}(?!\w)", text, flags) for name in names if name)


@dataclass(frozen=True)
class EventOutcome:
    event: CompanyEvent
    alerts: list[ReplayEvent]
    first_day_stories: int | None = None  # see the module docstring; None: not measured
    first_day_headlines: int | None = None

    @property
    def lead_hours(self) -> float | None:
        if not self.alerts:
            return None
        return (self.alerts[0].at - self.event.first_headline_at).total_seconds() / 3600

    @property
    def headline_precision(self) -> str:
        """`day` when the first headline is stamped at midnight UTC (the corpus's date-only rows), else `minute`."""
        at = self.event.first_headline_at.astimezone(UTC)
        return "day" if (at.hour, at.minute, at.second) == (0, 0, 0) else "minute"

    @property
    def lead_days(self) -> int | None:
        """Calendar days (UTC) from the first headline's date to the first alert's: a date-only lead's resolution."""
        if not self.alerts:
            return None
        return (self.alerts[0].at.astimezone(UTC).date() - self.event.first_headline_at.astimezone(UTC).date()).days

    @property
    def lead_hours_at_window_end(self) -> float | None:
        """The pessimistic lead: the first alert counted when its window closes (see the module docstring)."""
        ends = [a.window_end or a.at for a in self.alerts]
        if not ends:
            return None
        return (min(ends) - self.event.first_headline_at).total_seconds() / 3600

    def as_dict(self) -> dict[str, Any]:
        verdict = ("hit" if self.alerts else "miss") if self.event.polarity == "negative" else \
            ("false_alarm" if self.alerts else "quiet")
        return {"id": self.event.id, "polarity": self.event.polarity, "outcome": verdict,
                "first_headline_at": self.event.first_headline_at.isoformat(),
                "first_alert_at": self.alerts[0].at.isoformat() if self.alerts else None,
                "first_headline_precision": self.headline_precision,
                "lead_hours": None if self.lead_hours is None else round(self.lead_hours, 2),
                "lead_days": self.lead_days,
                "lead_hours_at_window_end": None if self.lead_hours_at_window_end is None
                else round(self.lead_hours_at_window_end, 2),
                "first_day_stories": self.first_day_stories,
                "first_day_headlines": self.first_day_headlines,
                "alerts": [{"at": a.at.isoformat(), "rule": a.rule, "key": a.scope_key,
                            "value": a.value, "baseline": None if a.baseline is None else round(a.baseline, 3),
                            "zscore": None if a.zscore is None else round(a.zscore, 2)} for a in self.alerts[:5]],
                "matching_alerts": len(self.alerts)}


def lead_by_precision(hits: Sequence[EventOutcome]) -> dict[str, dict[str, Any]]:
    """Median lead of the hits whose first headline has a time (hours) and of those with a date only (days).

    Why: a date-only first headline says the burst began some time that day, so its lead is only known
    to the day: an alert on the same UTC date is "0 days", one the next day "1 day", whatever the hours
    between midnight stamps say. Hours are reported only where both times are real.
    """
    timed = [o.lead_hours for o in hits if o.headline_precision == "minute" and o.lead_hours is not None]
    dated = [o.lead_days for o in hits if o.headline_precision == "day" and o.lead_days is not None]
    return {"minute": {"hits": len(timed), "median_lead_hours": round(statistics.median(timed), 2) if timed else None},
            "day": {"hits": len(dated), "median_lead_days": statistics.median(dated) if dated else None,
                    "same_day": sum(d <= 0 for d in dated), "next_day": sum(d == 1 for d in dated),
                    "later": sum(d > 1 for d in dated)}}


def same_day_reachable(outcomes: Sequence[EventOutcome], min_stories: int | None) -> dict[str, Any] | None:
    """How many negative events had, on their first headline's date, the stories a company rule needs.

    Why: with most bursts opening on one or two stories, a long lead can be the data's and not the
    rules'; this says which, without guessing (None when the first-day counts were not measured).
    """
    measured = [o for o in outcomes if o.event.polarity == "negative" and o.first_day_stories is not None]
    if min_stories is None or not measured:
        return None
    reachable = [o for o in measured if (o.first_day_stories or 0) >= min_stories]
    report: dict[str, Any] = {"min_stories": min_stories, "negative_events": len(measured),
                              "reachable": len(reachable), "hits_reachable": sum(bool(o.alerts) for o in reachable)}
    if all(o.first_day_headlines is not None for o in measured):
        by_headlines = [o for o in measured if (o.first_day_headlines or 0) >= min_stories]
        report["reachable_by_headlines"] = len(by_headlines)
        report["hits_reachable_by_headlines"] = sum(bool(o.alerts) for o in by_headlines)
    return report


def score_events(events: Sequence[CompanyEvent], fired: Sequence[ReplayEvent], start: datetime,
                 end: datetime, first_day_stories: Mapping[str, int] | None = None,
                 min_stories: int | None = None,
                 first_day_headlines: Mapping[str, int] | None = None) -> dict[str, Any]:
    """Recall, false alarms, alerts per day and lead times of firing alerts against labelled events (pure).

    first_day_stories: event id -> stories on its own series on its first headline's date
    (`first_day_evidence`); min_stories: the company rules' smallest, for `same_day_reachable`;
    first_day_headlines: event id -> stories whose headline names it that day (`count_first_day_headlines`).
    """
    firing = sorted((e for e in fired if e.event == "firing" and not e.inhibited), key=lambda e: e.at)
    day_one = first_day_stories or {}
    named = first_day_headlines or {}
    outcomes = [EventOutcome(event, [a for a in firing if event.covers(a.at)
                                     and names_company(event, a.labels.get("scope", ""), a.scope_key)],
                             day_one.get(event.id), named.get(event.id))
                for event in events]
    negatives = [o for o in outcomes if o.event.polarity == "negative"]
    controls = [o for o in outcomes if o.event.polarity == "positive"]
    hits = [o for o in negatives if o.alerts]
    # Lead is judged in hours on timed sources only: a date-only first headline says the news came some time
    # that day, so there an alert on the first day is the best there is (lead_by_precision.day counts them).
    timed_hits = [o for o in hits if o.headline_precision == "minute"]
    leads = [o.lead_hours for o in timed_hits if o.lead_hours is not None]
    late_leads = [o.lead_hours_at_window_end for o in timed_hits if o.lead_hours_at_window_end is not None]
    days = (end - start) / timedelta(days=1)
    per_rule: dict[str, int] = {}
    for alert in firing:
        per_rule[alert.rule] = per_rule.get(alert.rule, 0) + 1
    return {
        "range": {"from": start.isoformat(), "to": end.isoformat(), "days": round(days, 2)},
        "negative_events": len(negatives), "hits": len(hits),
        "recall": round(len(hits) / len(negatives), 3) if negatives else None,
        "positive_controls": len(controls), "false_alarms": sum(bool(o.alerts) for o in controls),
        "alerts": len(firing), "alerts_per_day": round(len(firing) / days, 3) if days > 0 else None,
        "alerts_per_rule": dict(sorted(per_rule.items())),
        "inhibited": sum(e.event == "firing" and e.inhibited for e in fired),
        "lead_hours": {"median": round(statistics.median(leads), 2) if leads else None,
                       "min": round(min(leads), 2) if leads else None, "max": round(max(leads), 2) if leads else None},
        "lead_hours_at_window_end": {"median": round(statistics.median(late_leads), 2) if late_leads else None},
        "lead_by_precision": lead_by_precision(hits),
        "same_day_reachable": same_day_reachable(outcomes, min_stories),
        "events": [o.as_dict() for o in outcomes],
    }


def load_event_splits(path: Path) -> dict[str, str]:
    """event_id -> split of a judged-headlines CSV (columns `event_id`, `split`; rows without an event skipped).

    Why: the fine-tuned model saw the `tune` events' headlines, so their recall is not evidence about new
    events; an event whose headlines sit in two splits would make that distinction meaningless (an error).
    """
    splits: dict[str, str] = {}
    try:
        with path.open(newline="", encoding="utf-8") as handle:
            reader = csv.DictReader(handle)
            missing = {"event_id", "split"} - set(reader.fieldnames or ())
            if missing:
                raise EventsFileError(f"{path}: missing column(s) {', '.join(sorted(missing))}")
            for line, row in enumerate(reader, start=2):
                event_id, split = (row["event_id"] or "").strip(), (row["split"] or "").strip()
                if not event_id:
                    continue
                if splits.setdefault(event_id, split) != split:
                    raise EventsFileError(f"{path}:{line}: event {event_id} is in splits "
                                          f"{splits[event_id]!r} and {split!r}")
    except OSError as error:
        raise EventsFileError(f"{path}: cannot read splits file: {error}") from None
    return splits


def scores_by_split(report: Mapping[str, Any], splits: Mapping[str, str]) -> dict[str, dict[str, Any]]:
    """Recall and false alarms of a `score_events` report per split: `tune` (headlines a model was tuned on)
    and `unseen` (every other event: split `eval` or no judged headlines)."""
    groups: dict[str, dict[str, Any]] = {}
    for event in report["events"]:
        group = groups.setdefault("tune" if splits.get(event["id"]) == "tune" else "unseen",
                                  {"negative_events": 0, "hits": 0, "positive_controls": 0, "false_alarms": 0})
        if event["polarity"] == "negative":
            group["negative_events"] += 1
            group["hits"] += event["outcome"] == "hit"
        else:
            group["positive_controls"] += 1
            group["false_alarms"] += event["outcome"] == "false_alarm"
    for group in groups.values():
        group["recall"] = round(group["hits"] / group["negative_events"], 3) if group["negative_events"] else None
    return dict(sorted(groups.items()))


COMPANY_SCOPES = ("entity", "ticker", "event")


def first_day_evidence(events: Sequence[CompanyEvent], histories: Mapping[str, RuleHistory]) -> dict[str, int]:
    """event id -> the most stories one of its own series held on its first headline's UTC date.

    Read from the loaded rules' buckets (entity and ticker rules), so it counts what the rules could see:
    the daily rows hold date-only stories, the hourly ones only timed stories.
    """
    counts: dict[str, int] = {}
    for event in events:
        day, next_day = first_headline_day(event)
        start, end = int(day.timestamp()), int(next_day.timestamp())
        counts[event.id] = max((series.window(start, end).stories
                                for history in histories.values() if history.rule.scope.kind in COMPANY_SCOPES
                                for key, series in history.series.items()
                                if names_company(event, history.rule.scope.kind, key)), default=0)
    return counts


def first_headline_day(event: CompanyEvent) -> tuple[datetime, datetime]:
    """[start, end) of the UTC date of the event's first headline."""
    day = datetime.combine(event.first_headline_at.astimezone(UTC).date(), datetime.min.time(), UTC)
    return day, day + timedelta(days=1)


def headline_names_company(event: CompanyEvent, headline: str, tickers: Sequence[str]) -> bool:
    """Whether a headline is about the event's company by its words (an alias, any case) or its ticker."""
    if event.ticker is not None and event.ticker.upper() in (t.upper() for t in tickers):
        return True
    return holds_whole_words(headline, event.aliases, re.IGNORECASE)


def count_first_day_headlines(events: Sequence[CompanyEvent],
                              articles: Sequence[tuple[datetime, str, str, Sequence[str]]]) -> dict[str, int]:
    """event id -> distinct stories published on its first headline's UTC date that name the company (pure).

    articles: (published_at, story_id, headline, tickers). Why: `first_day_stories` counts what the tagger
    put in the event's series; this counts what the feed held, so a short first day can be told apart from
    a name the tagger missed.
    """
    counts: dict[str, int] = {}
    for event in events:
        start, end = first_headline_day(event)
        counts[event.id] = len({story for at, story, headline, tickers in articles
                                if start <= at < end and headline_names_company(event, headline, tickers)})
    return counts


def load_first_day_articles(session: Session,
                            events: Sequence[CompanyEvent]) -> list[tuple[datetime, str, str, Sequence[str]]]:
    """The stored articles published on any event's first headline date (the input of count_first_day_headlines)."""
    days = {first_headline_day(event) for event in events}
    if not days:
        return []
    query = (select(Article.published_at, Article.story_id, Article.headline, Article.tickers)
             .where(or_(*(and_(Article.published_at >= start, Article.published_at < end)
                          for start, end in sorted(days)))))
    return [(row.published_at, row.story_id, row.headline, row.tickers or []) for row in session.execute(query)]


def company_min_stories(rules: RulesFile) -> int | None:
    """The fewest stories any entity or ticker rule fires on: below it, no company alert is possible."""
    return min((rule.min_stories for rule in rules.rules if rule.scope.kind in COMPANY_SCOPES), default=None)


def run_backtest(session: Session, rules: RulesFile, events: Sequence[CompanyEvent], start: datetime,
                 end: datetime, step: timedelta = timedelta(hours=1),
                 sector_of: SectorLookup = no_sectors) -> dict[str, Any]:
    """Replay rules over [start, end] and score them; the report carries its own timings."""
    began = time.perf_counter()
    histories = load_history(session, rules, start, end)
    loaded = time.perf_counter()
    fired = replay_history(histories, rules, start, end, step, sector_of)
    replayed = time.perf_counter()
    report = score_events(events, fired, start, end, first_day_evidence(events, histories),
                          company_min_stories(rules),
                          count_first_day_headlines(events, load_first_day_articles(session, events)))
    report["rules"] = rules.source
    report["step"] = str(step)
    report["seconds"] = {"load": round(loaded - began, 2), "replay": round(replayed - loaded, 2),
                         "total": round(time.perf_counter() - began, 2)}
    return report
