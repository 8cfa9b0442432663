"""Teacher -> student distillation: soft labels from a trained version, and the loss that learns from them.

    finsent models soft-labels --teacher VERSION            # runs/soft-labels/VERSION/, resumable chunks
    finsent train --profile full --distil-from VERSION      # MiniLM student on gold + the teacher's soft labels

Why: every dataset labels only some tasks, and the 70k stream headlines label
none. A larger teacher (mpnet-base) gives every text a full set of soft labels:
topic and sentiment distributions, a tag distribution per word, and sentiment
toward each entity. The student (MiniLM, the size CPU hosts serve) then learns
from the teacher's whole distribution, not only from the datasets' hard labels
(Hinton et al. 2015).

Soft labels are teacher *logits* (so any temperature can be chosen at training
time), stored per text in gzip'd JSONL chunks under one folder with a
manifest. The words and entities are character spans of the text, so a student
with another tokenizer aligns them to its own word pieces. Each chunk is written
atomically; a stopped run resumes at the first missing chunk.

The loss, per task: T^2 * KL(softmax(teacher/T) || softmax(student/T)), a mean
over the positions that have a soft label (missing tasks are masked), mixed with
the gold loss as (1 - alpha) * gold + alpha * soft.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import logging
import math
import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from model.data.examples import Example
from model.data.splits import normalise_text
from model.network.collate import Batch, EncodedText, Labels, collate, encode_example, encode_text, length_buckets
from model.network.features import IGNORE_INDEX, bio_spans, first_subtoken_mask, token_span, word_char_spans
from model.network.labels import NER_TAGS
from model.network.modeling import JointModel, JointOutput
from model.network.tasks import TASKS

log = logging.getLogger(__name__)

FORMAT = 1
MANIFEST = "manifest.json"
STREAM_FILE = Path("stream") / "financial_headlines_stream.csv"
DISTIL_TASKS: tuple[str, ...] = tuple(task.name for task in TASKS if task.distil)
UNLABELLED_SOURCE = "stream"  # the dataset name the stream headlines train under


# --- the loss ----------------------------------------------------------------------------------------

def distillation_loss(student_logits: Tensor, teacher_logits: Tensor, mask: Tensor,
                      temperature: float) -> Tensor | None:
    """T^2 * KL(softmax(teacher/T) || softmax(student/T)), mean over positions where `mask` is True; None if none.

    student_logits, teacher_logits: (..., C); mask: (...) bool. The T^2 factor
    keeps the gradient's size independent of T, so alpha means the same at any T.
    """
    if temperature <= 0:
        raise ValueError(f"distillation temperature must be > 0, got {temperature}")
    if not bool(mask.any()):
        return None
    student = F.log_softmax(student_logits[mask].float() / temperature, dim=-1)  # (N, C)
    teacher = F.log_softmax(teacher_logits[mask].float() / temperature, dim=-1)  # (N, C)
    kl = F.kl_div(student, teacher, log_target=True, reduction="none").sum(-1)  # (N,)
    return kl.mean() * temperature ** 2


def mix_losses(gold: Tensor | None, soft: dict[str, Tensor], alpha: float) -> Tensor | None:
    """(1 - alpha) * gold + alpha * sum of the soft task losses; a batch without gold labels (stream
    headlines) learns from the soft part alone, at the same alpha scale."""
    if not 0.0 <= alpha <= 1.0:
        raise ValueError(f"distillation alpha must be in [0, 1], got {alpha}")
    soft_total = cast(Tensor, sum(soft.values())) if soft else None  # 0 + the first loss: a Tensor
    if gold is None:
        return alpha * soft_total if soft_total is not None else None
    return gold if soft_total is None else (1.0 - alpha) * gold + alpha * soft_total


@dataclass
class SoftTargets:
    """Teacher logits aligned to a student batch; masks are False where a text or position has none."""

    topic: Tensor  # (B, n_topics)
    topic_mask: Tensor  # (B,) bool
    sentiment: Tensor  # (B, 3), the teacher's shared (source-free) view
    sentiment_mask: Tensor  # (B,) bool
    ner: Tensor  # (B, T, n_tags), at the student's first sub-tokens
    ner_mask: Tensor  # (B, T) bool
    entity_sentiment: Tensor  # (B, E, 3), per entity slot of the batch
    entity_sentiment_mask: Tensor  # (B, E) bool

    def to(self, device: torch.device | str) -> SoftTargets:
        return SoftTargets(**{name: value.to(device) for name, value in vars(self).items()})


def soft_losses(model: JointModel, output: JointOutput, batch: Batch, soft: SoftTargets,
                temperature: float) -> dict[str, Tensor]:
    """Per-task distillation losses of one batch (only tasks with at least one soft label).

    Sentiment is compared on the student's shared row (its logits minus the
    batch's per-source offset): the teacher's soft sentiment is the shared view
    too, and the offsets stay free to learn each dataset's gold-label prior.
    """
    shared_sentiment = output.sentiment_logits - model.sentiment_head.source_offset(batch.source_ids)
    candidates = {
        "topic": distillation_loss(output.topic_logits, soft.topic, soft.topic_mask, temperature),
        "sentiment": distillation_loss(shared_sentiment, soft.sentiment, soft.sentiment_mask, temperature),
        "ner": distillation_loss(output.ner_logits, soft.ner, soft.ner_mask, temperature),
        "entity_sentiment": distillation_loss(output.entity_sentiment_logits, soft.entity_sentiment,
                                              soft.entity_sentiment_mask, temperature),
    }
    return {task: loss for task, loss in candidates.items() if loss is not None}


# --- soft labels on disk -------------------------------------------------------------------------------

@dataclass
class SoftLabel:
    """The teacher's view of one text (logits; spans are characters of the text)."""

    topic: np.ndarray  # (n_topics,) float16
    sentiment: np.ndarray  # (3,) float16
    word_starts: dict[int, int]  # character start of a word -> row of `ner`
    ner: np.ndarray  # (n_words, n_tags) float16
    entities: list[tuple[int, int]]  # character spans the entity sentiment is about
    entity_sentiment: np.ndarray  # (n_entities, 3) float16


