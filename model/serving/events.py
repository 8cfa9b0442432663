"""Financial events at serving time: rules and head combined, entities cleaned, sentiment steered.

The Predictor calls these pure functions per text (issue #25):

1. the rules' events (`model.events.extract.extract_events`: exact figures, then patterns) and
   `head_events` (the events head's probabilities) are merged by
   `merge_events`: a rule outranks the head for its type; the head adds the
   types the rules did not find, when it is sure enough (`HEAD_THRESHOLD`).
2. `clean_entities` makes the tagger's spans agree with the events: the
   broker and the subject a rule found become one entity each at the rule's
   exact span ("B" + "Riley" -> "B. Riley"; "BMO Capital Maintains" ->
   "BMO Capital"), and junk spans never become entities (reporting periods,
   bare corporate suffixes, rating verb phrases, rating names, lone letters).
3. `steer` moves a sentiment to an event's polarity where the events are
   clear for that company: a miss is negative for the company whatever the
   wording, and a broker gets neutral, never the story's sentiment.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace

from model.events.extract import clear_polarity
from model.events.taxonomy import FinancialEvent
from model.network.tasks import EVENT_STATES, state_polarity

# p(type present) for a head-only event: below it the rules' silence wins. Fitted on the judged headlines'
# tune half (quick-profile model v20261207-163527-e9da): at 0.6 the head's extra results and guidance
# events cost macro F1 (0.848 vs 0.865 for the rules alone); from 0.8 up it adds no false ones.
HEAD_THRESHOLD = 0.8
STEER_WEIGHT = 0.6  # share of a one-hot on the event's label: it always wins, the model's confidence still shows
POLARITY_LABEL_INDEX = {-1: 0, 0: 1, 1: 2}  # polarity -> index into (negative, neutral, positive)

_PERIOD = re.compile(
    r"^(?:[1-4]Q|Q[1-4]|H[12]|[12]H|FY|CY|FQ[1-4])(?:\s*'?\d{2,4})?$|^(?:FY|CY|Y)\s*'?\d{2,4}$|^\d{4}$"
    r"|^(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*$"
    r"|^(?:mon|tues|wednes|thurs|fri|satur|sun)day$", re.IGNORECASE)
_BARE_SUFFIXES = frozenset({"corporation", "corp", "inc", "co", "company", "ltd", "limited", "plc", "group",
                            "holdings", "holding", "llc", "lp", "sa", "ag", "nv", "se", "the", "cos",
                            # generic words and titles that the tagger takes for names: "Express Scripts CFO to
                            # retire", "Bank shares fall", "M&A" (1,528, 482 and 563 stored mentions of 272k)
                            "bank", "banks", "m&a", "ipo", "ceo", "cfo", "coo", "cto", "chief executive"})
# a rating named in a rating headline ("Downgrades NVIDIA to Neutral", "Maintains Overweight on ..."): no name
_RATING_NAME = re.compile(r"^(?:to\s+)?(?:strong\s+)?(?:buy|sell|hold|neutral|overweight|underweight|outperform|"
                          r"underperform|market\s+perform|sector\s+perform|peer\s+perform|equal[-\s]weight|"
                          r"in[-\s]line|accumulate|reduce|positive|negative)$", re.IGNORECASE)
# rating headline verbs: a span that holds one is a phrase of the headline's grammar, not a name
_RATING_VERB = re.compile(r"\b(?:Maintains|Upgrades?|Downgrades?|Initiates|Reiterates|Reinstates|Resumes|Assumes|"
                          r"Raises|Lowers|Cuts|Boosts|Price Target|PT|Announces|Sees)\b", re.IGNORECASE)


@dataclass(frozen=True)
class Span:
    """An entity span as the Predictor holds it before linking and sentiment."""

    start: int
    end: int
    entity_type: str  # ORG | PER | LOC | MISC | TICKER
    ticker: str | None = None


def head_events(type_probs: Sequence[Sequence[float]], event_types: Sequence[str],
                threshold: float = HEAD_THRESHOLD) -> list[FinancialEvent]:
    """The head's events of one text: (n_types, 4) probabilities over EVENT_STATES -> present types."""
    absent = EVENT_STATES.index("absent")
    events = []
    for name, probs in zip(event_types, type_probs, strict=True):
        present = 1.0 - float(probs[absent])
        if present < threshold:
            continue
        state = max((i for i in range(len(EVENT_STATES)) if i != absent), key=lambda i: probs[i])
        events.append(FinancialEvent(type=name, polarity=state_polarity(state), confidence=round(present, 4)))
    return events


def merge_events(rules: list[FinancialEvent], head: list[FinancialEvent]) -> list[tuple[FinancialEvent, str]]:
    """(event, origin) pairs: every rule event, then the head's events of types no rule found."""
    merged = [(event, "figures" if event.exact else "pattern") for event in rules]
    found = {event.type for event in rules}
    merged.extend((event, "model") for event in head if event.type not in found)
    return merged


