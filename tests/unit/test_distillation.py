"""Distillation (model.training.distillation): the loss with temperature, soft labels on disk (chunks, resume),
their alignment to a student batch, and a few training steps that use them."""

from __future__ import annotations

import csv
import gzip
import json

import pytest
import torch
import torch.nn.functional as F

from model.data.examples import Example
from model.data.splits import DatasetSplit
from model.network.encoders import encoder_folder
from model.network.features import IGNORE_INDEX, first_subtoken_mask
from model.network.labels import NER_TAGS
from model.network.modeling import JointModel, ModelConfig, load_tokenizer
from model.training import distillation
from model.training.distillation import (
    DistilBatches,
    SoftTargets,
    distillation_examples,
    distillation_loss,
    mix_losses,
    read_soft_labels,
    soft_labels_complete,
    soft_losses,
    write_soft_labels,
)
from model.training.loop import TrainConfig, train
from tests.tiny_examples import TINY_EXAMPLES

EXAMPLES = TINY_EXAMPLES


@pytest.fixture(scope="module")
def tokenizer():
    return load_tokenizer(encoder_folder("minilm-l6"))


@pytest.fixture(scope="module")
def teacher() -> JointModel:
    torch.manual_seed(1)
    return JointModel(ModelConfig(encoder_layers=1)).eval()


# --- the loss ----------------------------------------------------------------------------------------

def test_loss_is_zero_when_student_equals_teacher() -> None:
    logits = torch.randn(4, 7, 9) * 3
    loss = distillation_loss(logits.clone(), logits, torch.ones(4, 7, dtype=torch.bool), temperature=2.0)
    assert loss is not None and abs(loss.item()) < 1e-6
    assert distillation_loss(logits + 1.0, logits, torch.ones(4, 7, dtype=torch.bool), 2.0).item() < 1e-6  # shift-free
    assert distillation_loss(torch.randn(4, 7, 9), logits, torch.ones(4, 7, dtype=torch.bool), 2.0).item() > 0.01


def test_gradients_reach_the_student_only() -> None:
    student = torch.randn(5, 3, requires_grad=True)
    teacher = torch.randn(5, 3, requires_grad=True)
    distillation_loss(student, teacher.detach(), torch.ones(5, dtype=torch.bool), 3.0).backward()
    assert student.grad is not None and student.grad.abs().sum() > 0
    assert teacher.grad is None


def test_temperature_softens_and_scales_by_t_squared() -> None:
    generator = torch.Generator().manual_seed(0)
    student, teacher = torch.randn(6, 4, generator=generator) * 4, torch.randn(6, 4, generator=generator) * 4
    mask = torch.ones(6, dtype=torch.bool)
    for t in (1.0, 2.0, 5.0):
        p, q = F.softmax(teacher / t, -1), F.softmax(student / t, -1)
        expected = (p * (p.log() - q.log())).sum(-1).mean() * t * t
        torch.testing.assert_close(distillation_loss(student, teacher, mask, t), expected)
    # logits scaled by T at temperature T are the T=1 distributions: the loss is T^2 times theirs
    torch.testing.assert_close(distillation_loss(student * 4, teacher * 4, mask, 4.0),
                               16 * distillation_loss(student, teacher, mask, 1.0))
    with pytest.raises(ValueError, match="temperature must be > 0"):
        distillation_loss(student, teacher, mask, 0.0)


def test_masked_positions_are_ignored() -> None:
    student, teacher = torch.randn(3, 5, 9), torch.randn(3, 5, 9)
    mask = torch.zeros(3, 5, dtype=torch.bool)
    mask[0, :2] = mask[2, 4] = True
    before = distillation_loss(student, teacher, mask, 2.0)
    teacher[~mask] = torch.randn(int((~mask).sum()), 9) * 10  # noise where nothing is labelled
    torch.testing.assert_close(distillation_loss(student, teacher, mask, 2.0), before)
    assert distillation_loss(student, teacher, torch.zeros(3, 5, dtype=torch.bool), 2.0) is None


