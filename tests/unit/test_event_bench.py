"""Event dev data (tests/fixtures/events), the negative decision rule and `finsent bench events`."""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from model.data.events import (
    DEV_EVENTS,
    EVENT_HEADLINES,
    EventsFileError,
    JudgedHeadline,
    load_event_headlines,
    load_events,
)
from model.network.results import ArticleResult, EntityResult
from model.reports.event_bench import (
    Scored,
    company_entity,
    evaluate,
    expected_splits,
    fit_negative_threshold,
    group_of,
    negative_metrics,
)
from model.serving.predictor import Predictor, decide_sentiment
from model.serving.registry import live_version, load_metadata
from model.testing import make_tiny_model

EVENTS_DIR = Path(__file__).resolve().parents[1] / "fixtures" / "events"


PERIOD = (datetime(2018, 1, 1, tzinfo=UTC), datetime(2020, 8, 1, tzinfo=UTC))


def test_events_file_has_enough_judged_events_in_the_period() -> None:
    events = load_events(EVENTS_DIR / DEV_EVENTS)
    negative = [e for e in events if e.polarity == "negative"]
    positive = [e for e in events if e.polarity == "positive"]
    assert len(negative) >= 20 and len(positive) >= 10
    for event in events:
        assert PERIOD[0] <= event.first_headline_at < PERIOD[1], event.id
        assert event.covers(event.first_headline_at), event.id
        assert event.aliases and all(a == a.lower() for a in event.aliases), event.id


def test_event_headlines_are_judged_per_company_and_split_by_event() -> None:
    rows = load_event_headlines(EVENTS_DIR / EVENT_HEADLINES)
    events = {e.id: e for e in load_events(EVENTS_DIR / DEV_EVENTS)}
    assert len(rows) >= 250
    assert {r.label for r in rows} == {"negative", "neutral", "positive"}
    sides: dict[str, set[str]] = defaultdict(set)
    for row in rows:
        assert not row.event_id or row.event_id in events, row.event_id
        sides[group_of(row)].add(row.split)
    assert all(len(s) == 1 for s in sides.values()), "one event's headlines must all be on one side"
    expected = expected_splits(rows, events)
    assert {g: s.pop() for g, s in sides.items()} == expected, "split follows the documented rule"
    tune = sum(r.split == "tune" for r in rows)
    assert 0.35 <= tune / len(rows) <= 0.65
    covered = {r.event_id for r in rows if r.event_id}
    assert covered == set(events), "every event has judged headlines"


def test_bad_judged_headlines_file_names_the_line_and_field(tmp_path: Path) -> None:
    csv_path = tmp_path / "h.csv"
    csv_path.write_text("headline,company,label,event_id,timestamp,source,split\nX falls,X,bad,,t,reuters,tune\n")
    with pytest.raises(EventsFileError, match=r"h.csv:2: label"):
        load_event_headlines(csv_path)


def test_decide_sentiment_argmax_and_negative_threshold() -> None:
    probs = [0.3, 0.5, 0.2]
    assert decide_sentiment(probs) == "neutral"
    assert decide_sentiment(probs, 0.25) == "negative"
    assert decide_sentiment(probs, 0.35) == "neutral"
    assert decide_sentiment([0.4, 0.1, 0.5], 0.45) == "positive"  # below the threshold: best of the other two


def test_negative_metrics_counts_the_negative_class() -> None:
    gold = ["negative", "negative", "negative", "neutral", "positive"]
    predicted = ["negative", "neutral", "negative", "negative", "positive"]
    metrics = negative_metrics(gold, predicted)
    assert metrics["negative_recall"] == pytest.approx(2 / 3, abs=1e-4)
    assert metrics["negative_precision"] == pytest.approx(2 / 3, abs=1e-4)
    assert metrics["confusion_matrix"]["rows_gold_cols_predicted"][0] == [2, 1, 0]
    assert metrics["accuracy"] == pytest.approx(0.6)


def _scored(label: str, p_neg: float, split: str, entity: bool = True) -> Scored:
    probs = [p_neg, 1 - p_neg - 0.05, 0.05]
    row = JudgedHeadline("h", "X", label, "", "", "reuters", split)
    return Scored(row, probs, probs if entity else None)


def test_threshold_is_fitted_on_tune_only() -> None:
    # tune: negatives have p_neg 0.3, others 0.1 -> a threshold in (0.1, 0.3] separates them
    scored = [_scored("negative", 0.3, "tune") for _ in range(5)] + [_scored("neutral", 0.1, "tune") for _ in range(5)]
    # eval rows would pull the threshold elsewhere if they were used
    scored += [_scored("neutral", 0.3, "eval") for _ in range(20)]
    threshold = fit_negative_threshold(scored)
    assert 0.1 < threshold <= 0.3
    tuned = evaluate(scored, "tune", entity_threshold=threshold)
    assert tuned["entity"]["negative_recall"] == 1.0 and tuned["entity"]["negative_precision"] == 1.0
    assert evaluate(scored, "tune")["entity"]["negative_recall"] == 0.0  # argmax says neutral
    assert evaluate(scored, "eval", entity_threshold=threshold)["entity"]["negative_precision"] == 0.0