def _texts_digest(texts: Sequence[str]) -> str:
    digest = hashlib.sha256()
    for text in texts:
        digest.update(text.encode("utf-8") + b"\0")
    return digest.hexdigest()


def _chunk_path(folder: Path, index: int) -> Path:
    return folder / f"chunk-{index:05d}.jsonl.gz"


def _rounded(values: Tensor) -> list:
    return np.round(values.detach().float().cpu().numpy(), 3).tolist()


@torch.inference_mode()
def teacher_records(model: JointModel, tokenizer, examples: list[Example], device: torch.device,  # noqa: ANN001
                    batch_size: int = 64) -> list[dict[str, Any]]:
    """One JSON-ready record per example: topic/sentiment logits, per-word tag logits, entity sentiment logits.

    Entity sentiment is given for the example's gold entity spans where it has
    some (SEntFiN), else for the entities the teacher's own tagger decodes.
    """
    model.eval()
    pad_id = tokenizer.pad_token_id or 0
    records: list[dict[str, Any] | None] = [None] * len(examples)
    encoded = [encode_text(tokenizer, ex.text, model.config.max_length) for ex in examples]
    for indices in length_buckets([len(e.input_ids) for e in encoded], batch_size):
        items = [encoded[i] for i in indices]
        batch, _ = collate(items, pad_id=pad_id)
        with torch.autocast("cuda", dtype=torch.bfloat16, enabled=device.type == "cuda"):
            output = model(batch.to(device))  # source_ids are 0: the shared sentiment view, as served
        entity_lists = []
        for row, i in enumerate(indices):
            item, example = items[row], examples[i]
            positions = [p for p, first in enumerate(first_subtoken_mask(item.word_ids)) if first]
            gold = [(t.start, t.end) for t in example.entity_sentiments or []]
            entity_lists.append(gold or _decoded_entities(model, output.ner_logits[row, positions], item, positions))
        # entity sentiment needs the spans as token masks: one more pass of the small head, not the encoder
        n_slots = max([len(spans) for spans in entity_lists] + [1])
        entity_token_mask = torch.zeros((len(items), n_slots, output.sequence_output.shape[1]), device=device)
        kept: list[list[tuple[int, int]]] = []
        for row, spans in enumerate(entity_lists):
            kept.append([])
            for start, end in spans:
                span = token_span(items[row].offsets, items[row].word_ids, start, end)
                if span is not None:
                    entity_token_mask[row, len(kept[row]), span[0]:span[1]] = 1.0
                    kept[row].append((start, end))
        entity_logits = model.entity_sentiment_head(output.sequence_output, output.pooled, entity_token_mask)
        for row, i in enumerate(indices):
            item = items[row]
            words = word_char_spans(item.offsets, item.word_ids)
            positions = [p for p, first in enumerate(first_subtoken_mask(item.word_ids)) if first]
            records[i] = {
                "text": examples[i].text,
                "topic": _rounded(output.topic_logits[row]),
                "sentiment": _rounded(output.sentiment_logits[row]),
                # a first word piece always has a word id (first_subtoken_mask)
                "word_starts": [words[word][0] for p in positions if (word := item.word_ids[p]) is not None],
                "ner": _rounded(output.ner_logits[row, positions]),
                "entities": [list(span) for span in kept[row]],
                "entity_sentiment": _rounded(entity_logits[row, :len(kept[row])]),
            }
    return records  # type: ignore[return-value]


