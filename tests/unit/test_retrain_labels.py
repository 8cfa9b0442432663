"""Analysts' labels become weighted examples and outrank the base data for the same text."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from model.data.examples import EntitySentiment, EntitySpan, Example
from monitor.retrain.labels import LabelRow, analyst_examples, merge_with_base
from monitor.retrain.pipeline import shuffled

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
HEADLINE = "Tesla shares slump after Musk warns of weaker deliveries"


def row(label_id: int, task: str, label: dict, article_id: str = "a1", headline: str = HEADLINE,
        minutes: int = 0) -> LabelRow:
    return LabelRow(label_id, article_id, task, label, T0 + timedelta(minutes=minutes), headline)


def test_labels_of_one_article_become_one_weighted_example_and_the_newest_correction_wins() -> None:
    rows = [
        row(1, "sentiment", {"sentiment": "neutral", "previous": "positive"}),
        row(2, "sentiment", {"sentiment": "negative", "previous": "neutral"}, minutes=5),
        row(3, "topic", {"topic": 19, "topic_name": "Stock Movement", "previous": 2}),
        row(4, "entities", {"entities": [{"start": 0, "end": 5, "text": "Tesla", "type": "ORG",
                                          "sentiment": "negative"},
                                         {"start": 25, "end": 29, "text": "Musk", "type": "PER",
                                          "sentiment": "neutral"}]}),
    ]
    built = analyst_examples(rows, weight=3.0)
    assert built.counts == {"sentiment": 1, "topic": 1, "entities": 1}
    assert built.superseded == 1
    assert built.invalid == []
    [example] = built.examples
    assert example.text == HEADLINE
    assert example.source == "analyst"
    assert example.weight == 3.0
    assert example.sentiment == 0  # negative, the newer correction
    assert example.topic == 19
    assert example.entities == [EntitySpan(0, 5, "ORG"), EntitySpan(25, 29, "PER")]
    assert example.entity_sentiments == [EntitySentiment(0, 5, 0), EntitySentiment(25, 29, 1)]
    assert len(built.digest) == 64


def test_unreadable_labels_are_skipped_with_a_message_naming_the_label_and_field() -> None:
    rows = [
        row(7, "sentiment", {"sentiment": "bearish"}),
        row(8, "topic", {"topic": 20}, article_id="a2"),
        row(9, "entities", {"entities": [{"start": 0, "end": 5, "text": "Apple", "type": "ORG"}]}, article_id="a3"),
        row(10, "sentiment", {"sentiment": "positive"}, article_id="a4", headline="Nvidia beats estimates"),
    ]
    built = analyst_examples(rows)
    assert [ex.meta["article_id"] for ex in built.examples] == ["a4"]
    assert built.invalid == [
        "analyst label 7 (sentiment): field 'sentiment': expected one of negative, neutral, positive, got 'bearish'",
        "analyst label 8 (topic): field 'topic' must be a topic id in 0..19, got 20",
        "analyst label 9 (entities): entities[0]: text 'Apple' does not match the headline at 0:5 ('Tesla')",
    ]


def test_analyst_labels_outrank_the_base_label_for_the_same_normalised_text() -> None:
    analyst = analyst_examples([row(1, "sentiment", {"sentiment": "negative"})]).examples
    base = [
        Example(text="TESLA shares slump after Musk warns of weaker deliveries!", source="twitter_sentiment",
                sentiment=2),  # conflicting label, same text once normalised
        Example(text="Fed holds rates steady", source="twitter_sentiment", sentiment=1),
    ]
    merged = merge_with_base(base, analyst)
    assert [ex.text for ex in merged.base] == ["Fed holds rates steady"]  # left unlabelled -> dropped
    assert merged.base_examples_dropped == 1
    assert merged.base_labels_dropped == {"sentiment": 1}
    assert merged.base_conflicts == {"sentiment": 1}
    assert merged.analyst == analyst


def test_only_the_tasks_the_analyst_labelled_are_dropped_from_the_base_example() -> None:
    analyst = analyst_examples([row(1, "topic", {"topic": 19})]).examples
    base = [Example(text=HEADLINE, source="multi", sentiment=0, topic=19)]
    merged = merge_with_base(base, analyst)
    [kept] = merged.base
    assert (kept.sentiment, kept.topic) == (0, None)
    assert merged.base_labels_dropped == {"topic": 1}
    assert merged.base_conflicts == {}  # it agreed, but the analyst's weighted example carries it now


def test_analyst_examples_whose_text_is_in_an_evaluation_set_are_held_out() -> None:
    analyst = analyst_examples([row(1, "sentiment", {"sentiment": "negative"})]).examples
    merged = merge_with_base([], analyst, evaluation_texts=[HEADLINE.upper()])
    assert merged.analyst == []
    assert merged.analyst_held_out == 1


def test_shuffled_keeps_the_label_counts_and_the_texts() -> None:
    examples = [Example(text=f"t{i}", source="s", sentiment=i % 3) for i in range(30)]
    mixed = shuffled(examples, seed=1)
    assert [ex.text for ex in mixed] == [ex.text for ex in examples]
    assert sorted(ex.sentiment for ex in mixed) == sorted(ex.sentiment for ex in examples)
    assert [ex.sentiment for ex in mixed] != [ex.sentiment for ex in examples]


def test_the_shuffled_labels_control_trains_without_the_event_headlines(tmp_path) -> None:  # noqa: ANN001
    from kernel.settings import Settings
    from monitor.retrain.pipeline import RetrainOptions, train_config

    settings = Settings(data_dir=tmp_path, registry_dir=tmp_path)
    assert train_config(RetrainOptions(profile="quick"), settings, None).event_headlines
    assert not train_config(RetrainOptions(profile="quick", shuffle_labels=True), settings, None).event_headlines
