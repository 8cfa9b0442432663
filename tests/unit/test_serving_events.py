"""Events at serving time (model/serving/events.py): rules outrank the head, entities agree with the
events' spans, junk never becomes an entity, and sentiment follows a clear event for its company."""

from __future__ import annotations

import pytest

from model.events.extract import clear_polarity, extract_events
from model.events.taxonomy import FinancialEvent
from model.network.tasks import EVENT_STATES, EVENT_TYPE_NAMES
from model.serving.events import (
    Span,
    clean_entities,
    head_events,
    is_junk_entity,
    merge_events,
    role_of,
    steer,
)

RATING = "B. Riley Maintains Buy on NVIDIA, Lowers Price Target to $250"


def spans_of(text: str, *names: str, entity_type: str = "ORG") -> list[Span]:
    spans = []
    for name in names:
        start = text.index(name)
        spans.append(Span(start, start + len(name), entity_type))
    return spans


@pytest.mark.parametrize("text", ["Q3", "Q4 2019", "FY2020", "Corporation", "Inc.", "B", "to Neutral", "Overweight",
                                  "Market Perform",
                                  ", Lowers Price Target", "BMO Capital Maintains", "Friday", "2019", "Y07", "CFO",
                                  "Bank", "M&A"])
def test_junk_spans_are_recognised(text: str) -> None:
    assert is_junk_entity(text)


@pytest.mark.parametrize("text", ["NVIDIA", "B. Riley", "Agilent Technologies", "3M", "AT&T", "Q2 Holdings Inc",
                                  "Deutsche Bank", "Bank of America"])
def test_names_are_not_junk(text: str) -> None:
    assert not is_junk_entity(text)


def test_the_broker_becomes_one_entity_at_its_exact_span_and_junk_goes() -> None:
    events = extract_events(RATING)
    tagged = spans_of(RATING, "B", "Riley", "NVIDIA", ", Lowers Price Target")
    cleaned = clean_entities(RATING, tagged, events)
    assert [RATING[s.start:s.end] for s in cleaned] == ["B. Riley", "NVIDIA"]


def test_a_tagged_span_swallowing_the_rating_verb_is_cut_to_the_broker() -> None:
    text = "BMO Capital Maintains Outperform on NVIDIA, Lowers Price Target to $230"
    cleaned = clean_entities(text, spans_of(text, "BMO Capital Maintains", "NVIDIA"), extract_events(text))
    assert [text[s.start:s.end] for s in cleaned] == ["BMO Capital", "NVIDIA"]


def test_the_broker_gets_no_borrowed_sentiment_and_the_subject_follows_its_event() -> None:
    events = extract_events(RATING)
    broker, subject = clean_entities(RATING, spans_of(RATING, "B. Riley", "NVIDIA"), events)
    assert role_of(broker, RATING, events) == ("source", 0)
    assert role_of(subject, RATING, events) == ("subject", -1)  # maintained rating says nothing, the cut is -1
    negative = [0.1, 0.2, 0.7]  # the model read the headline as positive
    assert max(range(3), key=lambda k: steer(negative, -1)[k]) == 0
    assert steer(negative, None) == negative


def test_figures_decide_the_polarity_whatever_the_wording() -> None:
    text = "Acme Sees Q1 Adj. EPS $0.28-$0.34 vs $0.70 Est., Sales $67M-$71M vs $87.2M Est."
    events = extract_events(text)
    assert [e.type for e in events if e.exact] == ["guidance"]
    assert clear_polarity(events) == -1


def test_the_head_adds_only_types_the_rules_did_not_find_and_only_when_sure() -> None:
    absent = EVENT_STATES.index("absent")
    probs = [[1.0, 0.0, 0.0, 0.0] for _ in EVENT_TYPE_NAMES]
    probs[EVENT_TYPE_NAMES.index("bankruptcy")] = [0.1, 0.8, 0.05, 0.05]
    probs[EVENT_TYPE_NAMES.index("layoffs")] = [0.5, 0.4, 0.05, 0.05]  # present at 0.5: below the threshold
    probs[EVENT_TYPE_NAMES.index("earnings")] = [0.0, 0.0, 0.1, 0.9]
    head = head_events(probs, EVENT_TYPE_NAMES)
    assert {(e.type, e.polarity) for e in head} == {("bankruptcy", -1), ("earnings", 1)}
    assert all(1.0 - probs[EVENT_TYPE_NAMES.index(e.type)][absent] >= 0.8 for e in head)
    rules = [FinancialEvent("earnings", -1, exact=True)]
    merged = merge_events(rules, head)
    assert [(e.type, e.polarity, origin) for e, origin in merged] == [("earnings", -1, "figures"),
                                                                     ("bankruptcy", -1, "model")]


def test_mixed_events_give_no_clear_polarity() -> None:
    assert clear_polarity([FinancialEvent("rating_upgrade", 1), FinancialEvent("legal", -1)]) is None
    assert clear_polarity([FinancialEvent("rating_maintain", 0)]) is None
    assert clear_polarity([FinancialEvent("earnings", -1, exact=True), FinancialEvent("rating_upgrade", 1)]) == -1


def test_a_lone_initial_joins_the_name_it_starts_without_any_event() -> None:
    text = "B Riley FBR: Nvidia Remains Attractive; B. Riley on Semi Industry Into '16"
    start = text.index("B. Riley")
    spans = [Span(start, start + 1, "ORG"), Span(start + 3, start + 8, "PER")]
    assert [text[s.start:s.end] for s in clean_entities(text, spans, [])] == ["B. Riley"]


def test_overlapping_rule_spans_make_one_entity_the_longest() -> None:
    text = "Agilent Technologies Q2 sales miss"
    events = [FinancialEvent("earnings", -1, subject="Agilent Technologies", subject_span=(0, 20)),
              FinancialEvent("guidance", -1, subject="Agilent", subject_span=(0, 7))]
    assert [text[s.start:s.end] for s in clean_entities(text, spans_of(text, "Agilent"), events)] == [
        "Agilent Technologies"]