def _decoded_entities(model: JointModel, logits: Tensor, item: EncodedText,
                      positions: list[int]) -> list[tuple[int, int]]:
    """Character spans of the entities the teacher's constrained Viterbi finds."""
    tags = [NER_TAGS[t] for t in model.entity_tagger.decode(logits.float().cpu())]
    spans = []
    for first, last, _ in bio_spans(tags):
        last_word = item.word_ids[positions[last - 1]]
        end_token = max(i for i, w in enumerate(item.word_ids) if w == last_word)
        spans.append((item.offsets[positions[first]][0], item.offsets[end_token][1]))
    return spans


def write_soft_labels(model: JointModel, tokenizer, examples: list[Example], folder: Path,  # noqa: ANN001
                      teacher: str, device: torch.device | str = "cpu", chunk_size: int = 1024,
                      batch_size: int = 64, progress: bool = True) -> Path:
    """Write the teacher's soft labels of `examples` into `folder` in chunks; skip chunks already written.

    The manifest pins the teacher and the exact input texts: resuming with
    other inputs is refused rather than mixing two label sets.
    """
    from tqdm.auto import tqdm

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    device = torch.device(device)
    texts = [example.text for example in examples]
    manifest = {"format": FORMAT, "teacher": teacher, "encoder": model.config.encoder, "n_texts": len(texts),
                "chunk_size": chunk_size, "texts_sha256": _texts_digest(texts), "tags": list(NER_TAGS)}
    manifest_path = folder / MANIFEST
    if manifest_path.is_file():
        existing = json.loads(manifest_path.read_text(encoding="utf-8"))
        if existing != manifest:
            diff = sorted(k for k in manifest if existing.get(k) != manifest[k])
            raise ValueError(f"{folder} holds soft labels of other inputs (differs in {', '.join(diff)}); "
                             "delete the folder or write to another one")
    else:
        manifest_path.write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    n_chunks = math.ceil(len(texts) / chunk_size)
    done = sum(_chunk_path(folder, i).is_file() for i in range(n_chunks))
    model.to(device)
    with tqdm(total=len(texts), initial=min(len(texts), done * chunk_size), desc=f"soft labels[{teacher}]",
              unit="text", disable=not progress) as bar:
        for index in range(n_chunks):
            path = _chunk_path(folder, index)
            if path.is_file():
                continue
            chunk = examples[index * chunk_size:(index + 1) * chunk_size]
            records = teacher_records(model, tokenizer, chunk, device, batch_size)
            tmp = path.with_name(f".{path.name}.tmp")
            with gzip.open(tmp, "wt", encoding="utf-8") as handle:
                for record in records:
                    handle.write(json.dumps(record, separators=(",", ":")) + "\n")
            tmp.replace(path)
            bar.update(len(chunk))
    return folder


