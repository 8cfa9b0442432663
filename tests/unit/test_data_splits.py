"""Dev splits: deterministic, disjoint by normalised text, duplicates on one side, official dev files used."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from model.data.errors import DatasetMissingError
from model.data.examples import Example
from model.data.splits import is_dev, load_corpus, normalise_text, split_by_hash

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "data"

HEADLINES = [f"Company {i} reports quarterly results above estimates" for i in range(400)]


def examples(texts: list[str]) -> list[Example]:
    return [Example(text, "test", sentiment=1) for text in texts]


def test_split_is_deterministic_and_roughly_the_requested_fraction() -> None:
    train_a, dev_a = split_by_hash(examples(HEADLINES), 0.1)
    train_b, dev_b = split_by_hash(examples(list(reversed(HEADLINES))), 0.1)
    assert sorted(e.text for e in dev_a) == sorted(e.text for e in dev_b)
    assert len(train_a) + len(dev_a) == 400
    assert 20 <= len(dev_a) <= 60  # 10 % of 400, with hash noise


def test_no_normalised_text_on_both_sides_and_duplicates_stay_together() -> None:
    variants = []
    for text in HEADLINES[:100]:
        variants += [text, text.upper() + " https://t.co/abc123", "  " + text.replace(" ", "  ") + " ."]
    train, dev = split_by_hash(examples(variants), 0.2)
    train_keys = {normalise_text(e.text) for e in train}
    dev_keys = {normalise_text(e.text) for e in dev}
    assert train_keys and dev_keys and not train_keys & dev_keys
    assert len(train_keys) + len(dev_keys) == 100


def test_normalise_text_drops_urls_case_and_punctuation() -> None:
    assert normalise_text("Apple  rises, 2%! https://t.co/x") == normalise_text("apple rises 2")
    assert is_dev("Apple rises", 0.0) is False and is_dev("Apple rises", 0.999999) is True


def test_bad_fraction_is_rejected() -> None:
    with pytest.raises(ValueError, match="dev_fraction"):
        split_by_hash([], 1.0)


def make_data_dir(root: Path) -> Path:
    """A miniature data directory laid out like the shared one, from the fixtures."""
    layout = {
        "sentiment/twitter_fin_sentiment_train.csv": "twitter_sentiment.csv",
        "sentiment/financial_phrasebank_train.csv": "phrasebank.csv",
        "ner/finer_ord/train.csv": "finer_ord.csv",
        "ner/finer_ord/val.csv": "finer_ord.csv",
    }
    for relative, fixture in layout.items():
        (root / relative).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(FIXTURES / fixture, root / relative)
    return root


def test_load_corpus_uses_official_dev_files_and_records_checksums(tmp_path: Path) -> None:
    corpus = load_corpus(make_data_dir(tmp_path), ["finer_ord", "twitter_sentiment", "phrasebank"])
    finer = corpus["finer_ord"]
    assert finer.tasks == frozenset({"ner"})
    assert len(finer.train) == len(finer.dev) == 3  # val.csv is the dev split, not carved from train
    assert set(finer.file_sha256) == {"ner/finer_ord/train.csv", "ner/finer_ord/val.csv"}
    assert all(len(digest) == 64 for digest in finer.file_sha256.values())
    tweets = corpus["twitter_sentiment"]
    assert len(tweets.train) + len(tweets.dev) == 3 and tweets.tasks == frozenset({"sentiment"})
    assert {e.source for e in corpus["phrasebank"].train + corpus["phrasebank"].dev} == {"phrasebank"}


def test_missing_file_says_which_and_how_to_get_it(tmp_path: Path) -> None:
    with pytest.raises(DatasetMissingError) as raised:
        load_corpus(make_data_dir(tmp_path), ["conll"])
    message = str(raised.value)
    assert "ner/conll2003/eng.train" in message
    assert "FINSENT_DATA_DIR" in message and "finsent data fetch --only conll --include-noncommercial" in message


def test_unknown_dataset_name_lists_known_ones(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="known: twitter_sentiment"):
        load_corpus(tmp_path, ["reddit"])


def test_all_datasets_means_the_ones_present(tmp_path: Path) -> None:
    corpus = load_corpus(make_data_dir(tmp_path))
    assert set(corpus) == {"twitter_sentiment", "phrasebank", "finer_ord"}


def test_empty_data_dir_is_an_error_naming_a_file(tmp_path: Path) -> None:
    with pytest.raises(DatasetMissingError, match="twitter_fin_sentiment_train.csv"):
        load_corpus(tmp_path)
