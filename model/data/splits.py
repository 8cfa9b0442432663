"""Deterministic train/dev splits of the catalogued datasets.

The official test splits are withheld from the project, so every number we
report during development comes from a dev split carved out of the training
files: never train on it. Where a dataset ships an official dev file (CoNLL's
eng.testa, FiNER-ORD's val.csv) that is the dev split; otherwise an example is
assigned by a hash of its normalised text, so the split does not depend on
file order, Python's hash seed or the machine, and duplicate texts always land
on the same side. Print the counts with:

    python -m model.data.splits DATA_DIR   # e.g. "$(finsent config --json | jq -r .data_dir)"
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from model.data.catalogue import CATALOGUE, Dataset, get_dataset
from model.data.errors import DatasetMissingError
from model.data.examples import Example
from model.data.loaders import load

log = logging.getLogger(__name__)
DEFAULT_DEV_FRACTION = 0.1
_URL = re.compile(r"https?://\S+")
_NON_WORD = re.compile(r"[\W_]+")


@dataclass
class DatasetSplit:
    name: str
    tasks: frozenset[str]
    train: list[Example]
    dev: list[Example]
    file_sha256: dict[str, str]  # path relative to the data dir -> SHA-256 of the file read


def normalise_text(text: str) -> str:
    """The form duplicates share: NFKC, lower case, URLs dropped, punctuation and spacing collapsed.

    Tweets re-posted with a fresh t.co link, or a headline with different
    spacing around punctuation, are the same text for splitting purposes.
    """
    text = unicodedata.normalize("NFKC", text).lower()
    return _NON_WORD.sub(" ", _URL.sub(" ", text)).strip()


def is_dev(text: str, dev_fraction: float) -> bool:
    """Whether `text` belongs to the dev side: its normalised text's SHA-1, read as a fraction, is below it."""
    digest = hashlib.sha1(normalise_text(text).encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") / 2**64 < dev_fraction


def split_by_hash(examples: Sequence[Example], dev_fraction: float) -> tuple[list[Example], list[Example]]:
    """(train, dev) by `is_dev`; order within each side follows the input."""
    if not 0.0 <= dev_fraction < 1.0:
        raise ValueError(f"dev_fraction must be in [0, 1), not {dev_fraction}")
    train: list[Example] = []
    dev: list[Example] = []
    for example in examples:
        (dev if is_dev(example.text, dev_fraction) else train).append(example)
    return train, dev


def file_sha256(path: Path) -> str:
    with path.open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def load_split(dataset: Dataset, data_dir: Path, dev_fraction: float = DEFAULT_DEV_FRACTION) -> DatasetSplit:
    """Load one catalogued dataset from `data_dir` and split it."""
    train_path = dataset.find(data_dir, dataset.train)
    paths = [train_path]
    examples = load(dataset.format, train_path, source=dataset.name)
    if dataset.dev:
        dev_path = dataset.find(data_dir, dataset.dev)
        paths.append(dev_path)
        train, dev = examples, load(dataset.format, dev_path, source=dataset.name)
    else:
        fraction = dataset.dev_fraction if dataset.dev_fraction is not None else dev_fraction
        train, dev = split_by_hash(examples, fraction)
    checksums = {str(path.relative_to(data_dir)): file_sha256(path) for path in paths}
    return DatasetSplit(dataset.name, dataset.tasks, train, dev, checksums)


def load_corpus(data_dir: Path, names: Sequence[str] | None = None,
                dev_fraction: float = DEFAULT_DEV_FRACTION) -> dict[str, DatasetSplit]:
    """The requested datasets, each split into train and dev.

    `names=None` means every catalogued dataset present in `data_dir` (the
    absent ones are logged; none at all is an error). A named dataset must be
    there: its missing file raises DatasetMissingError naming the file and how
    to get it. `dev_fraction` applies to datasets without an official dev file
    and without their own fraction in the catalogue (PhraseBank uses 0.15).
    """
    data_dir = Path(data_dir)
    if names is None:
        datasets = available_datasets(data_dir)
        absent = [d.name for d in CATALOGUE if d not in datasets]
        if not datasets:
            CATALOGUE[0].find(data_dir, CATALOGUE[0].train)  # raises, naming a file and the fix
            raise DatasetMissingError(f"no catalogued dataset under {data_dir}")
        if absent:
            log.warning("datasets not found under %s and left out: %s", data_dir, ", ".join(absent))
    else:
        datasets = tuple(get_dataset(name) for name in names)
    return {dataset.name: load_split(dataset, data_dir, dev_fraction) for dataset in datasets}


def available_datasets(data_dir: Path) -> tuple[Dataset, ...]:
    """The catalogued datasets whose files are all present under `data_dir`."""
    present = []
    for dataset in CATALOGUE:
        try:
            dataset.find(data_dir, dataset.train)
            if dataset.dev:
                dataset.find(data_dir, dataset.dev)
        except DatasetMissingError:
            continue
        present.append(dataset)
    return tuple(present)


def corpus_counts(corpus: dict[str, DatasetSplit]) -> dict[str, dict[str, int]]:
    """{dataset: {"train": n, "dev": n}}, the table docs/data.md reports."""
    return {name: {"train": len(split.train), "dev": len(split.dev)} for name, split in corpus.items()}


if __name__ == "__main__":  # pragma: no cover - a manual report: python -m model.data.splits DATA_DIR
    import sys

    print(json.dumps(corpus_counts(load_corpus(Path(sys.argv[1])))))
