"""StoreRetry: rides out connection loss, splits batches the database rejects, gives up only when told."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import pytest
from sqlalchemy.exc import DataError, OperationalError

from model.network.results import ArticleResult
from monitor.contract import NewsItem
from monitor.storage.writes import ScoredPair, StoreReport
from monitor.stream.store import StoreAbandoned, StoreRetry


def pair(headline: str) -> ScoredPair:
    return ScoredPair(NewsItem(source="cnbc", headline=headline, published_at=datetime(2024, 1, 1, tzinfo=UTC)),
                      ArticleResult(topic=0, topic_probs=[0.05] * 20, sentiment_label="neutral", sentiment_score=0.0,
                                    sentiment_probs=[0.1, 0.8, 0.1], model_version="v1"))


def connection_lost() -> OperationalError:
    return OperationalError("COMMIT", {}, Exception("server closed the connection unexpectedly"))


def test_connection_loss_is_retried_until_the_database_is_back() -> None:
    attempts: list[int] = []

    def flaky_store(factory: object, pairs: object) -> StoreReport:
        attempts.append(1)
        if len(attempts) < 3:
            raise connection_lost()
        return StoreReport(2, 0, 2, 2, 0)

    retry = StoreRetry(None, ThreadPoolExecutor(1), first_delay_s=0.01, store=flaky_store)  # type: ignore[arg-type]
    report, rejected = asyncio.run(retry.store([pair("a"), pair("b")]))
    assert (len(attempts), report.inserted_articles, rejected) == (3, 2, [])


def test_rejected_batch_is_split_and_only_the_bad_item_is_dead_lettered() -> None:
    def picky_store(factory: object, pairs: list[ScoredPair]) -> StoreReport:
        if any(p[0].headline == "bad" for p in pairs):
            raise DataError("INSERT", {}, Exception("value too long for type character varying(8)"))
        return StoreReport(len(pairs), 0, len(pairs), len(pairs), 0)

    retry = StoreRetry(None, ThreadPoolExecutor(1), store=picky_store)  # type: ignore[arg-type]
    bad = pair("bad")
    report, rejected = asyncio.run(retry.store([pair("good"), bad, pair("fine")]))
    assert report.inserted_articles == 2
    assert [(d.reason, "value too long" in d.detail) for d in rejected] == [("store_rejected", True)]
    assert rejected[0].item_id == bad.item.id  # named by its id, not by an "id=..." origin string
    assert NewsItem.model_validate_json(rejected[0].original) == bad.item


def test_forced_shutdown_abandons_the_batch_instead_of_dead_lettering_it() -> None:
    def down(factory: object, pairs: object) -> StoreReport:
        raise connection_lost()

    retry = StoreRetry(None, ThreadPoolExecutor(1), should_give_up=lambda: True, store=down)  # type: ignore[arg-type]
    with pytest.raises(StoreAbandoned):
        asyncio.run(retry.store([pair("a"), pair("b")]))