def test_company_view_falls_back_to_the_sentence_without_an_entity() -> None:
    scored = [_scored("negative", 0.9, "eval", entity=False), _scored("negative", 0.9, "eval")]
    report = evaluate(scored, "eval")
    assert report["entity"]["n"] == 1 and report["entity"]["coverage"] == 0.5
    assert report["company"]["n"] == 2 and report["company"]["negative_recall"] == 1.0


def test_company_entity_matches_aliases() -> None:
    def entity(text: str) -> EntityResult:
        return EntityResult(0, len(text), text, "ORG", None, "neutral", 0.0, [0.1, 0.8, 0.1])

    result = ArticleResult(0, [1.0], "neutral", 0.0, [0.1, 0.8, 0.1],
                           entities=[entity("Britain"), entity("Thomas Cook's")])
    assert company_entity(result, {"thomas cook"}).text == "Thomas Cook's"
    assert company_entity(result, {"wirecard"}) is None


class CashtagLinker:
    """Every text gets one ticker entity at its start, whatever the tiny model's tagger says."""

    def tickers(self, text: str) -> list[tuple[int, int, str]]:
        return [(0, 4, "ACME")] if text.startswith("ACME") else []

    def link(self, text: str, start: int, end: int, entity_type: str) -> str | None:
        return None


