"""Pure batch steps of the worker: split raw messages, drop repeats, score.

No Kafka and no database here, so each step is unit-tested directly.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Iterable, Sequence

from model.network.results import ArticleResult
from monitor.contract import NewsItem
from monitor.storage.writes import ScoredPair
from monitor.wire import DeadLetter, parse_item, rejected_item

log = logging.getLogger(__name__)


def split_batch(messages: Iterable[tuple[bytes | None, str]]) -> tuple[list[NewsItem], list[DeadLetter]]:
    """(value, origin) pairs -> the valid items and the dead letters, each in arrival order."""
    return split_parsed(parse_item(value, origin) for value, origin in messages)


def split_parsed(parsed: Iterable[NewsItem | DeadLetter]) -> tuple[list[NewsItem], list[DeadLetter]]:
    """Parsed messages (`parse_item` results) -> the valid items and the dead letters, each in arrival order."""
    items: list[NewsItem] = []
    dead: list[DeadLetter] = []
    for entry in parsed:
        (dead if isinstance(entry, DeadLetter) else items).append(entry)  # type: ignore[arg-type]
    return items, dead


def unique_by_id(items: Iterable[NewsItem]) -> list[NewsItem]:
    """First copy of each id: a repeat inside one batch is not scored twice (storage ignores it anyway)."""
    seen: dict[str, NewsItem] = {}
    for item in items:
        seen.setdefault(item.id or "", item)
    return list(seen.values())


def score_batch(
    predict: Callable[[list[str]], list[ArticleResult]], version: str, items: Sequence[NewsItem],
) -> tuple[list[ScoredPair], list[DeadLetter]]:
    """Score items in one call; if the batch fails, score one by one so one bad item cannot block the rest.

    Results without a model version get `version`, so every stored row says which model scored it.
    """
    if not items:
        return [], []
    try:
        results = predict([item.text_for_model for item in items])
        if len(results) != len(items):
            raise ValueError(f"predictor returned {len(results)} results for {len(items)} texts")
        return [ScoredPair(item, _versioned(result, version))
                for item, result in zip(items, results, strict=True)], []
    except Exception:
        if len(items) == 1:
            raise
        log.exception("batch of %d failed to score; retrying item by item", len(items))
    pairs: list[ScoredPair] = []
    dead: list[DeadLetter] = []
    for item in items:
        try:
            [result] = predict([item.text_for_model])
            pairs.append(ScoredPair(item, _versioned(result, version)))
        except Exception as error:  # noqa: BLE001 - any model failure on one item is that item's dead letter
            dead.append(rejected_item("scoring_failed", f"{type(error).__name__}: {error}", item))
    return pairs, dead


def _versioned(result: ArticleResult, version: str) -> ArticleResult:
    return result if result.model_version else dataclasses.replace(result, model_version=version)

