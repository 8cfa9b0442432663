"""The one table of the joint model's tasks: every other place iterates it.

Each task is declared once: its names, its label set, what one label is about
(the text, a word piece, an entity span, or each event type of the text), the
head that computes it, its loss, its headline metric, whether a student
distils it and whether the ONNX parity check covers it, which exported graph
serves it and where the stream stores it. Training, evaluation, distillation,
export and the CLI read this table instead of naming tasks again, as Hugging
Face's auto mappings name model classes by string and resolve them lazily.

Adding a task is a row here, its head class in model/network/modeling.py, its
labels in the data loaders (model/data, model/network/collate.py) and its
storage (monitor/storage); docs/architecture.md has the recipe.

Torch-free on purpose: the data catalogue and the CLI read names from here
without loading the network.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from model.events.taxonomy import EVENT_TYPES
from model.network.labels import NER_TAGS, SENTIMENT_LABELS, TOPIC_LABELS

# What one event-type slot of the events head says about a text: the type is absent, or present
# with this polarity for its subject. One 4-way softmax per type keeps type and polarity in one head.
EVENT_STATES: tuple[str, ...] = ("absent", "negative", "neutral", "positive")
EVENT_TYPE_NAMES: tuple[str, ...] = tuple(EVENT_TYPES)


def event_state(polarity: int) -> int:
    """The EVENT_STATES id of a present event with this polarity (-1, 0, 1)."""
    return EVENT_STATES.index(("negative", "neutral", "positive")[polarity + 1])


def state_polarity(state: int) -> int:
    """The polarity (-1, 0, 1) of a present EVENT_STATES id."""
    return ("negative", "neutral", "positive").index(EVENT_STATES[state]) - 1


@dataclass(frozen=True)
class Task:
    name: str  # identifier: JointOutput.logits key, Labels field, distillation key ("entity_sentiment")
    slug: str  # as users write it: CLI choices, reports, dataset task sets ("entity-sentiment")
    labels: tuple[str, ...]  # the classes of one prediction
    # what one prediction is about: the whole text, a word piece, an entity span, or one event type of the text
    level: Literal["text", "token", "entity", "event_type"]
    example_field: str  # the model.data.examples.Example field that labels it (None there: unlabelled)
    head_class: str  # class name in model.network.modeling, resolved by JointModel
    head_attribute: str  # JointModel attribute (saved checkpoints use these names)
    metric: Literal["accuracy", "f1", "macro_f1"]  # the one number the task is judged by
    label_smoothing: bool  # label noise in the data (tweets) vs sharp boundaries (tags, types)
    distil: bool  # a student learns the teacher's logits for it
    parity: bool  # the int8 ONNX parity check measures it before serving int8
    graph: Literal["article", "entity"]  # the exported graph that computes it (model/serving/onnx_backend.py)
    # counts in a run's dev score (best checkpoint, promotion gate); False for a task whose dev labels are
    # made by rules: copying the rules would score high there without being useful
    in_dev_score: bool
    stored_in: str  # where the stream stores its output (monitor/storage/models.py)
    # per-class loss weights (None: all 1): a class that is rare by design gets a larger share of the loss
    class_weights: tuple[float, ...] | None = None

    @property
    def output_name(self) -> str:
        """The name of its logits in JointOutput and in the exported ONNX graphs."""
        return f"{self.name}_logits"


TASKS: tuple[Task, ...] = (
    Task("topic", "topic", TOPIC_LABELS, "text", "topic", "TopicHead", "topic_head", "accuracy",
         label_smoothing=True, distil=True, parity=True, graph="article", in_dev_score=True,
         stored_in="model_outputs.topic"),
    Task("sentiment", "sentiment", SENTIMENT_LABELS, "text", "sentiment", "SentimentHead", "sentiment_head", "accuracy",
         label_smoothing=True, distil=True, parity=True, graph="article", in_dev_score=True,
         stored_in="model_outputs.sentiment_*"),
    # no smoothing for tags: O dominates and smoothing blurs entity boundaries
    Task("ner", "ner", NER_TAGS, "token", "entities", "EntityTagger", "entity_tagger", "f1",
         label_smoothing=False, distil=True, parity=True, graph="article", in_dev_score=True,
         stored_in="entity_mentions"),
    Task("entity_sentiment", "entity-sentiment", SENTIMENT_LABELS, "entity", "entity_sentiments", "EntitySentimentHead",
         "entity_sentiment_head", "accuracy", label_smoothing=True, distil=True, parity=True, graph="entity",
         in_dev_score=True, stored_in="entity_mentions.sentiment_*"),
    # financial events (issue #25): labels come from the exact estimate parser and the labelling patterns
    # (model/events), so the student learns them from those labels, not from a teacher. Nine in ten texts
    # have no event and each has 17 type slots, so "absent" is ~99 % of the targets: unweighted, the head
    # learned to say absent everywhere (dev macro F1 0.0 after the quick profile's 500 steps).
    Task("events", "events", EVENT_STATES, "event_type", "events", "EventHead", "event_head", "macro_f1",
         label_smoothing=False, distil=False, parity=True, graph="article", in_dev_score=False,
         stored_in="article_events", class_weights=(1.0, 20.0, 20.0, 20.0)),
)

# Versions saved before the task table had these four heads and no `tasks` field in their config.
LEGACY_TASK_NAMES: tuple[str, ...] = ("topic", "sentiment", "ner", "entity_sentiment")
TASK_NAMES: tuple[str, ...] = tuple(task.name for task in TASKS)
TASK_SLUGS: tuple[str, ...] = tuple(task.slug for task in TASKS)


def get_task(name_or_slug: str) -> Task:
    """The task of a name or a slug; ValueError naming the known ones otherwise."""
    for task in TASKS:
        if name_or_slug in (task.name, task.slug):
            return task
    raise ValueError(f"unknown task {name_or_slug!r}; known: {', '.join(TASK_SLUGS)}")


def tasks_named(names: tuple[str, ...] | list[str]) -> tuple[Task, ...]:
    """The registry's tasks among `names`, in registry order (the order heads are built and exported)."""
    wanted = {get_task(name).name for name in names}
    return tuple(task for task in TASKS if task.name in wanted)


__all__ = ["Task", "TASKS", "TASK_NAMES", "TASK_SLUGS", "LEGACY_TASK_NAMES", "EVENT_STATES", "EVENT_TYPE_NAMES",
           "event_state", "state_polarity",
           "get_task", "tasks_named"]
