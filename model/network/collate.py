"""From Examples to padded tensors: tokenisation with offsets, labels, batching.

`encode_example` tokenises one text once (fast tokenizer, max 128 word pieces)
and keeps everything later steps need: ids, shape ids, BIO labels, token spans
of the labelled entities. `collate` pads a list of those to the longest in the
batch (dynamic padding) and `length_buckets` groups similar lengths so little
compute goes to padding. Training, evaluation and the Predictor all use these.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, field, fields

import torch
from torch import Tensor

from model.data.examples import Example
from model.network.features import IGNORE_INDEX, PAD_SHAPE, bio_tag_ids, first_subtoken_mask, shape_ids, token_span
from model.network.tasks import EVENT_STATES, EVENT_TYPE_NAMES, event_state

MAX_LENGTH = 128  # news headlines and tweets fit; PhraseBank's longest sentences are cut


@dataclass
class EncodedText:
    """One tokenised text with its labels (None / IGNORE_INDEX where a task is unlabelled)."""

    text: str
    input_ids: list[int]
    shape_ids: list[int]
    offsets: list[tuple[int, int]]
    word_ids: list[int | None]
    source_id: int = 0  # row of the per-source sentiment calibration
    topic: int = IGNORE_INDEX
    sentiment: int = IGNORE_INDEX
    ner_tags: list[int] | None = None  # (T,) BIO ids; None when the example is not NER-labelled
    entity_spans: list[tuple[int, int]] = field(default_factory=list)  # token [start, end)
    entity_sentiments: list[int] = field(default_factory=list)  # one per entity_spans; may be IGNORE_INDEX
    events: list[int] | None = None  # (n_event_types,) EVENT_STATES ids; None when not event-labelled
    weight: float = 1.0

    @property
    def label_positions(self) -> list[bool]:
        return first_subtoken_mask(self.word_ids)


@dataclass
class Batch:
    """Model inputs. Shapes: B texts, T tokens, E entity slots."""

    input_ids: Tensor  # (B, T) long
    attention_mask: Tensor  # (B, T) long, 1 = real token
    shape_ids: Tensor  # (B, T) long, see model.network.features
    source_ids: Tensor  # (B,) long, per-source sentiment calibration row (0 = shared)
    entity_token_mask: Tensor  # (B, E, T) float, 1 where token t belongs to entity e
    entity_mask: Tensor  # (B, E) bool, False for padding slots

    def to(self, device: torch.device | str) -> Batch:
        return Batch(**{f.name: getattr(self, f.name).to(device) for f in fields(self)})


@dataclass
class Labels:
    """Targets; IGNORE_INDEX (-100) marks "not labelled" for that example/task."""

    topic: Tensor  # (B,)
    sentiment: Tensor  # (B,)
    ner: Tensor  # (B, T)
    entity_sentiment: Tensor  # (B, E)
    events: Tensor  # (B, n_event_types) EVENT_STATES ids
    weight: Tensor  # (B,) float, per-example loss weight

    def to(self, device: torch.device | str) -> Labels:
        return Labels(**{f.name: getattr(self, f.name).to(device) for f in fields(self)})

    def target(self, task_name: str) -> Tensor:
        """The targets of a task of model.network.tasks.TASKS (a field named after it)."""
        return getattr(self, task_name)


def event_state_ids(events: dict[str, int], event_types: tuple[str, ...] = EVENT_TYPE_NAMES) -> list[int]:
    """Event labels (type -> polarity -1/0/1) as one EVENT_STATES id per type slot: absent unless labelled."""
    unknown = set(events) - set(event_types)
    if unknown:
        raise ValueError(f"unknown event types {sorted(unknown)}; known: {', '.join(event_types)}")
    return [EVENT_STATES.index("absent") if name not in events else event_state(events[name]) for name in event_types]


def encode_text(tokenizer, text: str, max_length: int = MAX_LENGTH) -> EncodedText:  # noqa: ANN001
    """Tokenise one text, keeping offsets and word ids (needs a *fast* tokenizer)."""
    encoding = tokenizer(text, truncation=True, max_length=max_length, return_offsets_mapping=True)
    word_ids = encoding.word_ids()
    offsets = [tuple(o) for o in encoding["offset_mapping"]]
    return EncodedText(
        text=text,
        input_ids=list(encoding["input_ids"]),
        shape_ids=shape_ids(text, offsets, word_ids),
        offsets=offsets,
        word_ids=word_ids,
    )


def encode_example(tokenizer, example: Example, source_id: int = 0, max_length: int = MAX_LENGTH) -> EncodedText:  # noqa: ANN001
    """Tokenise an Example and align its labels to word pieces."""
    encoded = encode_text(tokenizer, example.text, max_length)
    encoded.source_id = source_id
    encoded.weight = example.weight
    if example.topic is not None:
        encoded.topic = example.topic
    if example.sentiment is not None:
        encoded.sentiment = example.sentiment
    if example.events is not None:
        encoded.events = event_state_ids(example.events)
    if example.entities is not None:
        encoded.ner_tags = bio_tag_ids(encoded.offsets, encoded.word_ids,
                                       [(e.start, e.end, e.label) for e in example.entities])
    for target in example.entity_sentiments or []:
        span = token_span(encoded.offsets, encoded.word_ids, target.start, target.end)
        if span is not None:  # the entity was truncated away: drop it
            encoded.entity_spans.append(span)
            encoded.entity_sentiments.append(target.sentiment)
    return encoded


def collate(items: Sequence[EncodedText], pad_id: int = 0) -> tuple[Batch, Labels]:
    """Pad to the longest text in the batch and stack inputs and labels."""
    batch_size = len(items)
    length = max(len(item.input_ids) for item in items)
    n_entities = max([len(item.entity_spans) for item in items] + [1])
    input_ids = torch.full((batch_size, length), pad_id, dtype=torch.long)
    attention = torch.zeros((batch_size, length), dtype=torch.long)
    shapes = torch.full((batch_size, length), PAD_SHAPE, dtype=torch.long)
    ner = torch.full((batch_size, length), IGNORE_INDEX, dtype=torch.long)
    entity_token_mask = torch.zeros((batch_size, n_entities, length))
    entity_mask = torch.zeros((batch_size, n_entities), dtype=torch.bool)
    entity_sentiment = torch.full((batch_size, n_entities), IGNORE_INDEX, dtype=torch.long)
    events = torch.full((batch_size, len(EVENT_TYPE_NAMES)), IGNORE_INDEX, dtype=torch.long)
    for row, item in enumerate(items):
        n = len(item.input_ids)
        input_ids[row, :n] = torch.tensor(item.input_ids)
        attention[row, :n] = 1
        shapes[row, :n] = torch.tensor(item.shape_ids)
        if item.ner_tags is not None:
            ner[row, :n] = torch.tensor(item.ner_tags)
        if item.events is not None:
            events[row] = torch.tensor(item.events)
        for slot, ((start, end), label) in enumerate(zip(item.entity_spans, item.entity_sentiments)):
            entity_token_mask[row, slot, start:end] = 1.0
            entity_mask[row, slot] = True
            entity_sentiment[row, slot] = label
    batch = Batch(
        input_ids=input_ids,
        attention_mask=attention,
        shape_ids=shapes,
        source_ids=torch.tensor([item.source_id for item in items], dtype=torch.long),
        entity_token_mask=entity_token_mask,
        entity_mask=entity_mask,
    )
    labels = Labels(
        topic=torch.tensor([item.topic for item in items], dtype=torch.long),
        sentiment=torch.tensor([item.sentiment for item in items], dtype=torch.long),
        ner=ner,
        entity_sentiment=entity_sentiment,
        events=events,
        weight=torch.tensor([item.weight for item in items], dtype=torch.float),
    )
    return batch, labels


def length_buckets(lengths: Sequence[int], batch_size: int, rng: random.Random | None = None,
                   pool_batches: int = 50) -> list[list[int]]:
    """Index batches of similar length.

    Without rng: sorted by length (inference; callers restore the order). With rng:
    shuffled, then sorted inside pools of `pool_batches` batches, and the batch
    order shuffled, so training still sees a random mix.
    """
    indices = list(range(len(lengths)))
    if rng is None:
        indices.sort(key=lambda i: lengths[i])
        return [indices[i:i + batch_size] for i in range(0, len(indices), batch_size)]
    rng.shuffle(indices)
    pool = batch_size * pool_batches
    batches: list[list[int]] = []
    for p in range(0, len(indices), pool):
        chunk = sorted(indices[p:p + pool], key=lambda i: lengths[i])
        batches.extend(chunk[i:i + batch_size] for i in range(0, len(chunk), batch_size))
    rng.shuffle(batches)
    return batches
