"""One entry point for every dataset format: ``load(format, path, task=None) -> list[Example]``.

The per-format loaders live in small modules (`classification`, `ner`,
`sentfin`) and are re-exported here. Try one from the shell:

    python -m model.data.loaders phrasebank ../shared/datasets/sentiment/financial_phrasebank_train.csv
"""

from __future__ import annotations

import sys
from pathlib import Path

from model.data.classification import (
    load_labelled_csv,
    load_phrasebank,
    load_twitter_sentiment,
    load_twitter_topic,
)
from model.data.errors import DataFormatError, DatasetMissingError
from model.data.examples import Example
from model.data.ner import load_conll, load_finer_ord
from model.data.sentfin import load_sentfin

FORMATS: tuple[str, ...] = ("twitter-sentiment", "twitter-topic", "phrasebank", "conll", "finer-ord", "sentfin", "csv")

__all__ = [
    "FORMATS", "DataFormatError", "DatasetMissingError", "load", "load_conll", "load_finer_ord",
    "load_labelled_csv", "load_phrasebank", "load_sentfin", "load_twitter_sentiment", "load_twitter_topic",
]


def load(format: str, path: Path, task: str | None = None, source: str | None = None) -> list[Example]:
    """Read `path` in `format` into Examples.

    `task` only matters for ``csv`` (``"sentiment"`` or ``"topic"``; detected
    from the labels when None). `source` overrides the Example.source each
    loader would set (its dataset name), e.g. ``"fin5"`` for FIN5.txt read as ``conll``.
    """
    path = Path(path)
    if format not in FORMATS:
        raise ValueError(f"unknown dataset format {format!r} (expected one of: {', '.join(FORMATS)})")
    if not path.is_file():
        raise DatasetMissingError(f"{path}: no such dataset file")
    if format == "csv":
        return load_labelled_csv(path, task=task, source=source)
    loader = {
        "twitter-sentiment": load_twitter_sentiment,
        "twitter-topic": load_twitter_topic,
        "phrasebank": load_phrasebank,
        "conll": load_conll,
        "finer-ord": load_finer_ord,
        "sentfin": load_sentfin,
    }[format]
    return loader(path) if source is None else loader(path, source=source)


if __name__ == "__main__":  # pragma: no cover - a manual check
    examples = load(sys.argv[1], Path(sys.argv[2]), sys.argv[3] if len(sys.argv) > 3 else None)
    print(f"{len(examples)} examples; first: {examples[0] if examples else None}")