def soft_labels_complete(folder: Path) -> bool:
    """Whether `folder` has a manifest and every chunk it announces."""
    manifest_path = Path(folder) / MANIFEST
    if not manifest_path.is_file():
        return False
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    n_chunks = math.ceil(manifest["n_texts"] / manifest["chunk_size"])
    return all(_chunk_path(Path(folder), i).is_file() for i in range(n_chunks))


def read_soft_labels(folder: Path) -> dict[str, SoftLabel]:
    """text -> SoftLabel of a complete folder (float16 arrays: ~60 MB for 130k texts)."""
    folder = Path(folder)
    if not soft_labels_complete(folder):
        raise ValueError(f"{folder}: no complete soft labels (manifest.json and every chunk); "
                         "write them with `finsent models soft-labels --teacher VERSION`")
    manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    if manifest.get("format") != FORMAT or manifest.get("tags") != list(NER_TAGS):
        raise ValueError(f"{folder}: soft labels of format {manifest.get('format')} / tags {manifest.get('tags')}; "
                         f"this code reads format {FORMAT} with tags {list(NER_TAGS)}")
    labels: dict[str, SoftLabel] = {}
    for index in range(math.ceil(manifest["n_texts"] / manifest["chunk_size"])):
        with gzip.open(_chunk_path(folder, index), "rt", encoding="utf-8") as handle:
            for line in handle:
                record = json.loads(line)
                labels[record["text"]] = SoftLabel(
                    topic=np.asarray(record["topic"], dtype=np.float16),
                    sentiment=np.asarray(record["sentiment"], dtype=np.float16),
                    word_starts={start: row for row, start in enumerate(record["word_starts"])},
                    ner=np.asarray(record["ner"], dtype=np.float16).reshape(-1, len(NER_TAGS)),
                    entities=[(int(s), int(e)) for s, e in record["entities"]],
                    entity_sentiment=np.asarray(record["entity_sentiment"], dtype=np.float16).reshape(-1, 3),
                )
    return labels


# --- what the teacher labels ---------------------------------------------------------------------------

