"""Complete the company names that the tagger cuts short.

The joint model's entity tagger finds the head of a name far more often than its exact extent: in the
replay corpus "Kraft Heinz" comes out as `Kraft`, "House of Fraser" as `Fraser`, "Danske Bank" as
`Danske`, "Johnson & Johnson" as `Johnson`, "Patisserie Valerie" as `Patisserie`, and "Apple CFO" or
"Fraser rescue" carry a word that is not part of the name. Alert rules count bursts per entity key, so a
cut name splits one company's burst over several keys (or lumps it with another "Johnson"), and the
burst stays below the threshold on each (docs/alerts.md, Backtest).

`complete_name` repairs a span from the text around it, in the way a copy editor reads a sentence-case
headline: a name goes on through the capitalised words that follow it ("Kraft" + "Heinz", "Johnson" +
"& Johnson") and back through a capitalised "X of" before it ("House of" + "Fraser"); it ends before
lower-case words and role words ("CFO", "board"), and it starts at its first capitalised word
("lender Wonga" is `Wonga`). In a headline written in title case every word is
capitalised, so nothing is extended there (only trimmed), and a span made only of words that running text
writes in lower case ("Lowers", "Price Target": the version's table, model/data/casing.py) is no name there.
Short parts around a bare '&' are one name in
any case ("PG&E", "AT&T", "J&J"), and a span with no capital letter ("plunge", "on") is no name. The
rules are deliberately few; they are measured with `finsent alerts backtest` and unit tests in
tests/unit/test_spans.py.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from model.data.casing import is_title_case, only_lower_case_words, word_key

# Words that follow or precede a company name without being part of it (compared lower case).
ROLE_WORDS = frozenset({
    "ceo", "cfo", "coo", "cto", "chief", "chairman", "chairwoman", "chair", "boss", "founder", "president",
    "board", "directors", "shareholders", "investors", "shares", "share", "stock", "stocks", "bonds",
    "executive", "executives", "head", "owner", "owners", "staff", "workers", "unit", "units",
})
# Capitalised words that end a name rather than continue it ("China June exports", "Apple Monday");
# "May" is left out: it ends "Theresa May".
CALENDAR_WORDS = frozenset({
    "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday", "january", "february",
    "march", "april", "june", "july", "august", "september", "october", "november", "december",
})
_NOT_NAME_WORDS = ROLE_WORDS | CALENDAR_WORDS
_TITLE_WORD = re.compile(r"[A-Z][a-z][\w'\u2019.-]*")  # "Heinz", "Valerie's"; not "SEC", "Q3", "eBay"
_JOINER = re.compile(r"(\s+&\s+|\s+|-)")  # what may sit between two words of one name
_OF_BEFORE = re.compile(r"((?:[A-Z][a-z][\w'\u2019-]*\s+)+)of\s+$")  # "House of " right before the span
_WORD = re.compile(r"\S+")
_NAME_PART = re.compile(r"[^\s\-\u2013]+")  # the parts of "US-China" that the tagger tags one by one
_MAX_EXTRA_WORDS = 3
# Tagger types of places and nationalities ("China", "U . S", "German"): not who a story is about.
PLACE_TYPES = frozenset({"LOC", "MISC"})


def _is_name_word(word: str) -> bool:
    return bool(_TITLE_WORD.fullmatch(word)) and word_key(word) not in _NOT_NAME_WORDS


def _extend_right(text: str, end: int) -> int:
    for _ in range(_MAX_EXTRA_WORDS):
        joiner = _JOINER.match(text, end)
        if joiner is None:
            break
        word = _WORD.match(text, joiner.end())
        if word is None:
            break
        token = word.group().rstrip(",;:!?)\"")
        if not _is_name_word(token):
            break
        end = word.start() + len(token)
    return end


def _extend_left(text: str, start: int) -> int:
    before = _OF_BEFORE.search(text[max(0, start - 80):start])
    if before is None:
        return start
    words = before.group(1).split()
    if any(w.lower() in ROLE_WORDS for w in words):
        return start
    return start - len(before.group(0))


def _trim_right(text: str, start: int, end: int) -> int:
    """Drop trailing words with no capital letter ("Fraser rescue") and role words ("Apple CFO")."""
    while True:
        span = text[start:end]
        cut = span.rstrip().rfind(" ")
        if cut <= 0:
            return end
        last = span[cut + 1:].strip()
        lower_case = not any(c.isupper() for c in last) and last not in ("&", "of", "and")
        if not (lower_case or last.lower() in _NOT_NAME_WORDS):
            return end
        end = start + cut


def _trim_left(text: str, start: int, end: int) -> int:
    """Drop leading words with no capital letter ("lender Wonga", "sues Tesla", the "s" of "Musk's Tesla").

    A name never starts with an all-lower-case word ("eBay" and "iRobot" keep theirs: they hold a
    capital), nor with punctuation (", Ford"); the tagger often takes the word before a name with it.
    """
    while True:
        span = text[start:end]
        word = _WORD.match(span)
        if word is None or word.end() >= len(span.rstrip()):
            return start
        lead = word.group()
        if any(c.isupper() for c in lead) and any(c.isalnum() for c in lead):
            return start
        rest = _WORD.search(span, word.end())
        assert rest is not None  # a non-space follows the word: word.end() < len(span.rstrip())
        start += rest.start()


_AMPERSAND_RIGHT = re.compile(r"&[A-Z][A-Za-z]{0,3}\b")  # the "&E" of "PG&E"
_AMPERSAND_LEFT = re.compile(r"\b[A-Z][A-Za-z]{0,3}&$")  # the "PG&" before a tagged "E"


def _join_ampersand(text: str, start: int, end: int) -> tuple[int, int]:
    """Names written with a bare '&' ("PG&E", "AT&T", "J&J", "S&P"), which the tagger cuts at the '&'.

    Whatever the case of the headline: the parts are one token to a reader, and short capitalised parts
    on both sides of a bare '&' are one name ("PG" and "E" would be two keys, and `e` names nothing).
    """
    right = _AMPERSAND_RIGHT.match(text, end - 1 if text[end - 1] == "&" else end)
    if right is not None:
        end = right.end()
    if start > 0 and text[start - 1] == "&" and (left := _AMPERSAND_LEFT.search(text, max(0, start - 5), start)):
        start = left.start()
    return start, end


def complete_name(text: str, start: int, end: int) -> tuple[int, int]:
    """The [start, end) of the whole name around a tagged span (see the module docstring); never empty."""
    if not 0 <= start < end <= len(text):
        return start, end
    trimmed = _trim_right(text, start, end)
    end = trimmed if trimmed > start else end
    start = _trim_left(text, start, end)
    start, end = _join_ampersand(text, start, end)
    if is_title_case(text):
        return start, end
    return _extend_left(text, start), _extend_right(text, end)


def complete_names(text: str, spans: Sequence[tuple[int, int]],
                   lower_case_words: frozenset[str] = frozenset()) -> list[tuple[int, int] | None]:
    """`complete_name` for each span of one text, None for a span inside another's completed name.

    "Johnson & Johnson" is often tagged as two spans `Johnson`; completed, the first covers the second,
    which must not count the story a second time under the key `johnson`. A span without a capital letter
    in a text that has them ("plunge", "on" and "bankruptcy" in "PG&E shares and bonds plunge on
    bankruptcy worries") names nothing and is dropped too; in a text written all in lower case, the
    tagger's spans are kept. In a title-case text, where every word has a capital, a span made only of
    `lower_case_words` (model/data/casing.py: "Lowers", "Price Target") is dropped in the same way.
    """
    completed = [complete_name(text, start, end) for start, end in spans]
    cased = any(c.isupper() for c in text)
    title_case = bool(lower_case_words) and is_title_case(text)
    result: list[tuple[int, int] | None] = []
    for index, (start, end) in enumerate(completed):
        covered = any(other != index and o_start <= start and end <= o_end and (o_end - o_start) > (end - start)
                      for other, (o_start, o_end) in enumerate(completed))
        duplicate = (start, end) in completed[:index]
        uncapitalised = cased and not any(c.isupper() for c in text[start:end])
        common_words = title_case and only_lower_case_words(text[start:end], lower_case_words)
        result.append(None if covered or duplicate or uncapitalised or common_words else (start, end))
    return result


def complete_tagged(text: str, tagged: Sequence[tuple[int, int, str]],
                    lower_case_words: frozenset[str] = frozenset()) -> list[tuple[int, int, str] | None]:
    """`complete_names` for the tagger's (start, end, type) spans, each with the type of its completed name.

    Why: the tagger types the first word of many company names as a place or a nationality ("British" of
    "British Steel", "U.S." of "U.S. Steel"); once the name is completed, a name that runs on past the
    place words the tagger found is a name of its own, typed ORG. A name made only of tagged place words
    ("Hong Kong", "South" + "Africa", "US" + "China" of "US-China") keeps its place type. A place the tagger
    found only in part ("South" of "South Korea") becomes ORG too: nothing in the headline tells it from
    "British Steel".
    """
    completed = complete_names(text, [(start, end) for start, end, _ in tagged], lower_case_words)
    places = [(start, end) for start, end, entity_type in tagged if entity_type in PLACE_TYPES]
    result: list[tuple[int, int, str] | None] = []
    for (_, _, entity_type), span in zip(tagged, completed, strict=True):
        if span is None:
            result.append(None)
            continue
        start, end = span
        if entity_type in PLACE_TYPES:
            words = (m for m in _NAME_PART.finditer(text, start, end) if any(c.isalnum() for c in m.group()))
            if any(not any(s <= w.start() and w.end() <= e for s, e in places) for w in words):
                entity_type = "ORG"
        result.append((start, end, entity_type))
    return result