def test_mixing_with_the_gold_loss() -> None:
    gold, soft = torch.tensor(2.0), {"topic": torch.tensor(1.0), "ner": torch.tensor(3.0)}
    assert mix_losses(gold, soft, 0.0).item() == 2.0
    assert mix_losses(gold, soft, 1.0).item() == 4.0
    assert mix_losses(gold, soft, 0.25).item() == pytest.approx(0.75 * 2.0 + 0.25 * 4.0)
    assert mix_losses(None, soft, 0.5).item() == 2.0  # a stream batch: the soft part at the same scale
    assert mix_losses(gold, {}, 0.5).item() == 2.0 and mix_losses(None, {}, 0.5) is None
    with pytest.raises(ValueError, match="alpha must be in"):
        mix_losses(gold, soft, 1.5)


def test_tasks_without_soft_labels_are_left_out(tokenizer, teacher) -> None:
    from model.network.collate import collate, encode_example

    batch, labels = collate([encode_example(tokenizer, e) for e in EXAMPLES[1:3]])
    output = teacher(batch, labels)
    b, t = batch.input_ids.shape
    soft = SoftTargets(topic=output.topic_logits.detach(), topic_mask=torch.tensor([True, False]),
                       sentiment=torch.zeros(b, 3), sentiment_mask=torch.zeros(b, dtype=torch.bool),
                       ner=torch.zeros(b, t, len(NER_TAGS)), ner_mask=torch.zeros(b, t, dtype=torch.bool),
                       entity_sentiment=torch.zeros(b, 1, 3), entity_sentiment_mask=torch.zeros(b, 1, dtype=torch.bool))
    losses = soft_losses(teacher, output, batch, soft, 2.0)
    assert set(losses) == {"topic"} and losses["topic"].item() < 1e-6  # the teacher distilled into itself


# --- soft labels on disk -----------------------------------------------------------------------------

def test_soft_labels_round_trip_in_resumable_chunks(tokenizer, teacher, tmp_path, monkeypatch) -> None:
    folder = write_soft_labels(teacher, tokenizer, EXAMPLES, tmp_path / "soft", "vTEACHER", chunk_size=2,
                               progress=False)
    chunks = sorted(p.name for p in folder.glob("chunk-*.jsonl.gz"))
    assert chunks == ["chunk-00000.jsonl.gz", "chunk-00001.jsonl.gz", "chunk-00002.jsonl.gz"]
    assert soft_labels_complete(folder)
    labels = read_soft_labels(folder)
    assert set(labels) == {e.text for e in EXAMPLES}
    apple = labels[EXAMPLES[0].text]
    assert apple.topic.shape == (20,) and apple.sentiment.shape == (3,)
    assert apple.ner.shape == (len(apple.word_starts), len(NER_TAGS)) == (6, len(NER_TAGS))
    assert apple.entities == [(0, 5), (28, 33)] and apple.entity_sentiment.shape == (2, 3)  # gold spans
    with torch.no_grad():
        from model.network.collate import collate, encode_text

        batch, _ = collate([encode_text(tokenizer, EXAMPLES[0].text)])
        expected = teacher(batch).topic_logits[0]
    torch.testing.assert_close(torch.from_numpy(apple.topic.astype("float32")), expected, atol=2e-3, rtol=2e-3)

    # resume: only the missing chunk is computed again
    (folder / "chunk-00001.jsonl.gz").unlink()
    assert not soft_labels_complete(folder)
    calls = []
    real = distillation.teacher_records
    monkeypatch.setattr(distillation, "teacher_records", lambda *a, **k: calls.append(len(a[2])) or real(*a, **k))
    write_soft_labels(teacher, tokenizer, EXAMPLES, folder, "vTEACHER", chunk_size=2, progress=False)
    assert calls == [2] and soft_labels_complete(folder)
    with pytest.raises(ValueError, match="soft labels of other inputs.*texts_sha256"):
        write_soft_labels(teacher, tokenizer, EXAMPLES[:3], folder, "vTEACHER", chunk_size=2, progress=False)


