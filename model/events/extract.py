"""The events of one text from the rules: exact figures first, then the labelling patterns.

    from model.events.extract import extract_events, clear_polarity
    events = extract_events("Arctic Cat Cuts Guidance, Sees FY EPS $0.05 to $0.15 vs $0.84 est")
    clear_polarity(events)   # -1: every event with a polarity says bad news for the company

Figures against estimates are compared exactly (model/events/estimates.py)
and override whatever the wording suggests: "Beat" next to a lower figure
is still a miss. The patterns (model/events/patterns.py) cover the other
types and the free-text phrasings, with the company each is about and the
broker of an analyst action. These rules label the events head's training
data (model/training/event_labels.py) and, at serving time, override the
head where they fire (model/serving/predictor.py): exact where the text is
exact, learned where it is not.
"""

from __future__ import annotations

from dataclasses import replace

from model.events.estimates import parse_estimate_events
from model.events.patterns import match_events
from model.events.taxonomy import FinancialEvent

FIGURE_TYPES = ("earnings", "guidance")  # the types the estimate parser can decide exactly


def extract_events(text: str) -> list[FinancialEvent]:
    """The rule-found events of a text: the parser's exact events, then the patterns' events of other types
    (or of the same type when the parser found none), de-duplicated by (type, subject)."""
    exact = parse_estimate_events(text)
    patterns = match_events(text)
    named_subject = next((event for event in patterns if event.subject_span is not None), None)
    events: list[FinancialEvent] = []
    for event in exact:
        if event.subject is None and named_subject is not None:  # "UPDATE: Sees Q1 ..." after a named pattern
            event = replace(event, subject=named_subject.subject, subject_span=named_subject.subject_span)
        events.append(event)
    exact_types = {event.type for event in exact}
    seen = {(event.type, event.subject) for event in events}
    for event in patterns:
        if event.type in exact_types or (event.type, event.subject) in seen:
            continue  # the figures decide earnings and guidance when the text states them
        seen.add((event.type, event.subject))
        events.append(event)
    return events


def clear_polarity(events: list[FinancialEvent]) -> int | None:
    """The one polarity the events agree on for their subject, or None.

    Exact events decide alone when they have a polarity (the numbers outrank the words); otherwise every
    event with a polarity must point the same way. Events without one (a maintained rating, an acquirer)
    say nothing either way.
    """
    exact = {event.polarity for event in events if event.exact and event.polarity != 0}
    if len(exact) == 1:
        return exact.pop()
    if exact:
        return None
    signs = {event.polarity for event in events if event.polarity != 0}
    return signs.pop() if len(signs) == 1 else None


__all__ = ["extract_events", "clear_polarity", "FIGURE_TYPES"]
