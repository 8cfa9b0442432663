"""Predictor on a real (tiny) registry model, make_tiny_model, and `finsent evaluate`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from model.network.results import ArticleResult
from model.serving.predictor import Predictor
from model.serving.registry import live_version, load_metadata
from model.testing import make_tiny_model

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "model"
TEXTS = [
    "Apple beats estimates while Intel misses",
    "Shares of Deutsche Telekom rose in Frankfurt after $DTEGY upgrade",
    "Fed",
    "",
    "Nokia will hold its annual general meeting in Helsinki on May 3 ." * 30,  # truncated at 128 pieces
]


class FakeLinker:
    """Stands in for model.network.linking: one cashtag rule, one gazetteer entry."""

    def tickers(self, text: str) -> list[tuple[int, int, str]]:
        start = text.find("$DTEGY")
        return [] if start < 0 else [(start, start + 6, "DTEGY")]

    def link(self, text: str, start: int, end: int, entity_type: str) -> str | None:
        return "AAPL" if text[start:end] == "Apple" else None


@pytest.fixture(scope="module")
def registry(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("registry")
    make_tiny_model(path, encoder_layers=1)
    return path


def test_make_tiny_model_writes_a_live_version(registry: Path, tmp_path: Path) -> None:
    version = live_version(registry)
    assert version is not None and load_metadata(registry, version)["profile"] == "tiny"
    unpromoted = make_tiny_model(tmp_path, promote=False, encoder_layers=1)
    assert live_version(tmp_path) is None and (tmp_path / unpromoted / "model.safetensors").is_file()


def test_predict_returns_article_results_with_valid_offsets(registry: Path) -> None:
    predictor = Predictor.load(registry, device="cpu", linker=FakeLinker())
    assert predictor.version == live_version(registry) and predictor.device.type == "cpu"
    results = predictor.predict(TEXTS, batch_size=2)
    assert len(results) == len(TEXTS)
    for text, result in zip(TEXTS, results):
        assert isinstance(result, ArticleResult) and result.model_version == predictor.version
        assert len(result.topic_probs) == 20 and sum(result.topic_probs) == pytest.approx(1.0, abs=1e-4)
        assert sum(result.sentiment_probs) == pytest.approx(1.0, abs=1e-4)
        assert -1.0 <= result.sentiment_score <= 1.0
        assert result.sentiment_score == pytest.approx(result.sentiment_probs[2] - result.sentiment_probs[0])
        for entity in result.entities:
            assert 0 <= entity.start < entity.end <= len(text)
            assert entity.text == text[entity.start:entity.end] and entity.text.strip() == entity.text
            assert entity.entity_type in ("ORG", "PER", "LOC", "MISC", "TICKER")
            assert -1.0 <= entity.sentiment_score <= 1.0
    tickers = [e for e in results[1].entities if e.entity_type == "TICKER"]
    assert [(t.text, t.ticker) for t in tickers] == [("$DTEGY", "DTEGY")]
    # order is restored after length bucketing: the same text alone gives the same result
    alone = predictor.predict([TEXTS[1]])[0]
    assert alone.topic == results[1].topic
    assert alone.sentiment_probs == pytest.approx(results[1].sentiment_probs, abs=1e-5)


def test_evaluate_prints_json_and_writes_reports(registry: Path, monkeypatch) -> None:
    from finsent.cli import main
    from kernel.settings import get_settings

    monkeypatch.setenv("FINSENT_REGISTRY_DIR", str(registry))
    get_settings.cache_clear()
    try:
        runner = CliRunner()
        sentiment = runner.invoke(main, ["evaluate", "--model", "live", "--task", "sentiment", "--format",
                                         "phrasebank", "--path", str(FIXTURES / "phrasebank_sample.csv"), "--json"])
        assert sentiment.exit_code == 0, sentiment.output
        report = json.loads(sentiment.output.strip().splitlines()[-1])
        assert {"accuracy", "macro_f1", "per_class"} <= set(report) and report["n"] == 6
        assert Path(report["confusion_matrix_png"]).is_file() and Path(report["report"]).is_file()
        ner = runner.invoke(main, ["evaluate", "--model", "latest", "--task", "ner", "--format", "conll",
                                   "--path", str(FIXTURES / "conll_sample.txt"), "--json"])
        assert ner.exit_code == 0, ner.output
        ner_report = json.loads(ner.output.strip().splitlines()[-1])
        assert {"f1", "precision", "recall", "per_class"} <= set(ner_report) and ner_report["n"] == 3
        wrong = runner.invoke(main, ["evaluate", "--task", "topic", "--format", "phrasebank",
                                     "--path", str(FIXTURES / "phrasebank_sample.csv")])
        assert wrong.exit_code != 0 and "no topic labels" in wrong.output
    finally:
        get_settings.cache_clear()