def test_distillation_examples_skip_dev_texts_and_duplicates(tmp_path) -> None:
    train_rows = [Example("Profit rose", "phrasebank", sentiment=2), Example("Profit rose", "phrasebank", sentiment=2),
                  Example("Sales fell", "phrasebank", sentiment=0)]
    corpus = {"phrasebank": DatasetSplit("phrasebank", frozenset({"sentiment"}), train_rows,
                                         [Example("Costs were cut", "phrasebank", sentiment=1)], {})}
    (tmp_path / "stream").mkdir()
    with (tmp_path / "stream" / "financial_headlines_stream.csv").open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["timestamp", "headline"])
        for text in ["Costs were CUT!", "Oil jumps", "Sales fell", "Gold slips"]:
            writer.writerow(["2020-01-01", text])
    chosen = distillation_examples(corpus, tmp_path)
    assert [(e.text, e.source) for e in chosen] == [("Profit rose", "phrasebank"), ("Sales fell", "phrasebank"),
                                                    ("Oil jumps", "stream"), ("Gold slips", "stream")]
    assert [e.text for e in distillation_examples(corpus, tmp_path, stream_limit=0)] == ["Profit rose", "Sales fell"]


# --- the student side -----------------------------------------------------------------------------------

def test_student_batches_carry_aligned_soft_targets(tokenizer, teacher, tmp_path) -> None:
    import random

    labels = read_soft_labels(write_soft_labels(teacher, tokenizer, EXAMPLES, tmp_path / "soft", "vT",
                                                progress=False))
    conll = EXAMPLES[4]
    labels[conll.text].entities = [(0, 15)]  # as if the teacher had tagged "Peter Blackburn"
    labels[conll.text].entity_sentiment = labels[conll.text].entity_sentiment[:1].copy()
    labels[conll.text].entity_sentiment[0] = [5.0, 0.0, 0.0]
    stream = Example("Oil jumps on supply fears", "stream")  # no soft label: every mask False
    batches = DistilBatches([*EXAMPLES, stream], tokenizer, 0, 6, random.Random(0), 128, labels, 20)
    batch, gold, soft = batches.next()
    ids_of = [tokenizer(e.text)["input_ids"] for e in [*EXAMPLES, stream]]
    order = [ids_of.index(row[:int(mask.sum())].tolist()) for row, mask in zip(batch.input_ids, batch.attention_mask)]
    assert sorted(order) == list(range(6))  # length buckets reorder: find each row's example
    for row, index in enumerate(order):
        if index == 5:
            assert not soft.topic_mask[row] and not soft.ner_mask[row].any()
            continue
        assert soft.topic_mask[row] and soft.sentiment_mask[row]
        n = int(batch.attention_mask[row].sum())
        first = first_subtoken_mask(tokenizer(EXAMPLES[index].text).word_ids())
        assert soft.ner_mask[row, :n].tolist() == first  # one tokenizer: every word matched
    conll_row = order.index(4)
    assert soft.entity_sentiment_mask[conll_row].tolist()[:1] == [True]  # the teacher's entity got a slot ...
    assert gold.entity_sentiment[conll_row, 0].item() == IGNORE_INDEX  # ... that no gold loss reads
    torch.testing.assert_close(soft.entity_sentiment[conll_row, 0], torch.tensor([5.0, 0.0, 0.0]))
    apple_row = order.index(0)
    assert gold.entity_sentiment[apple_row, :2].tolist() == [2, 0]  # gold slots keep gold labels
    assert soft.entity_sentiment_mask[apple_row, :2].tolist() == [True, True]


