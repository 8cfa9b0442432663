"""Batch steps: split, de-duplicate, score (with item-by-item fallback), scored message."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from model.network.results import ArticleResult, EntityResult
from monitor.contract import NewsItem
from monitor.stream.scoring import score_batch, split_batch, unique_by_id
from monitor.wire import scored_message


def item(headline: str, source: str = "cnbc") -> NewsItem:
    return NewsItem(source=source, headline=headline, published_at=datetime(2024, 1, 2, 15, tzinfo=UTC))


def result(score: float = 0.5, version: str = "") -> ArticleResult:
    return ArticleResult(topic=5, topic_probs=[0.05] * 20, sentiment_label="positive", sentiment_score=score,
                         sentiment_probs=[0.1, 0.3, 0.6], model_version=version,
                         entities=[EntityResult(0, 5, "Apple", "ORG", "AAPL", "positive", 0.7)])


def test_split_batch_keeps_arrival_order_and_separates_dead_letters() -> None:
    good = item("Apple beats estimates").model_dump_json().encode()
    items, dead = split_batch([(good, "t[0]@0"), (b"nope", "t[0]@1"), (good, "t[0]@2")])
    assert [i.headline for i in items] == ["Apple beats estimates"] * 2
    assert [(d.reason, d.origin) for d in dead] == [("malformed_json", "t[0]@1")]


def test_unique_by_id_keeps_first_copy_but_keeps_syndicated_copies() -> None:
    a, b = item("Oil falls 5%"), item("Oil falls 5%", source="reuters")  # same story, other source
    assert unique_by_id([a, a, b]) == [a, b]
    assert a.story_id == b.story_id and a.id != b.id


def test_score_batch_stamps_the_version_and_pairs_in_order() -> None:
    items = [item("A up"), item("B down")]
    pairs, dead = score_batch(lambda texts: [result(i / 10) for i, _ in enumerate(texts)], "v7", items)
    assert dead == []
    assert [(p[0].headline, p[1].sentiment_score, p[1].model_version) for p in pairs] == [
        ("A up", 0.0, "v7"), ("B down", 0.1, "v7")]


def test_one_unscorable_item_does_not_block_the_batch() -> None:
    def predict(texts: list[str]) -> list[ArticleResult]:
        if any("poison" in t for t in texts):
            raise RuntimeError("tokenizer exploded")
        return [result() for _ in texts]

    pairs, dead = score_batch(predict, "v1", [item("fine one"), item("poison pill"), item("fine two")])
    assert [p[0].headline for p in pairs] == ["fine one", "fine two"]
    assert [(d.reason, d.item_id) for d in dead] == [("scoring_failed", item("poison pill").id)]
    assert "tokenizer exploded" in dead[0].detail


def test_scored_message_is_json_with_labels() -> None:
    message = scored_message(item("Apple beats"), result(version="v2"))
    decoded = json.loads(json.dumps(message))
    assert decoded["topic_label"] == "Earnings" and decoded["model_version"] == "v2"
    assert decoded["entities"][0]["ticker"] == "AAPL"
