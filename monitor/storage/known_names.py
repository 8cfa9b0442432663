"""Names the tagger has found before, counted again in the headlines where it misses them.

The tagger reads an uncased encoder's view of a headline, so a company name that opens a sentence-case
headline is often not tagged at all: on Carillion's first crisis day (15 January 2018) it found the name
in none of four Guardian headlines ("Carillion in crisis as outsourcing operation crumbles under debt"),
though it had tagged `Carillion` in other headlines before; "WeWork delays IPO after frosty investor
response" and "Wirecard scrambles to find missing USD 2.1 billion" went the same way. Alert rules count
stories per entity key, so the first day of a burst looked like one story, and the alert came a day or
more later (docs/alerts.md, "Names the tagger found before").

`KnownNames` keeps, from the stream itself, how often each entity key was tagged and how often its words
stood capitalised in a headline at all. In a sentence-case headline (where capitals mark names) a run
of capitalised words whose key was tagged at least MIN_TAGGED times, in at least MIN_SHARE of the
headlines that held it, counts as a mention of that name; a weaker tagger finds a name less often
("Facebook" in 18% of its headlines), so MIN_SHARE_CASED is enough for a name with a word that the stream's
own sentence-case headlines do not mostly write in lower case (the casing statistics of
model/data/casing.py, kept as the stream goes). This is the label-consistency idea of
two-stage NER (Krishnan and Manning, "An effective two-stage model for exploiting non-local
dependencies in named entity recognition", ACL 2006), with the corpus's earlier tags as the first stage.
It only ever learns from the past: a headline is read with the names known before it, and what the
tagger found in it is learned after its batch is stored.

Recalled names count in the aggregates (the alert rules' series) only; they are not stored as entity
mentions, so the dashboard's mention lists show what the model found. An alert's top articles
(monitor/alerts/rules/store.py) look for its key in the window's headlines with `names_in` as well.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from model.data.casing import case_marks_names, count_word_cases, mostly_lower_case, text_words, word_key
from model.network.spans import CALENDAR_WORDS, PLACE_TYPES, ROLE_WORDS
from monitor.storage.aggregates import MentionSentiment, entity_key
from monitor.storage.models import Article, EntityMention

MIN_TAGGED = 2  # headlines in which the tagger found the name before it is trusted elsewhere
MIN_SHARE = 0.3  # of the headlines that held its words capitalised: "Business" (of "Business live") is not
# ... or this share, for a name with a word the stream does not mostly write in lower case ("Facebook")
MIN_SHARE_CASED = 0.1
MAX_WORDS = 4  # the longest run of capitalised words looked up
LOOKBACK = timedelta(days=90)  # the stored history a worker learns from at start (from its newest article)
MAX_KEYS = 200_000  # past this many keys (or words) the rarest are forgotten (a bounded worker)

_CAPITALISED = re.compile(r"[A-Z][\w&'\u2019.-]*")  # "Carillion", "WeWork", "PG&E", "Valerie's"
_TOKEN = re.compile(r"\S+")
_TRAILING = ",;:!?)\""  # punctuation that ends a run of name words


def capitalised_runs(headline: str) -> list[tuple[int, int]]:
    """(start, end) of every run of one to MAX_WORDS capitalised words, punctuation ending a run."""
    tokens = [(m.start(), m.group()) for m in _TOKEN.finditer(headline)]
    runs: list[tuple[int, int]] = []
    for first in range(len(tokens)):
        for start, token in tokens[first:first + MAX_WORDS]:
            word = token.rstrip(_TRAILING)
            if not _CAPITALISED.fullmatch(word):
                break
            runs.append((tokens[first][0], start + len(word)))
            if word != token:
                break
    return runs


def names_in(headline: str) -> set[str]:
    """The entity keys of every run of capitalised words: all the names a headline could be counted on."""
    return {key for start, end in capitalised_runs(headline) if (key := entity_key(headline[start:end])) is not None}


@dataclass
class KnownNames:
    """Per entity key: headlines where the tagger found it, headlines where its words stood capitalised,
    and the types it was tagged with."""

    tagged: Counter[str] = field(default_factory=Counter)
    seen: Counter[str] = field(default_factory=Counter)
    types: defaultdict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    # the stream's own casing statistics (model.data.casing.count_word_cases)
    lower_words: Counter[str] = field(default_factory=Counter)
    capitalised_words: Counter[str] = field(default_factory=Counter)

    def is_known(self, key: str) -> bool:
        tagged = self.tagged[key]
        if tagged < MIN_TAGGED:
            return False
        share = tagged / max(self.seen[key], tagged)
        return share >= MIN_SHARE or (share >= MIN_SHARE_CASED and not self._common_words_only(key))

    def _common_words_only(self, key: str) -> bool:
        """Whether every word of `key` is one the stream mostly writes in lower case ("business live")."""
        return all(mostly_lower_case(word_key(word), self.lower_words, self.capitalised_words)
                   for word in text_words(key))

    def recall(self, headline: str, mentions: Sequence[MentionSentiment], label: str,
               score: float) -> list[MentionSentiment]:
        """Known names in `headline` that `mentions` lack, each with the article's sentiment.

        Only in sentence case: in a title-case or all-capitals headline every word is capitalised, and
        "Target", "Next" or "Neutral" would be names. Longest runs first; a run that overlaps a tagged
        name, names a place (by the type it was tagged with most) or is a role or calendar word is skipped.
        """
        if not case_marks_names(headline):
            return []
        taken = [(start, start + len(m.text)) for m in mentions if (start := headline.find(m.text)) >= 0]
        keys = {entity_key(m.text) for m in mentions}
        found: list[MentionSentiment] = []
        for start, end in sorted(capitalised_runs(headline), key=lambda run: run[0] - run[1]):
            key = entity_key(headline[start:end])
            if (key is None or key in keys or len(key) < 2 or key in ROLE_WORDS or key in CALENDAR_WORDS
                    or not self.is_known(key) or any(start < t_end and t_start < end for t_start, t_end in taken)):
                continue
            entity_type = self.types[key].most_common(1)[0][0]
            if entity_type in PLACE_TYPES:
                continue
            taken.append((start, end))
            keys.add(key)
            found.append(MentionSentiment(headline[start:end], None, label, score, entity_type))
        return found

    def observe(self, headline: str, names: Iterable[tuple[str, str]]) -> None:
        """Learn from one stored article: the (text, type) of the names the tagger found in it."""
        tagged: set[str] = set()
        for text, entity_type in names:
            if entity_type != "TICKER" and (key := entity_key(text)) is not None:
                tagged.add(key)
                self.types[key][entity_type] += 1
        self.tagged.update(tagged)
        if len(self.tagged) > MAX_KEYS:
            self._forget_rare()
        self.seen.update(key for key in names_in(headline) if key in self.tagged)
        count_word_cases(headline, self.lower_words, self.capitalised_words)
        if len(self.lower_words) + len(self.capitalised_words) > MAX_KEYS:
            self._forget_rare_words()

    def _forget_rare_words(self) -> None:
        """Keep the words seen most often, half the cap in all: a bounded worker that trims seldom."""
        for counts in (self.lower_words, self.capitalised_words):
            kept = dict(counts.most_common(MAX_KEYS // 4))
            counts.clear()
            counts.update(kept)

    def _forget_rare(self) -> None:
        """Keep the half of the cap's keys tagged most often (the rarest cannot be known yet), so a worker
        past the cap trims once in a long while, not at every headline."""
        kept = {key for key, _ in self.tagged.most_common(MAX_KEYS // 2)}
        for key in [key for key in self.tagged if key not in kept]:
            del self.tagged[key]
            self.types.pop(key, None)
            self.seen.pop(key, None)


def known_names_from_store(session: Session, lookback: timedelta = LOOKBACK) -> KnownNames:
    """What a worker knows at start: the stored articles of the `lookback` before the newest, in order.

    Why from the store: the counts follow what was committed, so a restarted worker, or one of several,
    knows what the stored history taught, and a batch rolled back taught nothing.
    """
    names = KnownNames()
    newest: datetime | None = session.scalar(select(func.max(Article.published_at)))
    if newest is None:
        return names
    since = newest - lookback
    found: defaultdict[str, set[tuple[str, str]]] = defaultdict(set)  # article -> (text, type), any version
    for article_id, text, entity_type in session.execute(
            select(EntityMention.article_id, EntityMention.text, EntityMention.entity_type)
            .where(EntityMention.published_at >= since)):
        found[article_id].add((text, entity_type))
    for article_id, headline in session.execute(
            select(Article.id, Article.headline).where(Article.published_at >= since)
            .order_by(Article.published_at, Article.id)):
        names.observe(headline, sorted(found.get(article_id, ())))
    return names
