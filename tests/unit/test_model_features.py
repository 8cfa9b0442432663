"""Word shapes, BIO alignment over word pieces and span reading (model.network.features, model.network.collate)."""

from __future__ import annotations

import pytest

from model.data.examples import EntitySentiment, EntitySpan, Example
from model.network.collate import collate, encode_example, length_buckets
from model.network.features import IGNORE_INDEX, bio_spans, word_shape
from model.network.labels import NER_TAGS
from model.network.modeling import default_encoder_path, load_tokenizer


@pytest.fixture(scope="module")
def tokenizer():
    return load_tokenizer(default_encoder_path())


@pytest.mark.parametrize(("word", "shape"), [
    ("apple", "x"), ("Apple", "Xx"), ("IBM", "XX"), ("A", "Xx"), ("2024", "d"), ("5.3", "d"),
    (",", "punct"), ("iPhone", "mixed"), ("TLV1V", "mixed"),
])
def test_word_shape(word: str, shape: str) -> None:
    assert word_shape(word) == shape


def test_casing_survives_the_uncased_tokenizer(tokenizer) -> None:
    upper = encode_example(tokenizer, Example("Shell buys shell", "t"))
    # same word pieces for "Shell" and "shell", different shape ids
    assert upper.input_ids[1] == upper.input_ids[3]
    assert upper.shape_ids[1] != upper.shape_ids[3]


def test_bio_labels_first_word_piece_and_ignores_the_rest(tokenizer) -> None:
    text = "Talvivaara Mining said Nokia rose"
    example = Example(text, "t", entities=[EntitySpan(0, 17, "ORG"), EntitySpan(23, 28, "ORG")])
    encoded = encode_example(tokenizer, example)
    tokens = tokenizer.convert_ids_to_tokens(encoded.input_ids)
    tags = [None if t == IGNORE_INDEX else NER_TAGS[t] for t in encoded.ner_tags]
    assert tokens[0] == "[CLS]" and tags[0] is None and tags[-1] is None
    words = [(tok, tag) for tok, tag in zip(tokens, tags)]
    # "talvivaara" is several word pieces: only the first one is labelled
    first_piece = tokens.index("tal")
    assert tags[first_piece] == "B-ORG"
    assert all(tag is None for tok, tag in words[first_piece + 1:] if tok.startswith("##"))
    assert tags[tokens.index("mining")] == "I-ORG"
    assert tags[tokens.index("said")] == "O"
    assert tags[tokens.index("nokia")] == "B-ORG"


def test_span_inside_a_word_labels_that_word(tokenizer) -> None:
    encoded = encode_example(tokenizer, Example("Buy $AAPL now", "t", entities=[EntitySpan(5, 9, "ORG")]))
    labelled = [NER_TAGS[t] for t in encoded.ner_tags if t != IGNORE_INDEX]
    assert labelled.count("B-ORG") == 1


def test_bio_spans_reads_iob1_and_iob2() -> None:
    assert bio_spans(["B-ORG", "I-ORG", "O", "B-PER"]) == [(0, 2, "ORG"), (3, 4, "PER")]
    assert bio_spans(["I-LOC", "I-LOC", "B-LOC"]) == [(0, 2, "LOC"), (2, 3, "LOC")]
    assert bio_spans(["B-ORG", "I-PER"]) == [(0, 1, "ORG"), (1, 2, "PER")]


def test_collate_pads_and_masks_unlabelled_tasks(tokenizer) -> None:
    items = [
        encode_example(tokenizer, Example("Apple beats estimates while Intel misses", "sentfin",
                                          entity_sentiments=[EntitySentiment(0, 5, 2), EntitySentiment(28, 33, 0)])),
        encode_example(tokenizer, Example("Markets fell", "phrasebank", sentiment=0)),
    ]
    batch, labels = collate(items)
    assert batch.input_ids.shape == batch.attention_mask.shape == labels.ner.shape
    assert int(batch.attention_mask[1].sum()) == len(items[1].input_ids)
    assert labels.sentiment.tolist() == [IGNORE_INDEX, 0]
    assert labels.topic.tolist() == [IGNORE_INDEX, IGNORE_INDEX]
    assert (labels.ner == IGNORE_INDEX).all()  # neither example is NER-labelled
    assert labels.entity_sentiment.tolist() == [[2, 0], [IGNORE_INDEX, IGNORE_INDEX]]
    assert batch.entity_mask.tolist() == [[True, True], [False, False]]
    apple = batch.entity_token_mask[0, 0].nonzero().flatten().tolist()
    assert tokenizer.convert_ids_to_tokens([items[0].input_ids[i] for i in apple]) == ["apple"]


def test_length_buckets_cover_every_index_once() -> None:
    import random

    lengths = [5, 1, 9, 3, 7, 2, 8]
    for rng in (None, random.Random(0)):
        batches = length_buckets(lengths, 3, rng)
        assert sorted(i for b in batches for i in b) == list(range(len(lengths)))
    assert length_buckets(lengths, 3)[0] == [1, 5, 3]  # sorted by length without rng
