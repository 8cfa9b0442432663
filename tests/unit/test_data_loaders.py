"""Every dataset format on small hand-written fixtures, including the malformed cases."""

from __future__ import annotations

from pathlib import Path

import pytest

from model.data.errors import DataFormatError
from model.data.examples import EntitySpan
from model.data.loaders import FORMATS, load
from model.data.sentfin import parse_decisions
from model.data.tagging import detect_scheme, tags_to_spans
from model.network.labels import SENTIMENT_LABELS, TOPIC_LABELS

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "data"
NEGATIVE, NEUTRAL, POSITIVE = (SENTIMENT_LABELS.index(n) for n in ("negative", "neutral", "positive"))


def spans_text(text: str, spans: list) -> list[tuple[str, str]]:
    return [(text[s.start:s.end], getattr(s, "label", getattr(s, "sentiment", None))) for s in spans]


def test_twitter_sentiment_maps_bearish_bullish_neutral_onto_label_order() -> None:
    examples = load("twitter-sentiment", FIXTURES / "twitter_sentiment.csv")
    assert [e.sentiment for e in examples] == [NEGATIVE, POSITIVE, NEUTRAL]
    assert examples[0].text.startswith("$BYND - JPMorgan")
    assert {e.source for e in examples} == {"twitter_sentiment"}
    assert all(e.topic is None and e.entities is None for e in examples)


def test_twitter_topic_keeps_label_ids() -> None:
    examples = load("twitter-topic", FIXTURES / "twitter_topic.csv")
    assert [TOPIC_LABELS[e.topic] for e in examples] == ["Analyst Update", "Fed / Central Banks", "IPO", "Earnings"]
    assert all(e.sentiment is None for e in examples)


def test_phrasebank_csv_keeps_all_agree() -> None:
    examples = load("phrasebank", FIXTURES / "phrasebank.csv")
    assert [e.sentiment for e in examples] == [NEUTRAL, POSITIVE, NEGATIVE]
    assert [e.meta["all_agree"] for e in examples] == [True, True, False]


def test_phrasebank_release_text_is_latin1_and_at_separated() -> None:
    examples = load("phrasebank", FIXTURES / "Sentences_AllAgree.txt")
    assert [e.sentiment for e in examples] == [NEGATIVE, POSITIVE, NEUTRAL]
    assert examples[1].text == "Nokia\u00b4s shares rose 3 % in Helsinki ."
    assert examples[0].meta == {"all_agree": True}


def test_csv_detects_sentiment_names_case_insensitively_and_slang() -> None:
    examples = load("csv", FIXTURES / "labelled.csv")
    assert [e.sentiment for e in examples] == [NEGATIVE, NEUTRAL, POSITIVE]
    assert all(e.topic is None for e in examples)


def test_csv_detects_topic_names() -> None:
    examples = load("csv", FIXTURES / "labelled_topic.csv")
    assert [TOPIC_LABELS[e.topic] for e in examples] == ["IPO", "Earnings"]


def test_csv_with_explicit_task_rejects_labels_of_the_other_task() -> None:
    with pytest.raises(DataFormatError, match=r"labelled_topic\.csv:2: unknown sentiment label 'IPO'"):
        load("csv", FIXTURES / "labelled_topic.csv", task="sentiment")


def test_unknown_label_names_file_and_line() -> None:
    with pytest.raises(DataFormatError, match=r"bad_label\.csv:3: unknown label 'bullishh'"):
        load("csv", FIXTURES / "bad_label.csv")


def test_missing_column_is_named() -> None:
    with pytest.raises(DataFormatError, match=r"missing_column\.csv:1: missing column 'label'"):
        load("twitter-sentiment", FIXTURES / "missing_column.csv")


