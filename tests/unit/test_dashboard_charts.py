"""The chart helpers' data shaping: stacked volume spans and topic names."""

from __future__ import annotations

from datetime import UTC, datetime

import pandas as pd

from dashboards.charts import dev_score_columns, stacked_volume, with_topic_names


def test_volume_stacks_negative_then_neutral_then_positive_within_each_bucket() -> None:
    start = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
    series = pd.DataFrame({"bucket_start": [start], "negative_count": [2], "neutral_count": [1],
                           "positive_count": [3]})
    long = stacked_volume(series, 3600)
    assert long[["label", "stack_low", "stack_high"]].values.tolist() == [
        ["negative", 0, 2], ["neutral", 2, 3], ["positive", 3, 6]]
    assert (long["bucket_end"] - long["bucket_start"]).dt.total_seconds().tolist() == [3600] * 3


def test_topic_ids_are_named_and_unknown_keys_kept() -> None:
    named = with_topic_names(pd.DataFrame({"scope_key": ["5", "1", "99"]}))
    assert named["topic"].tolist() == ["Earnings", "Fed / Central Banks", "99"]


def test_the_model_metrics_chart_opens_on_each_tasks_dev_score() -> None:
    """Not on `fin5.ner.n` and its neighbours: counts beside scores (issue #26)."""
    names = ["fin5.ner.f1", "fin5.ner.n", "fin5.ner.precision", "fin5.ner.recall", "phrasebank.sentiment.accuracy",
             "phrasebank.sentiment.macro_f1", "sentfin.entity-sentiment.accuracy", "twitter_topic.topic.accuracy",
             "twitter_topic.events.macro_f1", "dev_score"]
    assert dev_score_columns(names) == ["fin5.ner.f1", "phrasebank.sentiment.accuracy",
                                        "sentfin.entity-sentiment.accuracy", "twitter_topic.topic.accuracy"]
