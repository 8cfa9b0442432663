"""Loaders for the sentence-level sets: Twitter sentiment/topic, Financial PhraseBank, generic CSV.

Each returns ``list[Example]`` with only its task's field set. Run one by hand:

    python -c "from pathlib import Path; from model.data.loaders import load; \
print(len(load('phrasebank', Path('../shared/datasets/sentiment/financial_phrasebank_train.csv'))))"
"""

from __future__ import annotations

from pathlib import Path

from model.data.csv_rows import read_rows
from model.data.errors import DataFormatError
from model.data.examples import Example
from model.network.labels import SENTIMENT_LABELS, TOPIC_LABELS

# Twitter Financial News Sentiment ids: 0 bearish, 1 bullish, 2 neutral -> SENTIMENT_LABELS order.
TWITTER_SENTIMENT_IDS: dict[int, int] = {
    0: SENTIMENT_LABELS.index("negative"),
    1: SENTIMENT_LABELS.index("positive"),
    2: SENTIMENT_LABELS.index("neutral"),
}

# Label names accepted in CSV files, lower-cased; market slang maps onto the three classes.
SENTIMENT_NAMES: dict[str, int] = {name: i for i, name in enumerate(SENTIMENT_LABELS)} | {
    "bearish": SENTIMENT_LABELS.index("negative"),
    "bullish": SENTIMENT_LABELS.index("positive"),
}
TOPIC_NAMES: dict[str, int] = {name.lower(): i for i, name in enumerate(TOPIC_LABELS)}


def _integer_label(path: Path, line: int, raw: str, valid: range) -> int:
    try:
        value = int(raw.strip())
    except ValueError:
        value = -1
    if value not in valid:
        raise DataFormatError(path, line, f"bad label {raw!r} (expected an integer {valid.start}..{valid.stop - 1})")
    return value


def _text(path: Path, line: int, raw: str) -> str:
    text = raw.strip()
    if not text:
        raise DataFormatError(path, line, "empty text")
    return text


def load_twitter_sentiment(path: Path, source: str = "twitter_sentiment") -> list[Example]:
    """CSV ``text,label`` with 0 bearish, 1 bullish, 2 neutral."""
    examples = []
    for line, row in read_rows(path, ("text", "label")):
        label = _integer_label(path, line, row["label"], range(3))
        examples.append(Example(_text(path, line, row["text"]), source, sentiment=TWITTER_SENTIMENT_IDS[label]))
    return examples


def load_twitter_topic(path: Path, source: str = "twitter_topic") -> list[Example]:
    """CSV ``text,label`` with label 0..19 in TOPIC_LABELS order."""
    examples = []
    for line, row in read_rows(path, ("text", "label")):
        label = _integer_label(path, line, row["label"], range(len(TOPIC_LABELS)))
        examples.append(Example(_text(path, line, row["text"]), source, topic=label))
    return examples


def _sentiment_name(path: Path, line: int, raw: str) -> int:
    name = raw.strip().lower()
    if name not in SENTIMENT_NAMES:
        raise DataFormatError(path, line, f"unknown label {raw!r} (expected one of: {', '.join(SENTIMENT_NAMES)})")
    return SENTIMENT_NAMES[name]


def load_phrasebank(path: Path, source: str = "phrasebank") -> list[Example]:
    """Financial PhraseBank, either the release's ``sentence@label`` text (Latin-1) or a CSV.

    The CSV form has columns ``sentence,label[,all_agree]``; ``all_agree`` is
    kept in ``meta`` so training can weight unanimous sentences, and the
    release's agreement level (file name, e.g. Sentences_AllAgree) likewise.
    """
    with path.open("rb") as handle:
        head = handle.readline()
    if head.lstrip(b"\xef\xbb\xbf").lower().startswith(b"sentence,"):
        examples = []
        for line, row in read_rows(path, ("sentence", "label")):
            meta: dict[str, object] = {}
            if row.get("all_agree") not in (None, ""):
                if row["all_agree"].strip() not in ("0", "1"):
                    raise DataFormatError(path, line, f"bad all_agree {row['all_agree']!r} (expected 0 or 1)")
                meta["all_agree"] = row["all_agree"].strip() == "1"
            sentiment = _sentiment_name(path, line, row["label"])
            examples.append(Example(_text(path, line, row["sentence"]), source, sentiment=sentiment, meta=meta))
        return examples
    examples = []
    all_agree = "allagree" in path.name.lower()
    with path.open(encoding="latin-1") as handle:  # the release is Latin-1, whatever its bytes look like
        for line, raw in enumerate(handle, start=1):
            if not raw.strip():
                continue
            sentence, sep, label = raw.rstrip("\r\n").rpartition("@")
            if not sep:
                raise DataFormatError(path, line, "expected 'sentence@label' (no '@' on the line)")
            meta = {"all_agree": True} if all_agree else {}
            examples.append(Example(_text(path, line, sentence), source, sentiment=_sentiment_name(path, line, label),
                                    meta=meta))
    return examples


def load_labelled_csv(path: Path, task: str | None = None, source: str | None = None) -> list[Example]:
    """CSV ``text,label`` with label names: sentiment names (or bullish/bearish) or topic names.

    `task` ("sentiment" or "topic") says which; without it the label set
    decides, and labels that fit neither vocabulary are an error naming the
    first offending line.
    """
    if task not in (None, "sentiment", "topic"):
        raise ValueError(f"task must be 'sentiment' or 'topic' for csv files, not {task!r}")
    rows = [(line, _text(path, line, row["text"]), row["label"].strip())
            for line, row in read_rows(path, ("text", "label"))]
    if task is None:
        names = {label.lower() for _, _, label in rows}
        task = "sentiment" if names <= SENTIMENT_NAMES.keys() else "topic" if names <= TOPIC_NAMES.keys() else None
        if task is None:
            bad = next((line, label) for line, _, label in rows
                       if label.lower() not in SENTIMENT_NAMES and label.lower() not in TOPIC_NAMES)
            raise DataFormatError(path, bad[0], f"unknown label {bad[1]!r} (neither a sentiment nor a topic name)")
    vocabulary = SENTIMENT_NAMES if task == "sentiment" else TOPIC_NAMES
    examples = []
    for line, text, label in rows:
        if label.lower() not in vocabulary:
            raise DataFormatError(path, line,
                                  f"unknown {task} label {label!r} (expected one of: {', '.join(vocabulary)})")
        value = vocabulary[label.lower()]
        examples.append(Example(text, source or path.stem, sentiment=value if task == "sentiment" else None,
                                topic=value if task == "topic" else None))
    return examples