def test_out_of_range_integer_label(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_text('text,label\nfine,1\n"multi\nline",7\n', encoding="utf-8")
    with pytest.raises(DataFormatError, match=r"t\.csv:3: bad label '7'"):
        load("twitter-sentiment", path)


def test_conll_iob2_spans_over_space_joined_tokens() -> None:
    examples = load("conll", FIXTURES / "conll_iob2.txt")
    assert len(examples) == 2  # -DOCSTART- skipped
    assert examples[0].text == "EU rejects German call ."
    assert spans_text(examples[0].text, examples[0].entities) == [("EU", "ORG"), ("German", "MISC")]
    assert spans_text(examples[1].text, examples[1].entities) == [("Peter Blackburn", "PER"), ("Goldman Sachs", "ORG")]
    assert examples[0].meta["tag_scheme"] == "IOB2"
    assert examples[1].meta["line"] == 9


def test_conll_iob1_is_detected_and_b_splits_adjacent_entities() -> None:
    examples = load("conll", FIXTURES / "conll_iob1.txt", source="fin5")
    assert {e.meta["tag_scheme"] for e in examples} == {"IOB1"}
    assert examples[0].source == "fin5"
    assert spans_text(examples[0].text, examples[0].entities) == [
        ("SILICON VALLEY BANK", "ORG"), ("AKAMAI", "ORG"), ("California", "LOC")]
    assert spans_text(examples[1].text, examples[1].entities) == [("Bank One", "ORG"), ("Citibank", "ORG")]


def test_conll_bad_tag_names_line() -> None:
    with pytest.raises(DataFormatError, match=r"conll_bad_tag\.txt:2: bad tag 'B-FOO'"):
        load("conll", FIXTURES / "conll_bad_tag.txt")


def test_scheme_detection_and_span_rule_directly() -> None:
    assert detect_scheme([["B-ORG", "I-ORG", "O", "B-PER"]]) == "IOB2"
    assert detect_scheme([["O", "I-ORG"], ["B-PER"]]) == "IOB1"
    assert detect_scheme([["B-ORG", "I-PER"]]) == "IOB1"  # I- of a new type opens an entity
    text, spans = tags_to_spans(["Bank", "of", "America", "rose"], ["B-ORG", "I-ORG", "I-ORG", "O"])
    assert spans == [EntitySpan(0, 15, "ORG")] and text[0:15] == "Bank of America"


def test_finer_ord_groups_rows_by_document_and_sentence() -> None:
    examples = load("finer-ord", FIXTURES / "finer_ord.csv")
    assert [e.text for e in examples] == ["By Neville Otuki", "Kenya 's leaders met Safaricom PLC",
                                          "Markets closed higher"]
    assert spans_text(examples[1].text, examples[1].entities) == [("Kenya", "LOC"), ("Safaricom PLC", "ORG")]
    assert spans_text(examples[0].text, examples[0].entities) == [("Neville Otuki", "PER")]
    assert examples[2].entities == []  # labelled, no entity
    assert (examples[2].meta["doc"], examples[2].meta["sentence"]) == (1, 0)


def test_finer_ord_bad_code_names_line() -> None:
    with pytest.raises(DataFormatError, match=r"finer_ord_bad\.csv:3: bad gold_label '9'"):
        load("finer-ord", FIXTURES / "finer_ord_bad.csv")


def test_sentfin_reads_unescaped_apostrophes_and_locates_entities() -> None:
    examples = load("sentfin", FIXTURES / "sentfin.csv")
    by_line = {e.meta["line"]: e for e in examples}
    moody = by_line[3]
    assert spans_text(moody.text, moody.entity_sentiments) == [("Moody's", NEUTRAL), ("Tata Steel UK", NEGATIVE)]
    pharma = by_line[4]  # the plural "Sun Pharmas" still locates "Sun Pharma"
    assert spans_text(pharma.text, pharma.entity_sentiments) == [("Sun Pharma", POSITIVE), ("Taro", NEUTRAL)]
    avantha = by_line[5]  # a mangled name is skipped and counted, the other entity kept
    assert avantha.meta["unlocated"] == ["Avantha neutralings"]
    assert spans_text(avantha.text, avantha.entity_sentiments) == [("Crompton Greaves", NEGATIVE)]
    assert 6 not in by_line  # no entity of that headline could be located: dropped
    assert all(e.entities is None and e.sentiment is None for e in examples)


def test_sentfin_parse_decisions_tolerant_fallback() -> None:
    assert parse_decisions("{'Dr Reddy's Labs': 'positive', 'Sun Pharma': 'negative'}") == {
        "Dr Reddy's Labs": "positive", "Sun Pharma": "negative"}
    assert parse_decisions("{\"Dr Reddy's\": 'neutral'}") == {"Dr Reddy's": "neutral"}
    with pytest.raises(ValueError, match="not a dict"):
        parse_decisions("{'Broken': }")


def test_sentfin_unknown_sentiment_names_line() -> None:
    with pytest.raises(DataFormatError, match=r"sentfin_bad\.csv:3: unknown sentiment 'great' for entity 'Infosys'"):
        load("sentfin", FIXTURES / "sentfin_bad.csv")


def test_unknown_format_lists_the_known_ones() -> None:
    with pytest.raises(ValueError, match="expected one of: " + ", ".join(FORMATS)):
        load("jsonl", FIXTURES / "labelled.csv")
