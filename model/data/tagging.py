"""Token-level NER tags -> character spans: the one place tagging schemes are normalised.

CoNLL-2003 uses IOB2 (every entity starts with ``B-``), FIN5 uses IOB1
(``B-`` only separates two adjacent entities of the same type) and FiNER-ORD
uses integer codes. All of them end up as `EntitySpan`s over the tokens joined
with single spaces, so the model never sees a tagging scheme at all.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from model.data.examples import EntitySpan
from model.network.labels import ENTITY_TYPES

TagScheme = Literal["IOB1", "IOB2"]


def parse_tag(tag: str) -> tuple[str, str | None]:
    """Split ``B-ORG`` into ("B", "ORG") and ``O`` into ("O", None); ValueError on anything else."""
    if tag == "O":
        return "O", None
    prefix, sep, entity_type = tag.partition("-")
    if not sep or prefix not in ("B", "I") or entity_type not in ENTITY_TYPES:
        raise ValueError(f"bad tag {tag!r} (expected O or B-/I- followed by one of {', '.join(ENTITY_TYPES)})")
    return prefix, entity_type


def detect_scheme(sentences: Sequence[Sequence[str]]) -> TagScheme:
    """IOB1 when some entity opens with ``I-`` (after ``O`` or another type), else IOB2.

    IOB2 never opens an entity with ``I-``, so one such tag anywhere is proof of IOB1.
    """
    for tags in sentences:
        previous_type: str | None = None
        for tag in tags:
            prefix, entity_type = parse_tag(tag)
            if prefix == "I" and entity_type != previous_type:
                return "IOB1"
            previous_type = entity_type
    return "IOB2"


def tags_to_spans(tokens: Sequence[str], tags: Sequence[str]) -> tuple[str, list[EntitySpan]]:
    """Join tokens with single spaces and turn their tags into character spans.

    One rule reads both schemes: an entity starts at ``B-X``, or at ``I-X`` when
    the previous token was not of type X; it continues over ``I-X``.
    """
    if len(tokens) != len(tags):
        raise ValueError(f"{len(tokens)} tokens but {len(tags)} tags")
    spans: list[EntitySpan] = []
    offsets: list[tuple[int, int]] = []
    position = 0
    for token in tokens:
        offsets.append((position, position + len(token)))
        position += len(token) + 1
    open_type: str | None = None
    open_start = open_end = 0
    for (start, end), tag in zip(offsets, tags):
        prefix, entity_type = parse_tag(tag)
        if open_type is not None and (prefix != "I" or entity_type != open_type):
            spans.append(EntitySpan(open_start, open_end, open_type))
            open_type = None
        if entity_type is None:
            continue
        if open_type is None:
            open_type, open_start = entity_type, start
        open_end = end
    if open_type is not None:
        spans.append(EntitySpan(open_start, open_end, open_type))
    return " ".join(tokens), spans
