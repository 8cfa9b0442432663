"""JointModel: losses, masking, decoding, training steps, save/load."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
import torch

from model.data.examples import EntitySpan, Example
from model.data.splits import DatasetSplit
from model.network.collate import collate, encode_example
from model.network.labels import NER_TAGS
from model.network.modeling import (
    EntityTagger,
    JointModel,
    ModelConfig,
    TaskWeighting,
    bio_transition_mask,
    default_encoder_path,
    load_tokenizer,
)
from model.serving.registry import load_model, save_version
from model.training.loop import TrainConfig, sampling_probabilities, train
from model.training.schedules import layerwise_parameter_groups
from tests.tiny_examples import TINY_EXAMPLES

EXAMPLES = TINY_EXAMPLES


@pytest.fixture(scope="module")
def tokenizer():
    return load_tokenizer(default_encoder_path())


def tiny_model(seed: int = 0) -> JointModel:
    torch.manual_seed(seed)
    return JointModel(ModelConfig(encoder_layers=1))


def batch_of(tokenizer, examples, config: ModelConfig):
    return collate([encode_example(tokenizer, e, config.source_id(e.source)) for e in examples])


def test_output_shapes_and_losses_only_with_labels(tokenizer) -> None:
    model = tiny_model().eval()
    batch, labels = batch_of(tokenizer, EXAMPLES, model.config)
    output = model(batch)
    b, t = batch.input_ids.shape
    assert output.topic_logits.shape == (b, 20)
    assert output.sentiment_logits.shape == (b, 3)
    assert output.ner_logits.shape == (b, t, len(NER_TAGS))
    assert output.entity_sentiment_logits.shape == (b, 2, 3)
    assert output.loss is None and output.losses == {}
    labelled = model(batch, labels)
    assert set(labelled.losses) == {"topic", "sentiment", "ner", "entity_sentiment"}
    assert torch.isfinite(labelled.loss)


def test_losses_are_masked_when_a_task_is_unlabelled(tokenizer) -> None:
    model = tiny_model().eval()
    batch, labels = batch_of(tokenizer, EXAMPLES[1:3], model.config)  # sentiment only
    output = model(batch, labels)
    assert set(output.losses) == {"sentiment"}
    # the unlabelled heads get no gradient at all
    output.loss.backward()
    assert model.topic_head.classifier.weight.grad is None or not model.topic_head.classifier.weight.grad.any()
    assert model.entity_tagger.classifier.weight.grad is None or not model.entity_tagger.classifier.weight.grad.any()
    assert model.sentiment_head.classifier.weight.grad.abs().sum() > 0


def test_a_few_training_steps_lower_the_loss(tokenizer) -> None:
    model = tiny_model()
    model.train()
    batch, labels = batch_of(tokenizer, EXAMPLES, model.config)
    optimizer = torch.optim.AdamW(layerwise_parameter_groups(model, 1e-3, 0.9, 0.0))
    losses = []
    for _ in range(8):
        output = model(batch, labels)
        output.loss.backward()
        optimizer.step()
        optimizer.zero_grad()
        losses.append(output.loss.item())
    assert losses[-1] < losses[0] * 0.8, losses


def test_equal_and_uncertainty_weighting() -> None:
    losses = {"topic": torch.tensor(2.0), "ner": torch.tensor(1.0)}
    assert TaskWeighting(("topic", "sentiment", "ner"), "equal")(losses).item() == pytest.approx(3.0)
    uncertainty = TaskWeighting(("topic", "sentiment", "ner"), "uncertainty")
    with torch.no_grad():
        uncertainty.log_variance[:] = torch.tensor([1.0, 0.0, 0.0])
    expected = 2.0 * torch.exp(torch.tensor(-1.0)).item() + 0.5 + 1.0
    assert uncertainty(losses).item() == pytest.approx(expected, rel=1e-5)
    with pytest.raises(ValueError, match="loss_weighting"):
        TaskWeighting(("topic",), "mean")


def test_constrained_decoding_never_opens_with_i() -> None:
    tagger = EntityTagger(8, len(NER_TAGS), 4, 2, 0.0)
    allowed, _ = bio_transition_mask()
    generator = torch.Generator().manual_seed(0)
    for _ in range(50):
        logits = torch.randn(12, len(NER_TAGS), generator=generator) * 3
        logits[:, [i for i, t in enumerate(NER_TAGS) if t.startswith("I-")]] += 2.0  # tempt it with I- tags
        tags = [NER_TAGS[i] for i in tagger.decode(logits)]
        previous = "O"
        for tag in tags:
            if tag.startswith("I-"):
                assert previous in (f"B-{tag[2:]}", tag), tags
            previous = tag
    assert not allowed[NER_TAGS.index("O"), NER_TAGS.index("I-ORG")]
    assert allowed[NER_TAGS.index("B-ORG"), NER_TAGS.index("I-ORG")]


def test_save_and_load_give_identical_outputs(tokenizer, tmp_path: Path) -> None:
    model = tiny_model(seed=3).eval()
    version = save_version(tmp_path, model, tokenizer, {"profile": "test", "metrics": {}})
    loaded, loaded_tokenizer = load_model(tmp_path, version)
    batch, _ = batch_of(loaded_tokenizer, EXAMPLES, loaded.config)
    with torch.no_grad():
        before, after = model(batch), loaded(batch)
    for name in ("topic_logits", "sentiment_logits", "ner_logits", "entity_sentiment_logits"):
        assert torch.equal(getattr(before, name), getattr(after, name)), name
    assert loaded.config.encoder_layers == 1 and loaded.config.encoder_config["num_hidden_layers"] == 1


def test_sampling_probabilities_flatten_with_temperature() -> None:
    sizes = {"big": 16000, "small": 1000}
    proportional = sampling_probabilities(sizes, 1.0)
    flattened = sampling_probabilities(sizes, 2.0)
    assert proportional["big"] == pytest.approx(16 / 17)
    assert flattened["big"] == pytest.approx(4 / 5)


def test_train_returns_best_checkpoint_and_resumes(tmp_path: Path) -> None:
    rng = random.Random(0)
    words = ["profit", "loss", "rose", "fell", "sales", "growth", "cut", "jobs"]
    sentiment = [Example(" ".join(rng.choices(words, k=6)), "phrasebank", sentiment=rng.randrange(3))
                 for _ in range(24)]
    ner = [Example("Peter Blackburn visits Frankfurt", "conll",
                   entities=[EntitySpan(0, 15, "PER"), EntitySpan(23, 32, "LOC")])] * 8
    corpus = {
        "phrasebank": DatasetSplit("phrasebank", frozenset({"sentiment"}), sentiment[:20], sentiment[20:], {"f": "0"}),
        "conll": DatasetSplit("conll", frozenset({"ner"}), ner, ner[:2], {"g": "1"}),
    }
    config = TrainConfig(profile="test", max_steps=4, steps_per_epoch=2, batch_size=4,
                         model=ModelConfig(encoder_layers=1), runs_dir=tmp_path, progress=False, threads=None)
    result = train(config, corpus=corpus)
    assert result.steps == 4
    assert set(result.metrics) == {"phrasebank", "conll"}
    assert 0.0 <= result.metrics["phrasebank"]["sentiment"]["accuracy"] <= 1.0
    assert "f1" in result.metrics["conll"]["ner"]
    assert [h["step"] for h in result.history] == [2, 4]
    # the casing table saved with the version: the training texts' lower-case words, no names
    assert result.lower_case_words == frozenset(words)
    assert (tmp_path / "test" / "last.pt").is_file()
    assert list((tmp_path / "test" / "tensorboard").iterdir())
    resumed = train(TrainConfig(**{**config.__dict__, "max_steps": 6, "resume": True}), corpus=corpus)
    assert [h["step"] for h in resumed.history] == [2, 4, 6]


def test_network_options_live_in_the_nested_model_config() -> None:
    from model.training.loop import profile_config

    config = profile_config("quick", encoder_layers=1, loss_weighting="equal", lr=3e-4, device="cpu")

    assert (config.model.encoder_layers, config.model.loss_weighting, config.lr) == (1, "equal", 3e-4)
    assert not hasattr(config, "encoder_layers")


def test_fine_tuning_refuses_network_options_the_version_does_not_have(tmp_path: Path) -> None:
    from model.testing import make_tiny_model
    from model.training.loop import _initial_model, flat_train_config

    version = make_tiny_model(tmp_path, encoder_layers=1)

    with pytest.raises(ValueError, match=r"encoder_layers=2 \(version has 1\)"):
        _initial_model(flat_train_config("test", init_from=version, registry_dir=tmp_path, encoder_layers=2))
    model, _ = _initial_model(flat_train_config("test", init_from=version, registry_dir=tmp_path, encoder_layers=1))
    assert model.config.encoder_layers == 1
