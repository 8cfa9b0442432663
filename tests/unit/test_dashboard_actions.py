"""Validation of the analysts' writes (silences, labels) before anything reaches the database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from dashboards.actions import (
    ActionError,
    EntityCorrection,
    create_silence,
    entities_label,
    sentiment_label,
    topic_label,
)

HEADLINE = "Apple cuts iPhone production targets as Foxconn warns on demand"


class RecordingSession:
    """Stands in for a Session: keeps what was added."""

    def __init__(self) -> None:
        self.added: list[Any] = []

    def add(self, row: Any) -> None:
        self.added.append(row)

    def flush(self) -> None:
        pass

    def scalars(self, _query: Any) -> list[Any]:  # stored alerts (for the match-everything check): none
        return []


def test_a_silence_spans_its_duration_and_keeps_who_and_why() -> None:
    session = RecordingSession()
    start = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
    silence = create_silence(session, {"alertname": "drop", "ticker": "AAPL"}, timedelta(hours=4), " j.doe ",
                             "supplier noise", starts_at=start)  # type: ignore[arg-type]
    assert session.added == [silence]
    assert silence.ends_at - silence.starts_at == timedelta(hours=4)
    assert (silence.created_by, silence.comment, silence.matchers) == ("j.doe", "supplier noise", [
        {"name": "alertname", "value": "drop", "isRegex": False, "isEqual": True},
        {"name": "ticker", "value": "AAPL", "isRegex": False, "isEqual": True}])


@pytest.mark.parametrize(("matchers", "duration", "author", "message"), [
    ({}, timedelta(hours=1), "j", "matchers: choose at least one label"),
    ({"ticker": ""}, timedelta(hours=1), "j", "matchers: {ticker=\"\"} would silence every alert"),
    (["ticker=~(?=A)"], timedelta(hours=1), "j", "matchers: 'ticker=~\\(\\?=A\\)': regex .*lookahead"),
    ({"tick-er": "A"}, timedelta(hours=1), "j", "matchers: label name 'tick-er' is invalid"),
    ({"ticker": "AAPL"}, timedelta(days=31), "j", "duration: expected between 1 minute and 30 days"),
    ({"ticker": "AAPL"}, timedelta(0), "j", "duration: expected between"),
    ({"ticker": "AAPL"}, timedelta(hours=1), "  ", "author: required.*dashboard's sidebar"),
])
def test_a_bad_silence_is_refused_with_the_field_named(matchers: dict[str, str], duration: timedelta, author: str,
                                                      message: str) -> None:
    session = RecordingSession()
    with pytest.raises(ActionError, match=message):
        create_silence(session, matchers, duration, author)  # type: ignore[arg-type]
    assert session.added == []


def test_sentiment_and_topic_labels_keep_the_models_prediction() -> None:
    assert sentiment_label("neutral", "negative") == {"sentiment": "neutral", "previous": "negative"}
    assert topic_label(5, 2) == {"topic": 5, "topic_name": "Earnings", "previous": 2}


def test_unknown_sentiment_or_topic_is_refused() -> None:
    with pytest.raises(ActionError, match="sentiment: expected one of negative, neutral, positive, got 'bullish'"):
        sentiment_label("bullish", None)
    with pytest.raises(ActionError, match=r"topic: expected an id in 0..19, got 20"):
        topic_label(20, None)


def test_entity_corrections_become_spans_into_the_headline() -> None:
    label = entities_label(HEADLINE, [EntityCorrection("Apple", "ORG", "negative"),
                                      EntityCorrection(" Foxconn ", "ORG", "neutral")])
    assert label == {"entities": [
        {"start": 0, "end": 5, "text": "Apple", "type": "ORG", "sentiment": "negative"},
        {"start": 40, "end": 47, "text": "Foxconn", "type": "ORG", "sentiment": "neutral"}]}
    assert HEADLINE[40:47] == "Foxconn"


@pytest.mark.parametrize(("entity", "message"), [
    (EntityCorrection("Samsung", "ORG", "neutral"), "entities row 2: 'Samsung' does not occur in the headline"),
    (EntityCorrection("Foxconn", "COMPANY", "neutral"), "entities row 2: type must be one of ORG, PER, LOC, MISC"),
    (EntityCorrection("Foxconn", "ORG", "bad"), "entities row 2: sentiment must be one of"),
    (EntityCorrection("", "ORG", "neutral"), "entities row 2: text is empty"),
])
def test_a_bad_entity_row_is_named(entity: EntityCorrection, message: str) -> None:
    with pytest.raises(ActionError, match=message):
        entities_label(HEADLINE, [EntityCorrection("Apple", "ORG", "negative"), entity])
