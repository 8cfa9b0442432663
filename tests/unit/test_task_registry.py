"""The task table (model/network/tasks.py) is the one list of tasks: the model, evaluation, export,
distillation and the data catalogue all follow it."""

from __future__ import annotations

import pytest
import torch

from model.data.examples import Example
from model.network.collate import collate, encode_example, event_state_ids
from model.network.modeling import HEAD_CLASSES, JointModel, ModelConfig, default_encoder_path, load_tokenizer
from model.network.tasks import (
    EVENT_STATES,
    EVENT_TYPE_NAMES,
    LEGACY_TASK_NAMES,
    TASK_NAMES,
    TASK_SLUGS,
    TASKS,
    get_task,
    tasks_named,
)


def test_every_task_names_a_head_class_and_a_unique_name_and_slug() -> None:
    assert len(set(TASK_NAMES)) == len(TASKS) and len(set(TASK_SLUGS)) == len(TASKS)
    for task in TASKS:
        assert task.head_class in HEAD_CLASSES
        assert hasattr(Example, "__dataclass_fields__") and task.example_field in Example.__dataclass_fields__
    assert get_task("entity-sentiment") is get_task("entity_sentiment")
    with pytest.raises(ValueError, match="unknown task 'bogus'; known: topic, sentiment"):
        get_task("bogus")


def test_the_other_modules_read_their_task_lists_from_the_table() -> None:
    from model.data.catalogue import TASKS as DATASET_TASKS
    from model.serving.onnx_backend import PARITY_TASKS
    from model.training.distillation import DISTIL_TASKS
    from model.training.evaluation import TASK_NAMES as EVALUATED

    assert DATASET_TASKS == TASK_SLUGS == EVALUATED
    assert DISTIL_TASKS == tuple(task.name for task in TASKS if task.distil)
    assert PARITY_TASKS == tuple(task.slug for task in TASKS if task.parity)


def test_saved_configs_without_a_task_list_have_the_legacy_heads_and_new_ones_have_all() -> None:
    legacy = ModelConfig.from_dict({"encoder": "minilm-l6"})
    assert legacy.tasks == LEGACY_TASK_NAMES and not legacy.has_task("events")
    current = ModelConfig.from_dict(ModelConfig().to_dict())
    assert current.tasks == TASK_NAMES and current.event_types == EVENT_TYPE_NAMES
    assert [task.name for task in tasks_named(["events", "topic"])] == ["topic", "events"]  # registry order


def test_the_model_builds_one_head_per_task_and_a_legacy_model_has_no_events_head() -> None:
    tokenizer = load_tokenizer(default_encoder_path())
    examples = [Example("Acme misses Q3 estimates", "test", sentiment=0, events={"earnings": -1}),
                Example("Shares were flat", "test", sentiment=1, events={})]
    batch, labels = collate([encode_example(tokenizer, e) for e in examples], pad_id=tokenizer.pad_token_id)
    model = JointModel(ModelConfig(encoder_layers=1))
    output = model(batch, labels)
    assert set(output.logits) == set(TASK_NAMES)
    assert output.event_logits.shape == (2, len(EVENT_TYPE_NAMES), len(EVENT_STATES))
    assert "events" in output.losses and torch.isfinite(output.loss)
    legacy = JointModel(ModelConfig(encoder_layers=1, tasks=LEGACY_TASK_NAMES))
    assert not hasattr(legacy, "event_head") and legacy(batch).event_logits is None
    assert legacy.task_weighting.log_variance.shape == (len(LEGACY_TASK_NAMES),)