def overlaps(a_start: int, a_end: int, b_start: int, b_end: int) -> bool:
    return a_start < b_end and b_start < a_end


def is_junk_entity(text: str) -> bool:
    """A span that must never become a stored entity: a period, a bare suffix, a rating phrase, a lone letter."""
    core = text.strip(" \t,.;:-'\u2019\"()")
    if len(core.replace(".", "").replace(" ", "")) <= 1:
        return True
    if _PERIOD.match(core) or core.lower().rstrip(".") in _BARE_SUFFIXES or _RATING_NAME.match(core):
        return True
    return bool(_RATING_VERB.search(core)) or not core[0].isalnum()


def clean_entities(text: str, spans: list[Span], events: list[FinancialEvent]) -> list[Span]:
    """The tagger's spans made to agree with the rule events' exact subject and broker spans, junk dropped.

    A rule span replaces every tagged span it overlaps (keeping a ticker they carried); tagged spans that
    overlap none are kept unless they are junk. Returns spans sorted by position, without duplicates.
    """
    candidates = {span for event in events for span in (event.source_span, event.subject_span)
                  if span is not None and not is_junk_entity(text[span[0]:span[1]])}
    anchors: list[tuple[int, int]] = []
    for start, end in sorted(candidates, key=lambda span: span[0] - span[1]):  # longest first: one name, one span
        if not any(overlaps(start, end, a, b) for a, b in anchors):
            anchors.append((start, end))
    spans = _joined_initials(text, spans)
    kept: list[Span] = []
    for start, end in anchors:
        covered = [s for s in spans if overlaps(s.start, s.end, start, end)]
        ticker = next((s.ticker for s in covered if s.ticker), None)
        entity_type = "ORG" if not covered or any(s.entity_type in ("ORG", "TICKER") for s in covered) \
            else covered[0].entity_type
        kept.append(Span(start, end, entity_type, ticker))
    for span in spans:
        if any(overlaps(span.start, span.end, a, b) for a, b in anchors):
            if span.entity_type == "TICKER" and not any(k.ticker == span.ticker for k in kept):
                kept.append(span)  # a cashtag inside a name keeps its own mention
            continue
        if span.entity_type == "TICKER" or not is_junk_entity(text[span.start:span.end]):
            kept.append(span)
    return sorted(set(kept), key=lambda s: (s.start, s.end))


_INITIAL_GAP = re.compile(r"\s?\.\s?")  # "B. Riley", "B . Riley" (the spaced Reuters copy), "B.Riley"


def _joined_initials(text: str, spans: list[Span]) -> list[Span]:
    """A lone initial tagged apart from the name it starts ("B" + "Riley" of "B. Riley") joined to it."""
    ordered = sorted(spans, key=lambda s: (s.start, s.end))
    joined: list[Span] = []
    for span in ordered:
        previous = joined[-1] if joined else None
        if (previous is not None and previous.end - previous.start == 1 and text[previous.start].isupper()
                and _INITIAL_GAP.fullmatch(text[previous.end:span.start])):
            joined[-1] = Span(previous.start, span.end, span.entity_type, span.ticker or previous.ticker)
        else:
            joined.append(span)
    return joined


def role_of(span: Span, text: str, events: list[FinancialEvent]) -> tuple[str, int | None]:
    """(role, polarity to steer to) of an entity span: a broker gets neutral; a subject gets its events'
    clear polarity (None when they disagree or say nothing); anything else keeps the model's sentiment."""
    name = text[span.start:span.end]
    if any(_names(event.source_span, event.source, span, name) for event in events):
        return "source", 0
    about = [event for event in events if _names(event.subject_span, event.subject, span, name)]
    if about:
        return "subject", clear_polarity(about)
    return "other", None


def _names(event_span: tuple[int, int] | None, event_name: str | None, span: Span, name: str) -> bool:
    if event_span is not None:
        return overlaps(span.start, span.end, *event_span)
    if not event_name:
        return False
    return event_name.lower() == name.lower()


def steer(probs: Sequence[float], polarity: int | None) -> list[float]:
    """Probabilities moved so the polarity's label wins (None: unchanged)."""
    if polarity is None:
        return [float(p) for p in probs]
    target = POLARITY_LABEL_INDEX[polarity]
    return [(1 - STEER_WEIGHT) * float(p) + (STEER_WEIGHT if i == target else 0.0) for i, p in enumerate(probs)]


def with_subject(event: FinancialEvent, text: str, spans: list[Span]) -> FinancialEvent:
    """A head event (no subject of its own) about the first company-like span that is no event's broker."""
    if event.subject is not None:
        return event
    for span in spans:
        if span.entity_type in ("ORG", "TICKER"):
            return replace(event, subject=text[span.start:span.end], subject_span=(span.start, span.end))
    return event


__all__ = ["Span", "head_events", "merge_events", "clean_entities", "is_junk_entity", "role_of",
           "steer", "with_subject", "HEAD_THRESHOLD", "STEER_WEIGHT"]