def read_stream_headlines(data_dir: Path, limit: int | None = None) -> list[str]:
    """Headlines of the stream corpus (<data_dir>/stream/financial_headlines_stream.csv), spread evenly if limited."""
    import csv

    path = Path(data_dir) / STREAM_FILE
    if not path.is_file():
        raise FileNotFoundError(f"{path}: stream corpus missing; set FINSENT_DATA_DIR or run `finsent data fetch`")
    with path.open(encoding="utf-8", newline="") as handle:
        headlines = [row["headline"] for row in csv.DictReader(handle) if row.get("headline")]
    if limit is not None and limit < len(headlines):
        step = max(1, len(headlines) // limit)
        headlines = headlines[::step][:limit]
    return headlines


def distillation_examples(corpus: dict, data_dir: Path | None, train_limit: int | None = None,
                          stream_limit: int | None = None, seed: int = 13) -> list[Example]:
    """The texts a teacher labels: every dataset's train side, then the stream headlines; unique texts, and
    none whose normalised form is in a dev split (dev texts stay unseen by the student, gold or soft)."""
    dev_texts = {normalise_text(ex.text) for split in corpus.values() for ex in split.dev}
    seen: set[str] = set()
    chosen: list[Example] = []

    def add(example: Example) -> None:
        if example.text not in seen and normalise_text(example.text) not in dev_texts:
            seen.add(example.text)
            chosen.append(example)

    for name in sorted(corpus):
        train = corpus[name].train
        if train_limit is not None and len(train) > train_limit:
            train = random.Random(seed).sample(train, train_limit)
        for example in train:
            add(example)
    if data_dir is not None and stream_limit != 0:
        for text in read_stream_headlines(Path(data_dir), stream_limit):
            add(Example(text, UNLABELLED_SOURCE))
    return chosen


def resolve_soft_labels(spec: str, runs_dir: Path) -> tuple[Path, str | None]:
    """`--distil-from` -> (soft-label folder, teacher version to run if the folder is incomplete).

    An existing folder is used as it is; anything else is a registry version whose
    labels live in <runs_dir>/soft-labels/<version>/.
    """
    path = Path(spec)
    if (path / MANIFEST).is_file():
        return path, None
    return Path(runs_dir) / "soft-labels" / spec, spec


def load_soft_labels(spec: str, runs_dir: Path, n_topics: int) -> dict[str, SoftLabel]:
    """The soft labels `--distil-from` names, checked against the student's topic count."""
    folder, teacher = resolve_soft_labels(spec, runs_dir)
    if not soft_labels_complete(folder):
        hint = (f"`finsent models soft-labels --teacher {teacher}` writes them (resumable)" if teacher
                else "pass a folder written by `finsent models soft-labels`")
        raise ValueError(f"distil_from={spec!r}: no complete soft labels in {folder}; {hint}")
    labels = read_soft_labels(folder)
    widths = {label.topic.shape[-1] for label in labels.values()}
    if widths - {n_topics}:
        raise ValueError(f"{folder}: the teacher has {sorted(widths)} topics, the student {n_topics}")
    log.info("distilling from %s: %d texts with soft labels", folder, len(labels))
    return labels


def ensure_soft_labels(registry_dir: Path, teacher: str, corpus: dict, data_dir: Path | None, folder: Path,
                       device: torch.device | str = "cpu", train_limit: int | None = None,
                       stream_limit: int | None = None, batch_size: int = 64, seed: int = 13,
                       progress: bool = True) -> Path:
    """Run registry version `teacher` over the training texts and stream headlines into `folder` (resumable)."""
    from model.serving.registry import load_model

    model, tokenizer = load_model(Path(registry_dir), teacher)
    examples = distillation_examples(corpus, data_dir, train_limit, stream_limit, seed)
    return write_soft_labels(model, tokenizer, examples, folder, teacher, device=device, batch_size=batch_size,
                             progress=progress)


# --- the student's batches -----------------------------------------------------------------------------

def align_soft_targets(items: Sequence[EncodedText], soft: Sequence[SoftLabel | None],
                       entity_rows: Sequence[Sequence[int | None]], entity_slots: int, length: int,
                       n_topics: int) -> SoftTargets:
    """Teacher logits placed on a collated student batch: words matched by character start, entity slots
    through `entity_rows` (slot -> teacher entity row, from `encode_for_distillation`)."""
    b, n_tags = len(items), len(NER_TAGS)
    targets = SoftTargets(
        topic=torch.zeros((b, n_topics)), topic_mask=torch.zeros(b, dtype=torch.bool),
        sentiment=torch.zeros((b, 3)), sentiment_mask=torch.zeros(b, dtype=torch.bool),
        ner=torch.zeros((b, length, n_tags)), ner_mask=torch.zeros((b, length), dtype=torch.bool),
        entity_sentiment=torch.zeros((b, entity_slots, 3)),
        entity_sentiment_mask=torch.zeros((b, entity_slots), dtype=torch.bool),
    )
    for row, (item, label, rows) in enumerate(zip(items, soft, entity_rows)):
        if label is None:
            continue
        targets.topic[row] = torch.from_numpy(label.topic.astype(np.float32))
        targets.topic_mask[row] = True
        targets.sentiment[row] = torch.from_numpy(label.sentiment.astype(np.float32))
        targets.sentiment_mask[row] = True
        for position, first in enumerate(first_subtoken_mask(item.word_ids)):
            word_row = label.word_starts.get(item.offsets[position][0]) if first else None
            if word_row is not None:
                targets.ner[row, position] = torch.from_numpy(label.ner[word_row].astype(np.float32))
                targets.ner_mask[row, position] = True
        for slot, teacher_row in enumerate(rows):
            if teacher_row is not None:
                targets.entity_sentiment[row, slot] = torch.from_numpy(
                    label.entity_sentiment[teacher_row].astype(np.float32))
                targets.entity_sentiment_mask[row, slot] = True
    return targets


def encode_for_distillation(tokenizer, example: Example, label: SoftLabel | None, source_id: int,  # noqa: ANN001
                            max_length: int) -> tuple[EncodedText, list[int | None]]:
    """encode_example, plus entity slots for the teacher's entities the gold labels lack (gold label
    IGNORE_INDEX there, so only the soft loss sees them); and per slot, the teacher's entity row (or None)."""
    encoded = encode_example(tokenizer, example, source_id, max_length)
    gold_chars = [(t.start, t.end) for t in example.entity_sentiments or []
                  if token_span(encoded.offsets, encoded.word_ids, t.start, t.end) is not None]
    rows: list[int | None] = []
    teacher_rows = {span: i for i, span in enumerate(label.entities)} if label is not None else {}
    for span in gold_chars:  # the slots encode_example made, in its order
        rows.append(teacher_rows.get(span))
    if label is not None:
        for i, (start, end) in enumerate(label.entities):
            if (start, end) in gold_chars:
                continue
            tokens = token_span(encoded.offsets, encoded.word_ids, start, end)
            if tokens is not None:
                encoded.entity_spans.append(tokens)
                encoded.entity_sentiments.append(IGNORE_INDEX)
                rows.append(i)
    return encoded, rows


class DistilBatches:
    """Endless length-bucketed batches of one dataset with the teacher's soft targets aligned to them.

    The same contract as model.training.loop.DatasetBatches, plus a third value.
    """

    def __init__(self, examples: list[Example], tokenizer, source_id: int, batch_size: int,  # noqa: ANN001
                 rng: random.Random, max_length: int, soft_labels: dict[str, SoftLabel], n_topics: int) -> None:
        self.examples, self.tokenizer, self.source_id = examples, tokenizer, source_id
        self.batch_size, self.rng, self.max_length = batch_size, rng, max_length
        self.soft_labels, self.n_topics = soft_labels, n_topics
        self._cache: dict[int, tuple[EncodedText, list[int | None]]] = {}
        self._batches: Iterator[list[int]] = iter(())

    def _encoded(self, index: int) -> tuple[EncodedText, list[int | None]]:
        if index not in self._cache:
            example = self.examples[index]
            self._cache[index] = encode_for_distillation(self.tokenizer, example, self.soft_labels.get(example.text),
                                                         self.source_id, self.max_length)
        return self._cache[index]

    def next(self) -> tuple[Batch, Labels, SoftTargets]:
        indices = next(self._batches, None)
        if indices is None:
            self._batches = iter(length_buckets([len(e.text) for e in self.examples], self.batch_size, self.rng))
            indices = next(self._batches)
        encoded = [self._encoded(i) for i in indices]
        items = [item for item, _ in encoded]
        batch, labels = collate(items, pad_id=self.tokenizer.pad_token_id or 0)
        soft = [self.soft_labels.get(self.examples[i].text) for i in indices]
        return batch, labels, align_soft_targets(items, soft, [rows for _, rows in encoded],
                                                 batch.entity_token_mask.shape[1], batch.input_ids.shape[1],
                                                 self.n_topics)


def unlabelled_examples(soft_labels: dict[str, SoftLabel], train_sets: dict[str, list[Example]],
                        dev_sets: dict[str, list[Example]]) -> list[Example]:
    """Texts with soft labels that no training set has (the stream headlines), minus any dev text."""
    known = {ex.text for examples in train_sets.values() for ex in examples}
    dev = {normalise_text(ex.text) for examples in dev_sets.values() for ex in examples}
    return [Example(text, UNLABELLED_SOURCE) for text in soft_labels
            if text not in known and normalise_text(text) not in dev]


__all__ = ["DISTIL_TASKS", "DistilBatches", "ensure_soft_labels", "load_soft_labels", "SoftLabel", "SoftTargets",
           "align_soft_targets",
           "distillation_examples", "distillation_loss", "encode_for_distillation", "mix_losses",
           "read_soft_labels", "resolve_soft_labels", "soft_labels_complete", "soft_losses", "teacher_records",
           "unlabelled_examples", "write_soft_labels"]
