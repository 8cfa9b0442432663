"""Loaders for the NER sets: CoNLL-column files (CoNLL-2003, FIN5) and FiNER-ORD's token CSV.

Sentences become `Example(text=tokens joined by single spaces, entities=[...])`;
the tagging scheme (IOB1 or IOB2) is detected per file and recorded in
``meta["tag_scheme"]``, and both are read by the one rule in `model.data.tagging`.
"""

from __future__ import annotations

from pathlib import Path

from model.data.csv_rows import read_rows
from model.data.errors import DataFormatError
from model.data.examples import Example
from model.data.tagging import detect_scheme, parse_tag, tags_to_spans

# FiNER-ORD's integer gold labels.
FINER_ORD_TAGS: tuple[str, ...] = ("O", "B-PER", "I-PER", "B-LOC", "I-LOC", "B-ORG", "I-ORG")


def _examples(path: Path, source: str, sentences: list[tuple[int, list[str], list[str]]]) -> list[Example]:
    scheme = detect_scheme([tags for _, _, tags in sentences])
    examples = []
    for line, tokens, tags in sentences:
        text, spans = tags_to_spans(tokens, tags)
        examples.append(Example(text, source, entities=spans, meta={"tag_scheme": scheme, "line": line}))
    return examples


def load_conll(path: Path, source: str = "conll") -> list[Example]:
    """CoNLL columns: the token first, the NER tag last, blank lines between sentences.

    ``-DOCSTART-`` lines are skipped. The file may be IOB1 or IOB2.
    """
    sentences: list[tuple[int, list[str], list[str]]] = []
    tokens: list[str] = []
    tags: list[str] = []
    first_line = 0
    try:
        with path.open(encoding="utf-8") as handle:
            for line, raw in enumerate(handle, start=1):
                columns = raw.split()
                if not columns or columns[0] == "-DOCSTART-":
                    if tokens:
                        sentences.append((first_line, tokens, tags))
                        tokens, tags = [], []
                    continue
                if len(columns) < 2:
                    raise DataFormatError(path, line, f"expected 'token ... tag' columns, got {raw.strip()!r}")
                try:
                    parse_tag(columns[-1])
                except ValueError as error:
                    raise DataFormatError(path, line, str(error)) from None
                if not tokens:
                    first_line = line
                tokens.append(columns[0])
                tags.append(columns[-1])
    except UnicodeDecodeError as error:
        raise DataFormatError(path, None, f"not valid UTF-8 text ({error.reason} at byte {error.start})") from None
    if tokens:
        sentences.append((first_line, tokens, tags))
    return _examples(path, source, sentences)


def load_finer_ord(path: Path, source: str = "finer_ord") -> list[Example]:
    """FiNER-ORD: one token a row, ``gold_label,gold_token,doc_idx,sent_idx``, grouped by (doc, sentence).

    Rows of one sentence are contiguous in the release; a sentence that
    reappears later is an error, because silently merging it would scramble
    its token order.
    """
    sentences: dict[tuple[str, str], tuple[int, list[str], list[str]]] = {}
    current: tuple[str, str] | None = None
    for line, row in read_rows(path, ("gold_label", "gold_token", "doc_idx", "sent_idx")):
        key = (row["doc_idx"].strip(), row["sent_idx"].strip())
        if not all(part.isdigit() for part in key):
            raise DataFormatError(path, line, f"bad doc_idx/sent_idx {key!r} (expected integers)")
        raw_label = row["gold_label"].strip()
        if not raw_label.isdigit() or int(raw_label) >= len(FINER_ORD_TAGS):
            raise DataFormatError(path, line, f"bad gold_label {raw_label!r} (expected 0..{len(FINER_ORD_TAGS) - 1})")
        token = row["gold_token"].strip()
        if not token:
            raise DataFormatError(path, line, "empty gold_token")
        if key != current:
            if key in sentences:
                raise DataFormatError(path, line,
                                      f"sentence doc_idx={key[0]} sent_idx={key[1]} resumes after other rows")
            sentences[key] = (line, [], [])
            current = key
        sentences[key][1].append(token)
        sentences[key][2].append(FINER_ORD_TAGS[int(raw_label)])
    examples = _examples(path, source, list(sentences.values()))
    for example, (doc, sentence) in zip(examples, sentences):
        example.meta["doc"] = int(doc)
        example.meta["sentence"] = int(sentence)
    return examples
