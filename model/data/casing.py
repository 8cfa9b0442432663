"""Which words running text writes in lower case: what a headline in title case hides.

The encoder is uncased, so the tagger reads "Morgan Stanley Maintains Equal-Weight on NVIDIA, Lowers Price
Target" exactly as it reads the lower-case words, and tags `Lowers` or `Price Target` as names now and then.
In a sentence-case headline such a span has no capital letter and `model.network.spans` drops it; in a
title-case headline (Benzinga's style) every word has one, and each stray span becomes an entity key that
alert rules count ("Burst of negative news on lowers").

So a version also records the words that its training texts write in lower case where the case means
something (not at the start of a sentence, not in a text written in title case or capitals): `lowers`,
`price`, `target`, `maintains`, `shares` are; `apple`, `nvidia`, `boeing`, `united` are not. In a
title-case headline a span made only of such words is no name (`complete_names`). A truecasing table of
this kind is the standard way to restore case (Lita et al., "tRuEcasIng", ACL 2003); here only its
"usually lower case" half is needed.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable

# a word of a name or of running text: "Lowers", "Equal-Weight", "Valerie's", "U.S."
_WORD = re.compile(r"[A-Za-z][A-Za-z'\u2019.-]*")
_POSSESSIVE = re.compile(r"['\u2019]s?$")
_SENTENCE_END = frozenset(".:!?\"")
_LONGER_WORD = re.compile(r"\S+")
_TITLE_CASE_SHARE = 0.6  # share of the longer words that are capitalised above which a text is title case

MIN_LOWER_COUNT = 3  # a word seen lower case fewer times is not known well enough to call common
MIN_LOWER_SHARE = 0.75  # "black" (38 lower, 36 capitalised: "Black Friday", "BlackRock") stays a possible name


def is_title_case(text: str) -> bool:
    """Whether most longer words of the text's first sentence are capitalised ("Kraft Heinz Tops Estimates")."""
    words = [w for w in _LONGER_WORD.findall(text.split(". ")[0]) if len(w) > 3 and w[0].isalpha()]
    return bool(words) and sum(w[0].isupper() for w in words) / len(words) >= _TITLE_CASE_SHARE


def word_key(word: str) -> str:
    """The form words are compared in: lower case, no trailing dot or possessive ("Valerie's" -> valerie)."""
    return _POSSESSIVE.sub("", word.lower().rstrip("."))


def text_words(text: str) -> list[str]:
    """The words of `text` in their written case."""
    return [match.group() for match in _WORD.finditer(text)]


def case_marks_names(text: str) -> bool:
    """Whether a text's capitals mark names: it has lower-case letters and is not written in title case."""
    return any(c.islower() for c in text) and not is_title_case(text)


def count_word_cases(text: str, lower: Counter[str], capitalised: Counter[str]) -> None:
    """Add the words of one text, as written, to `lower` or `capitalised` (in `word_key` form): only in a text
    whose case means something, and never a sentence's first word, whose capital says nothing."""
    if not case_marks_names(text):
        return
    for index, match in enumerate(_WORD.finditer(text)):
        before = text[:match.start()].rstrip()
        if index == 0 or (before and before[-1] in _SENTENCE_END):
            continue
        (lower if match.group()[0].islower() else capitalised)[word_key(match.group())] += 1


def mostly_lower_case(word: str, lower: Counter[str], capitalised: Counter[str],
                      min_count: int = MIN_LOWER_COUNT, min_share: float = MIN_LOWER_SHARE) -> bool:
    """Whether `word` was written lower case at least `min_count` times and in `min_share` of its uses."""
    count = lower[word]
    return count >= min_count and count >= min_share * (count + capitalised[word])


def lower_case_words(texts: Iterable[str], min_count: int = MIN_LOWER_COUNT,
                     min_share: float = MIN_LOWER_SHARE) -> frozenset[str]:
    """The words (in `word_key` form) that the texts mostly write in lower case (`mostly_lower_case`), counted
    by `count_word_cases`."""
    lower: Counter[str] = Counter()
    capitalised: Counter[str] = Counter()
    for text in texts:
        count_word_cases(text, lower, capitalised)
    return frozenset(word for word in lower if mostly_lower_case(word, lower, capitalised, min_count, min_share))


def only_lower_case_words(phrase: str, words: frozenset[str]) -> bool:
    """Whether every word of `phrase` is one that running text writes in lower case ("Price Target")."""
    keys = [word_key(word) for word in text_words(phrase)]
    return bool(keys) and all(key in words for key in keys)