def test_training_steps_with_soft_labels(tokenizer, teacher, tmp_path) -> None:
    """The loop wiring: soft labels loaded from a folder, stream texts trained on, distil losses logged."""
    write_soft_labels(teacher, tokenizer, [*EXAMPLES, Example("Oil jumps on supply fears", "stream")],
                      tmp_path / "soft", "vT", progress=False)
    corpus = {"phrasebank": DatasetSplit("phrasebank", frozenset({"sentiment"}), EXAMPLES[1:3], EXAMPLES[1:2], {}),
              "conll": DatasetSplit("conll", frozenset({"ner"}), EXAMPLES[4:] * 2, EXAMPLES[4:], {})}
    config = TrainConfig(profile="test", max_steps=4, steps_per_epoch=4, batch_size=2, runs_dir=tmp_path / "runs",
                         model=ModelConfig(encoder_layers=1), progress=False, threads=None, log_every=1,
                         distil_from=str(tmp_path / "soft"), distil_alpha=0.5, distil_temperature=2.0)
    result = train(config, corpus=corpus)
    assert result.steps == 4 and result.config["distil_from"] == str(tmp_path / "soft")
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    events = EventAccumulator(str(tmp_path / "runs" / "test" / "tensorboard"))
    events.Reload()
    assert any(tag.startswith("train/loss_distil_") for tag in events.Tags()["scalars"])
    with pytest.raises(ValueError, match="no complete soft labels.*finsent models soft-labels --teacher vMISSING"):
        train(TrainConfig(**{**config.__dict__, "distil_from": "vMISSING"}), corpus=corpus)


def test_chunks_are_plain_gzip_jsonl(tokenizer, teacher, tmp_path) -> None:
    folder = write_soft_labels(teacher, tokenizer, EXAMPLES[:1], tmp_path / "s", "vT", progress=False)
    with gzip.open(folder / "chunk-00000.jsonl.gz", "rt") as handle:
        record = json.loads(handle.readline())
    assert set(record) == {"text", "topic", "sentiment", "word_starts", "ner", "entities", "entity_sentiment"}
    assert json.loads((folder / "manifest.json").read_text())["teacher"] == "vT"


def test_model_card_rows_pair_the_student_with_a_gold_only_run(teacher, tokenizer, tmp_path) -> None:
    from model.reports.model_card import _distillation_section, distillation_versions
    from model.serving.registry import save_version

    def metadata(encoder: str, distil_from: str | None, seed: int, score: float) -> dict:
        return {"profile": "full", "encoder": encoder, "steps": 5000,
                "train_config": {"max_steps": 5000, "seed": seed, "distil_from": distil_from,
                                 "model": {"encoder": encoder}},
                "metrics": {"phrasebank": {"sentiment": {"accuracy": score}}}}

    assert distillation_versions(tmp_path) == {"teacher": None, "student": None, "gold-only": None, "quick": None}
    versions = {}
    for name, meta in [("gold-seed-7", metadata("minilm-l6", None, 7, 0.80)),
                       ("gold-seed-13", metadata("minilm-l6", None, 13, 0.84)),
                       ("teacher", metadata("mpnet-base", None, 13, 0.88)),
                       ("student", metadata("minilm-l6", "vT", 13, 0.86))]:
        version_id = f"v2026010{len(versions)}-000000-{name}"  # ids sort in the order saved
        versions[name] = save_version(tmp_path, teacher, tokenizer, meta, version=version_id)
    rows = distillation_versions(tmp_path)
    assert {role: found[0] if found else None for role, found in rows.items()} == {
        "teacher": versions["teacher"], "student": versions["student"], "gold-only": versions["gold-seed-13"],
        "quick": None}
    table = "\n".join(_distillation_section(rows))
    assert f"| student | `{versions['student']}` | minilm-l6 | 5000 | 13 | 0.8600 | - | - | - |" in table
    assert "not run" in "\n".join(_distillation_section({"teacher": None, "student": None, "gold-only": None}))
    # without a student, the gold-only row is the newest full-profile MiniLM; the quick profile has its own row
    quick = save_version(tmp_path, teacher, tokenizer, {**metadata("minilm-l6", None, 13, 0.72), "profile": "quick"},
                         version="v20260109-000000-quick")
    rows = distillation_versions(tmp_path)
    assert rows["quick"] is not None and rows["quick"][0] == quick
    assert "| quick | `v20260109-000000-quick` |" in "\n".join(_distillation_section(rows))
