"""Token features computed from the original text: word shapes and BIO alignment.

The encoder is uncased, so "Apple" and "apple" reach it as the same word
piece; casing is the strongest single cue for named entities in news text.
These functions recover it from the fast tokenizer's character offsets and
turn it into small integer ids that `model.network.modeling` embeds. They also turn
the character spans of `model.data.examples.EntitySpan` into BIO tag ids over
word pieces (first sub-token labelled, the others ignored with -100).

Pure functions over Python lists: unit-tested directly in
tests/unit/test_model_features.py.
"""

from __future__ import annotations

from collections.abc import Sequence

from model.network.labels import NER_TAGS

IGNORE_INDEX = -100  # torch.nn.CrossEntropyLoss's default ignore_index

# Word shapes. Every sub-token of a word carries the word's shape; a word that
# starts a sentence gets the shape + len(WORD_SHAPES) so "Shares" (sentence
# start, capitalised by grammar) differs from "Shell" (mid-sentence, a name).
SPECIAL_SHAPES: tuple[str, ...] = ("pad", "special")
WORD_SHAPES: tuple[str, ...] = ("x", "Xx", "XX", "d", "punct", "mixed")
N_SHAPES = len(SPECIAL_SHAPES) + 2 * len(WORD_SHAPES)
PAD_SHAPE = 0
SPECIAL_SHAPE = 1

_SENTENCE_END = {".", "!", "?", ":", ";"}
_TAG_ID = {tag: i for i, tag in enumerate(NER_TAGS)}


def word_shape(word: str) -> str:
    """The casing/character class of one word, one of WORD_SHAPES."""
    letters = [c for c in word if c.isalpha()]
    if not letters:
        if any(c.isdigit() for c in word):
            return "d"
        return "punct"
    if any(c.isdigit() for c in word):
        return "mixed"
    if all(c.islower() for c in letters):
        return "x"
    if all(c.isupper() for c in letters):
        return "XX" if len(letters) > 1 else "Xx"
    if letters[0].isupper() and all(c.islower() for c in letters[1:]):
        return "Xx"
    return "mixed"  # iPhone, McDonald, eBay


def word_char_spans(offsets: Sequence[tuple[int, int]], word_ids: Sequence[int | None]) -> dict[int, tuple[int, int]]:
    """Character span of every word, the union of its sub-tokens' offsets."""
    spans: dict[int, tuple[int, int]] = {}
    for (start, end), word in zip(offsets, word_ids):
        if word is None:
            continue
        if word in spans:
            spans[word] = (min(spans[word][0], start), max(spans[word][1], end))
        else:
            spans[word] = (start, end)
    return spans


def shape_ids(text: str, offsets: Sequence[tuple[int, int]], word_ids: Sequence[int | None]) -> list[int]:
    """One shape id per token (special tokens get SPECIAL_SHAPE)."""
    spans = word_char_spans(offsets, word_ids)
    word_shape_id: dict[int, int] = {}
    previous_word = ""
    for word in sorted(spans):
        start, end = spans[word]
        token_text = text[start:end]
        shape = len(SPECIAL_SHAPES) + WORD_SHAPES.index(word_shape(token_text))
        sentence_start = not previous_word or previous_word in _SENTENCE_END
        word_shape_id[word] = shape + (len(WORD_SHAPES) if sentence_start else 0)
        previous_word = token_text
    return [SPECIAL_SHAPE if word is None else word_shape_id[word] for word in word_ids]


def first_subtoken_mask(word_ids: Sequence[int | None]) -> list[bool]:
    """True at the first word piece of every word: the positions NER labels and decodes."""
    mask, previous = [], None
    for word in word_ids:
        mask.append(word is not None and word != previous)
        previous = word
    return mask


def bio_tag_ids(
    offsets: Sequence[tuple[int, int]],
    word_ids: Sequence[int | None],
    spans: Sequence[tuple[int, int, str]],
) -> list[int]:
    """BIO tag ids over tokens from character spans (start, end, entity_type).

    A word belongs to a span when their character ranges overlap, so a span that
    starts inside a word ("$AAPL" tagged as "AAPL") still labels that word.
    Only the first sub-token of a word is labelled; the others and the special
    tokens get IGNORE_INDEX so the loss skips them.
    """
    word_spans = word_char_spans(offsets, word_ids)
    word_tag: dict[int, int] = {}
    for span_start, span_end, entity_type in sorted(spans):
        inside = [w for w, (s, e) in sorted(word_spans.items()) if s < span_end and e > span_start]
        for position, word in enumerate(inside):
            if word in word_tag:  # overlapping spans: the first one wins
                continue
            prefix = "B" if position == 0 else "I"
            word_tag[word] = _TAG_ID[f"{prefix}-{entity_type}"]
    first = first_subtoken_mask(word_ids)
    return [word_tag.get(word, 0) if is_first else IGNORE_INDEX  # type: ignore[arg-type]
            for word, is_first in zip(word_ids, first)]


def token_span(offsets: Sequence[tuple[int, int]], word_ids: Sequence[int | None],
               start: int, end: int) -> tuple[int, int] | None:
    """Token index range [first, last+1) covering characters [start, end), or None if truncated away."""
    tokens = [i for i, ((s, e), w) in enumerate(zip(offsets, word_ids))
              if w is not None and s < end and e > start]
    if not tokens:
        return None
    return tokens[0], tokens[-1] + 1


def bio_spans(tags: Sequence[str]) -> list[tuple[int, int, str]]:
    """Entity spans (first, last+1, type) over a tag sequence; a stray I- opens a span (IOB1 reading)."""
    spans: list[tuple[int, int, str]] = []
    start, current = None, None
    for i, tag in enumerate(list(tags) + ["O"]):
        prefix, _, entity_type = tag.partition("-")
        if current is not None and (prefix != "I" or entity_type != current):
            spans.append((start, i, current))  # type: ignore[arg-type]
            start, current = None, None
        if prefix == "B" or (prefix == "I" and current is None):
            start, current = i, entity_type
    return spans
