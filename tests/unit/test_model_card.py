"""The model card: built from a version's metadata and the benchmark reports, targets stated plainly."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from model.reports.model_card import gather_inputs, render_model_card, target_status, write_model_card

VERSION = "v20261129-080000-abcd"


def _write_version(registry: Path, metrics: dict, **extra: object) -> None:
    folder = registry / VERSION
    folder.mkdir(parents=True)
    metadata = {"version": VERSION, "created_at": "2026-11-29T08:00:00+00:00", "profile": "full", "steps": 1200,
                "duration_s": 3600.0, "metrics": metrics,
                "train_config": {"max_steps": 5000, "seed": 13, "batch_size": 32, "lr": 1e-4, "dev_cap": None},
                "data_sha256": {"phrasebank": {"sentiment/financial_phrasebank_train.csv": "ab" * 32}}, **extra}
    (folder / "metadata.json").write_text(json.dumps(metadata))
    (folder / "config.json").write_text(json.dumps({"loss_weighting": "equal", "max_length": 128,
                                                    "encoder_config": {"num_hidden_layers": 6, "hidden_size": 384}}))
    (registry / "LIVE").write_text(VERSION + "\n")


def _write_reports(reports: Path) -> None:
    reports.mkdir()
    (reports / "baselines.json").write_text(json.dumps({"created_at": "2026-11-29T07:36:55+00:00", "metrics": {
        "phrasebank": {"sentiment": {"vader": {"accuracy": 0.55, "macro_f1": 0.51, "n": 601},
                                     "loughran_mcdonald": {"accuracy": 0.57, "macro_f1": 0.49, "n": 601}}},
        "conll": {"ner": {"spacy_en_core_web_sm": {"f1": 0.65, "precision": 0.7, "recall": 0.6, "n": 3250}}}}}))
    (reports / "bench-model.json").write_text(json.dumps({"joint_seq_per_s": 76.7, "three_bert_base_seq_per_s": 1.4,
                                                          "ratio": 53.4, "model_version": "v-older", "threads": 2,
                                                          "device": "cpu"}))


@pytest.fixture()
def card(tmp_path: Path) -> str:
    metrics = {"phrasebank": {"sentiment": {"accuracy": 0.8712, "macro_f1": 0.85, "n": 601}},
               "twitter_sentiment": {"sentiment": {"accuracy": 0.71, "macro_f1": 0.6, "n": 1031}},
               "conll": {"ner": {"f1": 0.91, "precision": 0.9, "recall": 0.92, "n": 3250}}}
    _write_version(tmp_path / "models", metrics, pseudo_labels={
        "threshold": 0.9, "dev_comparison": {"conll": {"ner": {"before": 0.90, "after": 0.91, "delta": 0.01}}}})
    _write_reports(tmp_path / "reports")
    return render_model_card(gather_inputs(tmp_path / "models", "live", tmp_path / "reports"))


def test_target_status_says_met_not_met_or_not_measured() -> None:
    assert target_status("phrasebank", "sentiment", {"accuracy": 0.86}).endswith("**met**")
    assert target_status("phrasebank", "sentiment", {"accuracy": 0.859}).endswith("**not met**")
    assert target_status("twitter_topic", "topic", None).endswith("**not measured**")
    assert target_status("finer_ord", "ner", {"f1": 0.5}) == ""


def test_card_names_the_version_and_states_each_target(card: str) -> None:
    assert card.startswith(f"# Model card: finsent joint model `{VERSION}`")
    assert "- Financial PhraseBank (50 % agree) sentiment: 0.8712 against a target of 0.86: **met**." in card
    assert "- Twitter Financial News Sentiment sentiment: 0.7100 against a target of 0.88: **not met**." in card
    assert "- Twitter Financial News Topic topic: not measured against a target of 0.90: **not measured**." in card
    assert "- CoNLL-2003 eng.testa ner: 0.9100 against a target of 0.90: **met**." in card


def test_card_puts_model_and_baselines_in_one_row(card: str) -> None:
    row = next(line for line in card.splitlines() if line.startswith("| Financial PhraseBank"))
    assert "0.8712 / 0.8500 (n=601)" in row and "0.5500 / 0.5100 (n=601)" in row and "0.5700" in row
    conll = next(line for line in card.splitlines() if line.startswith("| CoNLL-2003"))
    assert "0.9100 (n=3250)" in conll and "0.6500 (n=3250)" in conll


def test_card_flags_reports_from_another_version_and_missing_ones(card: str) -> None:
    assert "measured on version `v-older`" in card
    assert "| speed ratio joint / three BERT-base | 53.4x |" in card
    assert "No linking report" in card
    assert "| conll | ner | 0.9000 | 0.9100 | +0.0100 |" in card
    assert "`equal`" in card and "CC BY-NC-SA 3.0" in card
    assert "stopped after 1200 of 5000 planned steps" in card and "barely trained" in card


def test_models_card_command_writes_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import finsent.model_commands as cli

    _write_version(tmp_path / "models", {})
    _write_reports(tmp_path / "reports")
    monkeypatch.setattr(cli, "_registry_dir", lambda: tmp_path / "models")
    monkeypatch.setattr(cli, "REPORTS_DIR", tmp_path / "reports")
    output = tmp_path / "docs" / "model-card.md"
    result = CliRunner().invoke(cli.models, ["card", "--version", VERSION, "--output", str(output)])
    assert result.exit_code == 0, result.output
    assert output.read_text().startswith(f"# Model card: finsent joint model `{VERSION}`")
    missing = CliRunner().invoke(cli.models, ["card", "--version", "v-nope", "--output", str(output)])
    assert missing.exit_code != 0 and "no model version 'v-nope'" in missing.output


def test_write_model_card_is_atomic(tmp_path: Path) -> None:
    _write_version(tmp_path / "models", {})
    output = write_model_card(tmp_path / "models", "live", tmp_path / "no-reports", tmp_path / "card.md")
    assert "No baselines report" in output.read_text()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_card_warns_when_a_second_measurement_disagrees_about_a_target(tmp_path: Path) -> None:
    _write_version(tmp_path / "models", {"twitter_topic": {"topic": {"accuracy": 0.91, "macro_f1": 0.4, "n": 300}}})
    _write_reports(tmp_path / "reports")
    parity = {"twitter_topic": {"topic": {"n": 500, "agreement": 0.998, "max_abs_prob_diff": 0.01,
                                          "torch": {"accuracy": 0.22, "macro_f1": 0.02},
                                          "onnx": {"accuracy": 0.21, "macro_f1": 0.02}}}}
    (tmp_path / "reports" / "bench-onnx.json").write_text(json.dumps({"model_version": VERSION, "parity": parity}))
    card = render_model_card(gather_inputs(tmp_path / "models", "live", tmp_path / "reports"))
    line = next(x for x in card.splitlines() if x.startswith("- Twitter Financial News Topic"))
    assert "**met**" in line and "n=500 measured 0.2200" in line and "disagree about this target" in line
    assert "| twitter_topic | topic | 500 | 0.9980 |" in card


def test_ablation_section_reports_both_experiments() -> None:
    from model.reports.model_card import CardInputs, _ablation_section

    delta = {"conll": {"ner": {"before": 0.40, "after": 0.45, "delta": 0.05}}}
    inputs = CardInputs(
        version="v1", metadata={}, model_config={}, live=True, baselines=None, bench_model=None, bench_onnx=None,
        linking=None,
        loss_weighting={"steps": 50, "runs": {"uncertainty": {"dev_score": 0.6}, "equal": {"dev_score": 0.55}},
                        "per_task_delta": delta},
        pseudo_label=None,
    )
    text = "\n".join(_ablation_section(inputs))
    assert "uncertainty weighting 0.6000 vs equal weights 0.5500" in text
    assert "| conll | ner | 0.400 | 0.450 | +0.050 |" in text
    assert "Joint annotation not measured" in text


def test_a_resumed_run_is_reported_with_its_sessions_and_best_evaluation(tmp_path: Path) -> None:
    history = [{"step": 1000, "dev_score": 0.80, "elapsed_s": 1800.0}, {"step": 1500, "dev_score": 0.82,
                                                                         "elapsed_s": 2880.0},
               {"step": 2500, "dev_score": 0.85, "elapsed_s": 1200.0}, {"step": 3000, "dev_score": 0.84,
                                                                         "elapsed_s": 1800.0}]
    _write_version(tmp_path / "models", {}, history=history)
    _write_reports(tmp_path / "reports")
    card = render_model_card(gather_inputs(tmp_path / "models", "live", tmp_path / "reports"))
    assert "1000: 0.8000, 1500: 0.8200, **2500: 0.8500**, 3000: 0.8400." in card
    assert "Trained in 2 sessions (resumed from the checkpoint at step 1500); about 1.3 h of wall time in all." in card