@pytest.fixture(scope="module")
def registry(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("registry")
    make_tiny_model(path, encoder_layers=1)
    return path


def _with_threshold(registry: Path, threshold: float) -> Predictor:
    version = live_version(registry)
    metadata_path = registry / version / "metadata.json"
    metadata = json.loads(metadata_path.read_text())
    metadata["decision"] = {"entity_negative_threshold": threshold}
    metadata_path.write_text(json.dumps(metadata))
    return Predictor.load(registry, device="cpu", linker=CashtagLinker())


def test_predictor_applies_the_versions_entity_threshold(registry: Path) -> None:
    texts = ["ACME shares fall", "ACME wins contract", "ACME names new chairman"]
    always = _with_threshold(registry, 0.0).predict(texts)
    never = _with_threshold(registry, 1.01).predict(texts)
    for a, b in zip(always, never):
        assert any(e.ticker == "ACME" for e in a.entities) and len(a.entities) == len(b.entities)
        for entity_a, entity_b in zip(a.entities, b.entities):
            assert entity_a.sentiment_label == "negative" and entity_b.sentiment_label != "negative"
            assert entity_a.sentiment_probs == pytest.approx(entity_b.sentiment_probs)  # the rule, not the model
        assert a.sentiment_label == b.sentiment_label  # headline sentiment untouched


def test_bench_events_cli_reports_both_splits(registry: Path, monkeypatch, tmp_path: Path) -> None:
    from finsent.model_commands import bench
    from kernel.settings import get_settings

    monkeypatch.setattr("kernel.reports.REPORTS_DIR", tmp_path)  # keep the tiny model's report out of reports/

    metadata_path = registry / live_version(registry) / "metadata.json"
    metadata = json.loads(metadata_path.read_text())
    metadata.pop("decision", None)
    metadata_path.write_text(json.dumps(metadata))
    monkeypatch.setenv("FINSENT_REGISTRY_DIR", str(registry))
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(bench, ["events", "--fit-threshold", "--max-sentfin-drop", "-1", "--json"])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    report = json.loads(result.output.strip().splitlines()[-1])
    rows = load_event_headlines(EVENTS_DIR / EVENT_HEADLINES)
    assert report["n"] == len(rows) and report["entity_negative_threshold"] is None
    for split in ("tune", "eval"):
        block = report["as_served"][split]
        assert block["sentence"]["n"] == sum(r.split == split for r in rows)
        matrix = block["sentence"]["confusion_matrix"]["rows_gold_cols_predicted"]
        assert sum(map(sum, matrix)) == block["sentence"]["n"]
    assert "fitted" in report and report["fitted"]["sentfin_guard"] is None
    assert Path(report["report"]).is_file() and Path(report["report"]).parent == tmp_path


def test_a_calibrated_version_is_a_new_unpromoted_copy_the_predictor_applies(registry: Path) -> None:
    from model.reports.event_bench import save_calibrated_version

    parent = live_version(registry)
    fitted = {"eval": {"entity": {"negative_recall": 0.5, "negative_precision": 0.5, "n": 10}}}
    saved = save_calibrated_version(registry, parent, 0.3, {"fitted": fitted}, EVENTS_DIR / EVENT_HEADLINES)
    decision = load_metadata(registry, saved)["decision"]
    assert decision["entity_negative_threshold"] == 0.3 and decision["calibrated_from"] == parent
    assert live_version(registry) == parent
    assert Predictor.load(registry, saved, device="cpu", linker=CashtagLinker()).entity_negative_threshold == 0.3


def test_a_vetoed_or_useless_threshold_leaves_argmax() -> None:
    scored = [_scored("negative", 0.3, "tune") for _ in range(5)] + [_scored("neutral", 0.1, "tune") for _ in range(5)]
    assert fit_negative_threshold(scored, allowed=lambda t: False) is None
    already_right = [_scored("negative", 0.9, "tune"), _scored("neutral", 0.1, "tune")]
    assert fit_negative_threshold(already_right) is None


def test_event_examples_use_tune_rows_only_with_the_company_span() -> None:
    from model.data.events import company_span, event_examples
    from model.data.examples import EntitySentiment, Example
    from model.training.event_headlines import upweight_negative_entities

    assert company_span("Britain's Thomas Cook scrambles", {"thomas cook"}) == (10, 21)
    assert company_span("Cookware sales rise", {"cook"}) is None  # whole words only
    rows = load_event_headlines(EVENTS_DIR / EVENT_HEADLINES)
    events = {e.id: e for e in load_events(EVENTS_DIR / DEV_EVENTS)}
    examples = event_examples(rows, events, weight=3.0)
    tune = [r for r in rows if r.split == "tune"]
    assert [e.text for e in examples] == [r.headline for r in tune]
    assert {e.text for e in examples}.isdisjoint({r.headline for r in rows if r.split == "eval"})
    for example, row in zip(examples, tune):
        assert example.weight == 3.0 and example.sentiment == ("negative", "neutral", "positive").index(row.label)
        for target in example.entity_sentiments or []:
            assert target.sentiment == example.sentiment
            assert example.text[target.start:target.end].lower() in {a for a in events[row.event_id].aliases} | {
                row.company.lower()} if row.event_id in events else True
    base = [Example("A falls", "sentfin", entity_sentiments=[EntitySentiment(0, 1, 0)]),
            Example("B rises", "sentfin", entity_sentiments=[EntitySentiment(0, 1, 2)])]
    assert [e.weight for e in upweight_negative_entities(base, 2.0)] == [2.0, 1.0]


def test_the_training_profiles_train_on_the_tune_event_headlines(tmp_path: Path) -> None:
    from model.data.events import EVENTS_SOURCE
    from model.data.examples import EntitySentiment, Example
    from model.data.splits import DatasetSplit
    from model.network.modeling import ModelConfig
    from model.training.event_headlines import EVENT_REPEAT, with_event_headlines
    from model.training.loop import TrainConfig, profile_config, train

    assert all(profile_config(p, device="cpu").event_headlines for p in ("quick", "full"))
    assert not TrainConfig().event_headlines  # tests and ablations opt in
    sentfin = [Example("A falls", "sentfin", entity_sentiments=[EntitySentiment(0, 1, 0)]),
               Example("B rises", "sentfin", entity_sentiments=[EntitySentiment(0, 1, 2)])]
    sets = with_event_headlines({"sentfin": sentfin}, sentfin_negative_weight=2.0, events_dir=EVENTS_DIR)
    tune = [r.headline for r in load_event_headlines(EVENTS_DIR / EVENT_HEADLINES) if r.split == "tune"]
    assert [e.text for e in sets[EVENTS_SOURCE]] == tune * EVENT_REPEAT  # never an eval headline
    assert [e.weight for e in sets["sentfin"]] == [2.0, 1.0]

    corpus = {"sentfin": DatasetSplit("sentfin", frozenset({"entity-sentiment"}), sentfin, sentfin, {"f": "0"})}
    config = TrainConfig(profile="test", max_steps=2, steps_per_epoch=2, batch_size=4, event_headlines=True,
                         events_dir=EVENTS_DIR,
                         model=ModelConfig(encoder_layers=1), runs_dir=tmp_path, progress=False, threads=None)
    result = train(config, corpus=corpus)
    assert result.metadata()["data_sha256"]["event_headlines"]  # the version says what it was trained on
    assert set(result.metrics) == {"sentfin"}  # no dev set of its own: the eval split stays unseen


def test_training_takes_the_events_folder_from_its_caller(tmp_path: Path) -> None:
    from kernel.settings import load_settings
    from model.data.examples import Example
    from model.data.splits import DatasetSplit
    from model.network.modeling import ModelConfig
    from model.training.loop import TrainConfig, train
    from monitor.retrain.pipeline import RetrainOptions, train_config

    settings = load_settings()
    assert settings.events_dir == EVENTS_DIR  # the one default: the committed dev data
    assert train_config(RetrainOptions(profile="quick"), settings, None).events_dir == settings.events_dir
    texts = [Example("A falls", "phrasebank", sentiment=0), Example("B rises", "phrasebank", sentiment=2)]
    corpus = {"phrasebank": DatasetSplit("phrasebank", frozenset({"sentiment"}), texts, texts, {"f": "0"})}
    config = TrainConfig(profile="test", max_steps=1, steps_per_epoch=1, batch_size=2, event_headlines=True,
                         model=ModelConfig(encoder_layers=1), runs_dir=tmp_path, progress=False, threads=None)
    with pytest.raises(ValueError, match="needs events_dir"):
        train(config, corpus=corpus)
