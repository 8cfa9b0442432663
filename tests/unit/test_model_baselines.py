"""Baselines: lexicon labelling rules, band selection on train, spaCy tag alignment, the report."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from model.data.loaders import load
from model.data.splits import DatasetSplit
from model.network.labels import SENTIMENT_LABELS
from model.reports.baselines import lexicon
from model.reports.baselines.report import run_baselines, summary, write_report

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "baselines"
NEG, NEU, POS = (SENTIMENT_LABELS.index(n) for n in ("negative", "neutral", "positive"))


@pytest.fixture(scope="module")
def tokenizer():  # noqa: ANN201
    from model.network.modeling import default_encoder_path, load_tokenizer

    return load_tokenizer(default_encoder_path())


def test_label_from_score_puts_the_band_edges_in_neutral() -> None:
    assert lexicon.label_from_score(0.2, 0.2) == NEU
    assert lexicon.label_from_score(0.21, 0.2) == POS
    assert lexicon.label_from_score(-0.21, 0.2) == NEG
    assert lexicon.label_from_score(0.0, 0.0) == NEU


def test_neutral_band_is_the_most_accurate_and_the_narrowest_on_ties() -> None:
    scores = [0.9, -0.8, 0.1, -0.1, 0.0, 0.6]
    gold = [POS, NEG, NEU, NEU, NEU, POS]
    # any band in [0.1, 0.6) labels all six correctly; the narrowest grid value is 0.1
    assert lexicon.choose_neutral_band(scores, gold) == pytest.approx(0.1)
    assert lexicon.choose_neutral_band([0.5, -0.5], [POS, NEG]) == 0.0


def test_neutral_band_needs_scores() -> None:
    with pytest.raises(ValueError, match="at least one"):
        lexicon.choose_neutral_band([], [])


def test_lexicons_read_finance_polarity() -> None:
    assert lexicon.lm_polarity("Pretax loss widened after weak demand and impairment charges") < 0
    assert lexicon.lm_polarity("Profit improved and the company achieved strong gains") > 0
    assert lexicon.lm_polarity("The meeting is scheduled for Tuesday") == 0.0
    assert lexicon.vader_label("Shares crash after a terrible fraud scandal") == NEG
    assert lexicon.vader_label("A great quarter: profits soared and investors are happy") == POS
    assert lexicon.vader_label("The meeting is scheduled for Tuesday") == NEU


def test_spacy_entities_become_our_types_over_the_models_words(tokenizer) -> None:  # noqa: ANN001
    from model.network.collate import encode_text
    from model.reports.baselines.spacy_ner import SPACY_TO_OURS, spacy_spans, word_tags

    text = "Tim Cook said Apple will open a store in Paris on Monday"
    spans = next(iter(spacy_spans([text])))
    types = {text[s:e]: t for s, e, t in spans}
    assert types.get("Tim Cook") == "PER" and types.get("Paris") == "LOC"
    assert "Monday" not in types  # DATE is a numeric type: dropped
    assert set(SPACY_TO_OURS.values()) == {"ORG", "PER", "LOC", "MISC"}
    tags = word_tags(encode_text(tokenizer, text), spans)
    assert tags[:2] == ["B-PER", "I-PER"] and len(tags) == len(text.split())


def test_word_tags_align_with_gold_tags_of_the_same_spans(tokenizer) -> None:  # noqa: ANN001
    from model.network.collate import encode_example
    from model.reports.baselines.spacy_ner import gold_word_tags, word_tags

    example = load("conll", FIXTURES / "conll_dev.txt")[0]
    item = encode_example(tokenizer, example)
    gold_spans = [(e.start, e.end, e.label) for e in example.entities]
    assert word_tags(item, gold_spans) == gold_word_tags(item)
    assert gold_word_tags(item) == ["B-PER", "I-PER", "O", "B-ORG", "I-ORG", "O", "B-LOC", "O"]


def test_topic_baseline_learns_separable_topics() -> None:
    from model.reports.baselines.topic import C_GRID, fit_topic_baseline

    train = load("twitter-topic", FIXTURES / "topic_train.csv")
    dev = load("twitter-topic", FIXTURES / "topic_dev.csv")
    pipeline, chosen, _ = fit_topic_baseline(train)
    assert chosen in C_GRID
    assert [int(p) for p in pipeline.predict([e.text for e in dev])] == [e.topic for e in dev]


def test_topic_baseline_refuses_unlabelled_data() -> None:
    from model.reports.baselines.topic import fit_topic_baseline

    with pytest.raises(ValueError, match="no topic-labelled"):
        fit_topic_baseline(load("phrasebank", FIXTURES / "phrasebank_train.csv"))


def _split(name: str, tasks: set[str], train: list, dev: list) -> DatasetSplit:
    return DatasetSplit(name, frozenset(tasks), train, dev, {f"{name}.fixture": "0" * 64})


def test_run_baselines_reports_every_task_with_the_shared_metrics(tmp_path: Path, tokenizer) -> None:  # noqa: ANN001
    corpus = {
        "phrasebank": _split("phrasebank", {"sentiment"}, load("phrasebank", FIXTURES / "phrasebank_train.csv"),
                             load("phrasebank", FIXTURES / "phrasebank_dev.csv")),
        "sentfin": _split("sentfin", {"entity-sentiment"}, [], load("sentfin", FIXTURES / "sentfin_dev.csv")),
        "twitter_topic": _split("twitter_topic", {"topic"}, load("twitter-topic", FIXTURES / "topic_train.csv"),
                                load("twitter-topic", FIXTURES / "topic_dev.csv")),
        "conll": _split("conll", {"ner"}, [], load("conll", FIXTURES / "conll_dev.txt")),
    }
    report = run_baselines(corpus, tokenizer=tokenizer, progress=False)
    metrics = report["metrics"]
    assert set(metrics["phrasebank"]["sentiment"]) == {"loughran_mcdonald", "vader"}
    assert metrics["phrasebank"]["sentiment"]["vader"]["n"] == 4
    assert metrics["phrasebank"]["sentiment"]["loughran_mcdonald"]["neutral_band"] in lexicon.BAND_GRID
    assert metrics["sentfin"]["entity-sentiment"]["vader_sentence"]["n"] == 5  # entities, not headlines
    assert metrics["twitter_topic"]["topic"]["tfidf_logreg"]["accuracy"] == 1.0
    conll = metrics["conll"]["ner"]["spacy_en_core_web_sm"]
    assert conll["n"] == 3 and 0.0 < conll["f1"] <= 1.0 and "per_class" in conll
    assert report["missing_datasets"] == ["twitter_sentiment", "finer_ord"]
    short = summary(report)
    assert "per_class" not in json.dumps(short)
    path = write_report(report, tmp_path / "baselines.json")
    assert json.loads(path.read_text())["metrics"]["conll"]["ner"]["spacy_en_core_web_sm"]["f1"] == conll["f1"]
