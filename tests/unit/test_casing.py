"""The casing table (model/data/casing.py) and its use on title-case headlines (model/network/spans.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from model.data.casing import is_title_case, lower_case_words, only_lower_case_words, word_key
from model.network.modeling import JointModel, ModelConfig, default_encoder_path, load_tokenizer
from model.network.spans import complete_tagged
from model.serving.predictor import Predictor
from model.serving.registry import CASING_FILE, load_lower_case_words, save_version

# running text in sentence case, as the training sets write it
SENTENCE_CASE = [
    "Morgan Stanley lowers its price target on Apple after weak iPhone sales.",
    "Analysts lowers the price target; Apple shares fall.",  # "Apple" after a sentence end is not counted
    "The broker maintains a neutral rating and lowers the price target for Nvidia.",
    "Apple said it maintains its outlook while rivals cut their target.",
]


def test_words_written_lower_case_in_running_text_make_the_table() -> None:
    table = lower_case_words(SENTENCE_CASE, min_count=2, min_share=0.75)
    assert {"lowers", "price", "target", "maintains"} <= table
    assert not {"apple", "nvidia", "morgan", "stanley"} & table


def test_texts_whose_case_says_nothing_are_not_counted() -> None:
    title_case = ["Apple Lowers Price Target On Rivals", "Apple Shares Lower After Target Cut"] * 3
    capitals = ["APPLE LOWERS TARGET"] * 3
    assert lower_case_words(title_case + capitals, min_count=1) == frozenset()


def test_a_word_often_capitalised_mid_sentence_is_not_in_the_table() -> None:
    texts = ["Shoppers flock to stores for the Black Friday deals", "Investigators said a black box was found",
             "Retailers report that Black Friday sales rose"]
    # "black": 1 lower case of 3
    assert "black" not in lower_case_words(texts, min_count=1, min_share=0.75)


def test_phrases_are_compared_word_by_word() -> None:
    table = frozenset({"price", "target", "lowers"})
    assert only_lower_case_words("Price Target", table)
    assert not only_lower_case_words("Target Corp", table)
    assert not only_lower_case_words("", table)
    assert word_key("Valerie's") == "valerie" and word_key("Inc.") == "inc"


HEADLINE = "Morgan Stanley Maintains Equal-Weight on NVIDIA, Lowers Price Target to $200"


def _named(text: str, words: list[str], table: frozenset[str]) -> list[str]:
    spans = [(text.index(w), text.index(w) + len(w), "PER") for w in words]
    return [text[s:e] for s, e, _ in filter(None, complete_tagged(text, spans, table))]


def test_a_title_case_span_of_lower_case_words_is_no_name() -> None:
    table = frozenset({"maintains", "lowers", "price", "target", "on"})
    assert is_title_case(HEADLINE)
    named = _named(HEADLINE, ["Morgan Stanley", "Maintains", "NVIDIA", "Lowers", "Price Target"], table)
    assert named == ["Morgan Stanley", "NVIDIA"]
    # without a table (a version saved before it existed) the tagger's spans stand, as before
    assert _named(HEADLINE, ["Lowers", "NVIDIA"], frozenset()) == ["Lowers", "NVIDIA"]


def test_sentence_case_headlines_are_left_to_their_capitals() -> None:
    text = "Target shares slump after retailer lowers forecast"  # the retailer, at the start of a sentence
    assert _named(text, ["Target"], frozenset({"target", "lowers"})) == ["Target"]


@pytest.fixture(scope="module")
def registry(tmp_path_factory) -> tuple[Path, str, str]:
    path = tmp_path_factory.mktemp("registry")
    torch.manual_seed(0)
    model = JointModel(ModelConfig(encoder_layers=1)).eval()
    tokenizer = load_tokenizer(default_encoder_path())
    with_table = save_version(path, model, tokenizer, {"profile": "test", "metrics": {}},
                              lower_case_words=frozenset({"lowers", "price"}))
    without = save_version(path, model, tokenizer, {"profile": "test", "metrics": {}})
    return path, with_table, without


def test_a_version_keeps_its_table_and_the_predictor_reads_it(registry: tuple[Path, str, str]) -> None:
    path, with_table, without = registry
    assert (path / with_table / CASING_FILE).is_file() and not (path / without / CASING_FILE).exists()
    assert load_lower_case_words(path, with_table) == {"lowers", "price"}
    assert load_lower_case_words(path, without) == frozenset()
    assert Predictor.load(path, with_table, device="cpu").lower_case_words == {"lowers", "price"}
