"""Loader for SEntFiN 1.0: headlines with entity-level (targeted) sentiment.

Each row is ``S No.,Title,Decisions,Words`` where Decisions is a Python dict
literal ``{'entity': 'positive'|'negative'|'neutral', ...}``. A dozen rows in
the release have unescaped apostrophes (``{'Moody's': 'neutral'}``), which
``ast.literal_eval`` rejects; a tolerant pattern reads those.

Entities are located in the title (case-insensitive, whole words); an entity
that cannot be found is skipped and counted (``meta["unlocated"]``; the release has a few
mangled names such as "Avantha neutralings" for "Avantha Holdings"), and a
headline none of whose entities can be found is dropped. SEntFiN's entities
are not exhaustive, so these examples carry no NER labels (``entities=None``).
"""

from __future__ import annotations

import ast
import logging
import re
from pathlib import Path

from model.data.csv_rows import read_rows
from model.data.errors import DataFormatError
from model.data.examples import EntitySentiment, Example
from model.network.labels import SENTIMENT_LABELS

log = logging.getLogger(__name__)

# One "'key': 'sentiment'" pair; the key may itself contain apostrophes, so it
# runs lazily up to the quote that is followed by ": '<sentiment>'".
_PAIR = re.compile(
    r"""(?:^\{|,)\s*(?P<quote>['"])(?P<entity>.+?)(?P=quote)\s*:\s*['"](?P<sentiment>\w+)['"]\s*(?=,|\}$)"""
)


def parse_decisions(raw: str) -> dict[str, str]:
    """Read a Decisions cell into {entity: sentiment name}; ValueError when it is not a dict of strings."""
    text = raw.strip()
    try:
        value = ast.literal_eval(text)
    except (ValueError, SyntaxError):
        value = None
        if text.startswith("{") and text.endswith("}"):
            pairs = list(_PAIR.finditer(text))
            # Accept the tolerant reading only when the pairs account for the whole cell.
            if pairs and sum(len(m.group(0)) for m in pairs) == len(text) - 1:
                value = {m["entity"]: m["sentiment"] for m in pairs}
    if not isinstance(value, dict) or not value or not all(isinstance(k, str) and isinstance(v, str)
                                                           for k, v in value.items()):
        raise ValueError(f"Decisions is not a dict of entity -> sentiment: {raw!r}")
    return value


def locate(title: str, entity: str, taken: list[tuple[int, int]]) -> tuple[int, int] | None:
    """First case-insensitive, whole-word occurrence of `entity` in `title` not overlapping `taken`.

    A plural or possessive ending without an apostrophe ("Sun Pharmas stocks",
    "HFCs offer") still counts as the entity; the span covers the name only.
    """
    pattern = re.compile(r"(?<!\w)" + re.escape(entity.strip()) + r"(?=(?:'?s)?(?!\w))", re.IGNORECASE)
    for match in pattern.finditer(title):
        if all(match.end() <= start or match.start() >= end for start, end in taken):
            return match.start(), match.end()
    return None


def load_sentfin(path: Path, source: str = "sentfin") -> list[Example]:
    """SEntFiN CSV -> Examples with `entity_sentiments` over the title."""
    examples = []
    unlocated_total = dropped = 0
    for line, row in read_rows(path, ("Title", "Decisions")):
        title = row["Title"].strip()
        if not title:
            raise DataFormatError(path, line, "empty Title")
        try:
            decisions = parse_decisions(row["Decisions"])
        except ValueError as error:
            raise DataFormatError(path, line, str(error)) from None
        taken: list[tuple[int, int]] = []
        spans: list[EntitySentiment] = []
        unlocated: list[str] = []
        # Longest names first, so "Tata Steel UK" claims its words before "Tata Steel" could.
        for entity in sorted(decisions, key=len, reverse=True):
            sentiment = decisions[entity].strip().lower()
            if sentiment not in SENTIMENT_LABELS:
                raise DataFormatError(path, line, f"unknown sentiment {decisions[entity]!r} for entity {entity!r}")
            found = locate(title, entity, taken)
            if found is None:
                unlocated.append(entity)
                continue
            taken.append(found)
            spans.append(EntitySentiment(found[0], found[1], SENTIMENT_LABELS.index(sentiment)))
        unlocated_total += len(unlocated)
        if not spans:
            dropped += 1
            continue
        meta: dict[str, object] = {"line": line}
        if unlocated:
            meta["unlocated"] = unlocated
        examples.append(Example(title, source, entity_sentiments=sorted(spans, key=lambda s: s.start), meta=meta))
    if unlocated_total:
        log.info("%s: %d entities not found in their titles were skipped; %d headlines had none left and were dropped",
                 path, unlocated_total, dropped)
    return examples