def test_a_model_of_an_earlier_taxonomy_trains_on_the_labels_of_its_own_types() -> None:
    """Event types are only appended (share_move came last): a model saved with the types before it (a run
    resumed across the change) keeps its head and learns from its slots of the new label columns."""
    tokenizer = load_tokenizer(default_encoder_path())
    examples = [Example("Acme shares fall 20% after Q3 miss", "test", events={"earnings": -1, "share_move": -1})]
    batch, labels = collate([encode_example(tokenizer, e) for e in examples], pad_id=tokenizer.pad_token_id)
    assert EVENT_TYPE_NAMES[-1] == "share_move" and labels.events.shape == (1, len(EVENT_TYPE_NAMES))
    earlier = JointModel(ModelConfig(encoder_layers=1, event_types=EVENT_TYPE_NAMES[:-1]))
    output = earlier(batch, labels)
    assert output.event_logits.shape == (1, len(EVENT_TYPE_NAMES) - 1, len(EVENT_STATES))
    assert torch.isfinite(output.losses["events"])


def test_event_labels_become_one_state_per_type_slot() -> None:
    ids = event_state_ids({"earnings": -1, "rating_upgrade": 1, "rating_maintain": 0})
    assert ids[EVENT_TYPE_NAMES.index("earnings")] == EVENT_STATES.index("negative")
    assert ids[EVENT_TYPE_NAMES.index("rating_upgrade")] == EVENT_STATES.index("positive")
    assert ids[EVENT_TYPE_NAMES.index("rating_maintain")] == EVENT_STATES.index("neutral")
    assert ids.count(EVENT_STATES.index("absent")) == len(EVENT_TYPE_NAMES) - 3
    with pytest.raises(ValueError, match="unknown event types"):
        event_state_ids({"weather": 1})


def test_class_weights_give_a_rare_class_its_share_of_the_loss() -> None:
    from model.network.modeling import _masked_cross_entropy

    logits = torch.zeros((4, 2))
    logits[:, 0] = 2.0  # the model leans to the common class everywhere
    targets = torch.tensor([0, 0, 0, 1])
    weights = torch.ones(4)
    plain = _masked_cross_entropy(logits, targets, weights, 0.0)
    weighted = _masked_cross_entropy(logits, targets, weights, 0.0, class_weights=(1.0, 9.0))
    assert weighted > plain  # the one rare target, badly predicted, now weighs as much as the rest together
    assert get_task("events").class_weights is not None and get_task("events").class_weights[0] == 1.0


def test_the_events_head_sends_a_scaled_gradient_to_the_encoder() -> None:
    from model.network.modeling import EventHead, SharedStates

    head = EventHead(4, 2, 0.0, gradient_scale=0.1).train()
    pooled = torch.ones((1, 4), requires_grad=True)
    head.run(SharedStates(torch.zeros(1, 1, 4), pooled, None)).sum().backward()  # type: ignore[arg-type]
    scaled = pooled.grad.clone()
    pooled.grad = None
    head.gradient_scale = 1.0
    head.run(SharedStates(torch.zeros(1, 1, 4), pooled, None)).sum().backward()  # type: ignore[arg-type]
    assert torch.allclose(scaled, 0.1 * pooled.grad)


def test_a_run_resumed_across_a_new_event_type_keeps_the_types_it_was_started_with() -> None:
    """The background full run began before share_move: its checkpoint's event head has 17 types' rows."""
    from model.training.loop import resumed_model_config

    rows = len(EVENT_STATES)
    earlier = {"event_head.classifier.weight": torch.zeros((len(EVENT_TYPE_NAMES) - 1) * rows, 8)}
    assert resumed_model_config(ModelConfig(), earlier).event_types == EVENT_TYPE_NAMES[:-1]
    current = {"event_head.classifier.weight": torch.zeros(len(EVENT_TYPE_NAMES) * rows, 8)}
    assert resumed_model_config(ModelConfig(), current) == ModelConfig()
    assert resumed_model_config(ModelConfig(tasks=LEGACY_TASK_NAMES), {}) == ModelConfig(tasks=LEGACY_TASK_NAMES)
    later = {"event_head.classifier.weight": torch.zeros((len(EVENT_TYPE_NAMES) + 1) * rows, 8)}
    with pytest.raises(ValueError, match="resume it with the code that started it"):
        resumed_model_config(ModelConfig(), later)
