"""Time-bucketed sentiment aggregates: what charts and alert rules read.

Each scored story adds to one row per (scope, bucket size, bucket). Scopes:
``global`` (key ``all``), ``source``, ``topic`` (key = topic id), ``ticker``,
``entity`` (the entity text normalised by `entity_key`: companies), ``person`` (people),
``institution`` (organisations that are no company: central banks, regulators, indices, currencies,
political groups, news labels; model/network/institutions.py), ``place`` (places and nationalities,
the tagger's LOC and MISC), ``sector`` and ``event`` (the subjects of financial events, keyed like
``entity``, scored by the event's polarity times its type's severity). Places, people and
institutions have scopes of their own because the company rules watch ``entity``: "china" bursting
with bad news is macro news (a quarter of those rules' alerts on the 2018-2020 history when places
counted there, docs/alerts.md, "Places are not companies"), and "fed", "nikkei", "putin" or "hamas"
were about 45 % of them on the dense 2007 wire (issue #25). Volumes count articles
and distinct stories; sentiment counts and score sums count each story once,
so a headline syndicated by ten outlets does not look like ten negative events.

Buckets are a minute, an hour and a day wide. An article counts only in
buckets at least as wide as the precision of its published_at: a date-only
(day precision) article is in the daily bucket and in no minute or hour
bucket, so a day's date-only stories do not look like a burst at midnight.
Each bucket also lists its distinct sources (the alert rules' evidence
minimum of more than one outlet).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal, NamedTuple

from model.events.taxonomy import figures_surprise, severity
from model.network.institutions import is_institution
from model.network.linking import MARKET_CONTEXT
from model.network.spans import PLACE_TYPES
from monitor.contract import PRECISION_SECONDS

BUCKET_SECONDS: tuple[int, ...] = (60, 3600, 86_400)
SCOPE_KINDS: tuple[str, ...] = ("global", "source", "topic", "ticker", "entity", "person", "institution", "place",
                                "sector", "event")
ENTITY_KEY_CHARS = 128
EntitySentiment = Literal["article", "entity"]
# Which sentiment an `entity` scope key counts with. Measured with `finsent alerts backtest` on the dev
# events (2018-01..2020-07, quick model, default rules): with the entity-sentiment head's labels the
# negative-burst rules raised 5 false alarms on 12 positive controls and 1.55 alerts/day; with the
# article's, none and 1.02/day, at the same recall (docs/alerts.md, Backtest). Measured again with models
# trained on the event headlines: the same recall and controls either way, 0.08 more alerts/day with the
# entity's (docs/alerts.md, "Models that see adverse events"). Tickers keep the entity's sentiment
# ("X beats while Y misses").
ENTITY_KEYS_SENTIMENT: EntitySentiment = "article"


_EDGE_PUNCTUATION = " ,;:!?-&/'\"()[]{}*"  # never the first or last character of a name ('.' is: "co.")
_POSSESSIVE = re.compile(r"'s?$")  # "boeing's"; also "apple'", a span the NER cut before its s
_ARTICLE = re.compile(r"^the\s+")
_NAME_CHARACTER = re.compile(r"\w")
# Reporting periods and bare numbers ("Q3", "FY2019", "H1", "2Q", "2019") are tagged as entities by the
# model but name no company: as keys they burst every earnings season.
_PERIOD_OR_NUMBER = re.compile(r"^(?:(?:q[1-4]|h[12]|fy|cy|y)\s?'?(?:\d{2}|\d{4})?|[1-4][qh]|\d+(?:[.,]\d+)*)$")


# Words that name a company's legal form, holding structure or trade rather than the company: one company
# is written "ACADIA Pharmaceuticals Inc.", "ACADIA Pharmaceuticals", "Acadia Pharma" and "Acadia" in one
# week, and "Atlas Air Worldwide Hldgs" / "Holdings" / "Worldwide" / "Atlas Air" in one day. Counted on
# four keys, neither burst nor event reached its rule (the stored 2018-2020 history, issue #25). Only
# trailing words go, and never the last one ("Group" alone, "Holdings" alone stay). Words that tell
# companies apart ("International": American International Group is not American Airlines;
# "Technologies": United Technologies is not United) are not here.
_CORPORATE_FORMS = frozenset(
    "inc incorporated corp corporation co cos company companies ltd limited plc llc lp l.p sa s.a ag nv n.v se "
    "spa s.p.a ab asa oyj bhd pte holdings holding hldgs hldg group grp worldwide pharmaceuticals pharmaceutical "
    "pharma pharm".split()
)


def _without_corporate_forms(key: str) -> str:
    """`acadia pharmaceuticals inc.` -> `acadia`; `atlas air worldwide hldgs` -> `atlas air`; `co.` -> `co.`."""
    words = key.split(" ")
    while len(words) > 1 and words[-1].rstrip(".,") in _CORPORATE_FORMS:
        words.pop()
        words[-1] = words[-1].rstrip(",")  # "aaron's, inc." -> "aaron's"
    return " ".join(words)


def entity_key(text: str) -> str | None:
    """The `entity` scope key of an entity's text, or None when no name is left.

    Why: the key is what a burst is counted on, so one company's mentions must land on one key. Spans
    differ in form, not in meaning: "Boeing's", "BOEING", "the Boeing", "Boeing," and a span cut before
    the possessive s ("Boeing'") are all `boeing`; a span of punctuation alone ("." "%" "-", which the
    quick model emits thousands of times) names nothing and gets no key, nor does a reporting period or
    a bare number ("Q3", "FY2019", "2019"). Lower case, NFKC, curly quotes
    made straight, inner whitespace collapsed; a leading "the", edge punctuation and a trailing
    possessive are removed, and so are trailing corporate forms (`_CORPORATE_FORMS`: "ACADIA
    Pharmaceuticals Inc." is `acadia`). Inner punctuation is kept ("at&t", "t-mobile", "u.s.").
    """
    key = unicodedata.normalize("NFKC", text).lower().replace("\u2019", "'").replace("\u2018", "'")
    key = " ".join(key.split())
    previous = None
    while key != previous:
        previous = key
        key = _ARTICLE.sub("", _POSSESSIVE.sub("", key.strip(_EDGE_PUNCTUATION))).strip(_EDGE_PUNCTUATION)
    key = key.lstrip("$")  # a cashtag "$nvda" is the name "nvda"
    key = _POSSESSIVE.sub("", _without_corporate_forms(key)) if " " in key else key
    return key if _NAME_CHARACTER.search(key) and not _PERIOD_OR_NUMBER.match(key) else None


def bucket_start(ts: datetime, seconds: int) -> datetime:
    """The start of the `seconds`-wide bucket holding ts, in UTC."""
    epoch = int(ts.astimezone(UTC).timestamp())
    return datetime.fromtimestamp(epoch - epoch % seconds, tz=UTC)


class MentionSentiment(NamedTuple):
    """One entity mention as the aggregates count it."""

    text: str
    ticker: str | None
    label: str  # the entity-sentiment head's: negative | neutral | positive
    score: float
    entity_type: str  # ORG, PER, LOC, MISC (the tagger's) or TICKER (a cashtag or symbol found by rule)
    role: str = "other"  # subject | source | other, toward the article's events (a broker is a source)


class EventSentiment(NamedTuple):
    """One financial event of an article as the `event` scope counts it."""

    subject: str  # the company as written
    event_type: str  # a key of model.events.taxonomy.EVENT_TYPES
    polarity: int  # -1, 0, 1 for the subject
    surprise_pct: float | None = None  # figures against estimates: the largest surprise the event's way
    detail: str = ""  # the sub-type ("settlement", "miss", ...): some are graver or milder than their type
    source: str | None = None  # who reports it: the broker of a rating action (two brokers, two events)


def event_sentiment(subject: str, event_type: str, polarity: int,
                    figures: list[dict[str, Any]] | None = None, detail: str = "",
                    source: str | None = None) -> EventSentiment:
    """An event as the `event` scope counts it, from its stored or served fields (figures as stored)."""
    surprises = [float(f["surprise_pct"]) for f in figures or [] if "surprise_pct" in f]
    return EventSentiment(subject, event_type, polarity, figures_surprise(polarity, surprises), detail, source)


def name_scope_kind(entity_type: str, key: str, ticker: str | None = None, role: str = "other",
                    market_news: bool = False) -> str:
    """The scope a named mention counts under: place, person, institution, or entity (a company).

    The tagger's type decides, except where the text says it is a company: the tagger types many companies
    as people (Thomas Cook 104 of 106 times, Ted Baker, Johnson & Johnson), so a "person" with a ticker,
    the subject of a financial event ("Thomas Cook collapses"), or named in a headline that reads as market
    news (shares, profit, customers, stores, ...: model.network.linking.MARKET_CONTEXT) counts as a company.
    """
    if entity_type in PLACE_TYPES:
        return "place"
    if is_institution(key):
        return "institution"
    if entity_type == "PER" and ticker is None and role != "subject" and not market_news:
        return "person"
    return "entity"


def reads_as_market_news(headline: str) -> bool:
    """Whether a headline speaks of markets or business (the linker's context words): a name the tagger
    calls a person there is more often a company than in politics or sport."""
    return bool(MARKET_CONTEXT.search(headline))


# A company's event told again within this long of an earlier telling is the same event: a dense wire
# rewrites a story as it develops ("Saifun quarterly profit falls", then "UPDATE 1-Saifun Q2 profit falls
# on ..."), and two tellings of one settlement or one retirement are not two adverse events. Counted
# once, an event's severity decides, not how often the wire rewrote it (issue #25, docs/alerts.md). A
# graver telling (the figures come out: a miss by 30 %) counts.
RETELLING_WINDOW = timedelta(days=1)
EventTelling = tuple[str, str, int, str]  # (entity_key of the subject, event type, polarity, source key)


def event_telling(event: EventSentiment) -> EventTelling | None:
    """What makes two events one: the same company, type, polarity and source (None: no company key). Two
    brokers downgrading one company on one day are two events; one broker's downgrade told twice is one."""
    key = entity_key(event.subject)
    source = (entity_key(event.source) or "") if event.source else ""
    return (key, event.event_type, event.polarity, source) if key is not None else None


def event_severity(event: EventSentiment) -> int:
    return severity(event.event_type, event.surprise_pct, event.detail)


class EventTellings:
    """When each event was told, so that retellings within RETELLING_WINDOW add nothing to the event scope.

    Articles are offered in (published_at, id) order; `earlier` seeds events stored before (the worker reads
    them from article_events, the rebuild starts empty and sees every article in order)."""

    def __init__(self, earlier: Iterable[tuple[EventSentiment, datetime]] = ()) -> None:
        self.told: dict[EventTelling, list[tuple[datetime, int]]] = {}  # telling -> (when, severity) each time
        for event, at in earlier:
            if (telling := event_telling(event)) is not None:
                self.told.setdefault(telling, []).append((at, event_severity(event)))

    def first_tellings(self, events: Iterable[EventSentiment], at: datetime) -> list[EventSentiment]:
        """The events of an article published at `at` that no telling as grave in the RETELLING_WINDOW before
        it told already; all are remembered (the article's own events count once each)."""
        fresh, told_here = [], []
        for event in events:
            telling = event_telling(event)
            if telling is None:
                continue
            grade = event_severity(event)
            # tellings older than the window can never matter again (articles come in time order): drop them,
            # so a company in the news for years does not make every look-up longer
            before = self.told[telling] = [(when, told) for when, told in self.told.get(telling, [])
                                           if when > at - RETELLING_WINDOW]
            if not any(when <= at and told >= grade for when, told in before):
                fresh.append(event)
            told_here.append((telling, grade))
        for telling, grade in told_here:
            self.told.setdefault(telling, []).append((at, grade))
        return fresh


def event_scopes(events: Iterable[EventSentiment]) -> list[ScopeSentiment]:
    """One `event` scope per subject: its most adverse event's polarity times severity (one story with a
    downgrade and a price-target cut is one story, not two), or its best when none is adverse."""
    per_subject: dict[str, float] = {}
    for subject, event_type, polarity, surprise_pct, detail, _ in events:
        key = entity_key(subject)
        if key is None or is_institution(key):
            continue
        score = float(polarity * severity(event_type, surprise_pct, detail))
        previous = per_subject.get(key)
        if previous is None or (score < 0 and score < previous) or (previous >= 0 and score > previous):
            per_subject[key] = score
    return [ScopeSentiment("event", key, "negative" if score < 0 else "positive" if score > 0 else "neutral", score)
            for key, score in sorted(per_subject.items())]


@dataclass(frozen=True)
class ScopeSentiment:
    """One scope an article counts toward, with the sentiment that applies to it."""

    kind: str
    key: str
    label: str  # negative | neutral | positive
    score: float


@dataclass
class AggregateDelta:
    """What one batch adds to one aggregate row."""

    article_count: int = 0
    story_count: int = 0
    negative_count: int = 0
    neutral_count: int = 0
    positive_count: int = 0
    score_sum: float = 0.0
    score_sq_sum: float = 0.0
    sources: set[str] = field(default_factory=set)

    def add(self, label: str, score: float, new_story: bool, source: str = "") -> None:
        self.article_count += 1
        if source:
            self.sources.add(source)
        if not new_story:
            return
        self.story_count += 1
        setattr(self, f"{label}_count", getattr(self, f"{label}_count") + 1)
        self.score_sum += score
        self.score_sq_sum += score * score


AggregateKey = tuple[str, str, int, datetime]  # scope_kind, scope_key, bucket_seconds, bucket_start


def bucket_sizes(precision: str) -> tuple[int, ...]:
    """The bucket widths an article of this published_at precision counts in (none for month)."""
    narrowest = PRECISION_SECONDS[precision]
    return () if narrowest is None else tuple(s for s in BUCKET_SECONDS if s >= narrowest)


def accumulate(
    deltas: dict[AggregateKey, AggregateDelta],
    published_at: datetime,
    scopes: Iterable[ScopeSentiment],
    new_story: bool,
    precision: str = "minute",
    source: str = "",
) -> None:
    """Add one article to the batch's pending aggregate deltas, in the buckets its precision allows."""
    sizes = bucket_sizes(precision)
    for scope in scopes:
        for seconds in sizes:
            key = (scope.kind, scope.key[:ENTITY_KEY_CHARS], seconds, bucket_start(published_at, seconds))
            deltas.setdefault(key, AggregateDelta()).add(scope.label, scope.score, new_story, source)


def article_scopes(
    source: str,
    topic: int,
    label: str,
    score: float,
    tickers: Iterable[str],
    entities: Iterable[MentionSentiment],
    sector_of: Callable[[str], str | None] | None = None,
    entity_keys: EntitySentiment = ENTITY_KEYS_SENTIMENT,
    events: Iterable[EventSentiment] = (),
    market_news: bool = False,
) -> list[ScopeSentiment]:
    """Every scope one article counts toward.

    A linked entity counts toward its ticker with the sentiment toward that
    entity, which is what separates "X beats while Y misses". An `entity`
    scope key (the entity's text) counts with the article's sentiment by
    default (`entity_keys="entity"`: the entity-sentiment head's), see
    ENTITY_KEYS_SENTIMENT. The key is `entity_key(text)`; a text that
    names nothing (punctuation alone) counts toward no entity key. Places
    and nationalities count under `place`, people under `person` and
    organisations that are no company under `institution` instead of
    `entity` (name_scope_kind); financial events under `event`.
    """
    scopes = [ScopeSentiment("global", "all", label, score), ScopeSentiment("source", source, label, score),
              ScopeSentiment("topic", str(topic), label, score)]
    per_ticker: dict[str, tuple[str, float]] = {ticker: (label, score) for ticker in tickers}
    per_name: dict[tuple[str, str], tuple[str, float]] = {}  # (entity | place, key) -> sentiment
    for mention in entities:
        text, ticker, entity_label, entity_score, entity_type, role = MentionSentiment(*mention)
        key = entity_key(text)
        if key is not None:
            kind = name_scope_kind(entity_type, key, ticker, role, market_news)
            # a broker counts its rating story, with none of the story's sentiment (it is the source)
            sentiment = ((entity_label, entity_score) if entity_keys == "entity" or role == "source"
                         else (label, score))
            per_name.setdefault((kind, key), sentiment)
        if ticker:
            per_ticker[ticker] = (entity_label, entity_score)
    scopes += [ScopeSentiment("ticker", t, lab, sc) for t, (lab, sc) in sorted(per_ticker.items())]
    scopes += [ScopeSentiment(kind, key, lab, sc) for (kind, key), (lab, sc) in sorted(per_name.items())]
    if sector_of is not None:
        sectors: dict[str, tuple[str, float]] = {}
        for ticker, (ticker_label, ticker_score) in per_ticker.items():
            sector = sector_of(ticker)
            if sector:
                sectors.setdefault(sector, (ticker_label, ticker_score))
        scopes += [ScopeSentiment("sector", s, lab, sc) for s, (lab, sc) in sorted(sectors.items())]
    return scopes + event_scopes(events)
