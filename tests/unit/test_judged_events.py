"""The judged event headlines (tests/fixtures/events/judged_event_headlines.csv), their loader, and the
scoring of `finsent bench event-types`."""

from __future__ import annotations

from pathlib import Path

import pytest

from model.data.judged_events import (
    JudgedEvent,
    JudgedEventHeadline,
    JudgedEventsFileError,
    expected_split,
    load_judged_events,
)
from model.events.taxonomy import EVENT_TYPES, FinancialEvent
from model.reports.event_types_bench import estimate_agreement, fit_head_threshold, same_company, score_events
from model.training.evaluation import event_metrics

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "events" / "judged_event_headlines.csv"
HEADER = "headline,corpus,timestamp,event_type,polarity,subject,source,split\n"


def test_the_fixture_has_600_headlines_every_type_and_follows_its_split_rule() -> None:
    rows = load_judged_events(FIXTURE)
    assert len(rows) >= 600
    assert all(expected_split(row) == row.split for row in rows)
    judged_types = {event.type for row in rows for event in row.events}
    assert judged_types == set(EVENT_TYPES)
    assert {row.split for row in rows} == {"tune", "eval"}


@pytest.mark.parametrize(("line", "message"), [
    ("Acme wins,stream70k,t,weather,1,Acme,,tune", "event_type: expected `none` or one of"),
    ("Acme wins,stream70k,t,earnings,2,Acme,,tune", "polarity: expected -1, 0 or 1, got '2'"),
    ("Acme wins,stream70k,t,earnings,1,Apex,,tune", "subject 'Apex' is not written in the headline"),
    ("Acme wins,stream70k,t,none,1,,,tune", "a `none` row has no polarity"),
    ("Acme wins,stream70k,t,earnings,1,Acme,,dev", "split: expected tune or eval"),
])
def test_a_bad_row_is_named_with_its_line(tmp_path: Path, line: str, message: str) -> None:
    path = tmp_path / "judged.csv"
    path.write_text(HEADER + line + "\n", encoding="utf-8")
    with pytest.raises(JudgedEventsFileError, match=f"{path}:2: {message}".replace("(", r"\(").replace(")", r"\)")
                       .replace("`", "`")):
        load_judged_events(path)


def test_scores_count_types_polarity_subjects_and_brokers_taken_for_subjects() -> None:
    headlines = [
        JudgedEventHeadline("UBS Maintains Buy on Apple, Lowers Price Target", "stream70k", "t", "eval", (
            JudgedEvent("rating_maintain", 0, "Apple", "UBS"), JudgedEvent("price_target_cut", -1, "Apple", "UBS"))),
        JudgedEventHeadline("Fed holds rates", "reuters2007", "t", "eval", ()),
    ]
    predicted = [[FinancialEvent("rating_maintain", 0, subject="UBS"), FinancialEvent("price_target_cut", 1,
                                                                                      subject="Apple")],
                 [FinancialEvent("legal", -1)]]
    report = score_events(headlines, predicted)
    assert report["per_type"]["rating_maintain"]["f1"] == 1.0
    assert report["per_type"]["legal"]["precision"] == 0.0
    assert report["polarity_accuracy"] == 0.5  # the cut read as a raise
    assert report["subject_accuracy"] == 0.5 and report["broker_as_subject"] == 1
    assert same_company("Agilent", "Agilent Technologies") and not same_company("UBS", "Apple")


def test_estimate_agreement_counts_only_headlines_whose_figures_all_point_one_way() -> None:
    rows = [("Acme Q1 EPS $0.40 vs $0.50 Est", "negative"),
            ("Acme Q2 EPS $0.60 vs $0.50 Est", "neutral"),
            ("Acme Q3 EPS $0.50 vs $0.50 Est", "positive"),  # in line: not counted
            ("Acme shares rise", "positive")]
    report = estimate_agreement(rows)
    assert report["estimate_headlines"] == 2 and report["agreement"] == 0.5


def test_event_metrics_are_per_type_with_polarity_on_agreed_types() -> None:
    types = ("earnings", "legal")
    gold = [[1, 0], [0, 1], [0, 0]]  # negative earnings; negative legal; nothing
    predicted = [[3, 0], [0, 0], [0, 1]]  # earnings found with the wrong polarity; legal missed, then invented
    metrics = event_metrics(gold, predicted, types)
    assert metrics["per_type"]["earnings"]["f1"] == 1.0 and metrics["per_type"]["legal"]["f1"] == 0.0
    assert metrics["macro_f1"] == 0.5 and metrics["polarity_accuracy"] == 0.0


def test_the_head_threshold_is_the_one_with_the_best_tune_macro_f1_and_ties_keep_the_head_quieter() -> None:
    """A head that is sure of wrong events (a share move on every headline at p 0.93) is silenced on tune."""
    from types import SimpleNamespace

    from model.events.extract import extract_events

    rows = [row for row in load_judged_events(FIXTURE) if row.split == "tune"]
    predictor = SimpleNamespace(event_head_threshold=0.8)

    def extract(texts: list[str]) -> list[list[FinancialEvent]]:
        noisy = predictor.event_head_threshold <= 0.93
        return [extract_events(text) + ([FinancialEvent("share_move", -1)] if noisy else []) for text in texts]

    fitted = fit_head_threshold(rows, predictor, extract)
    assert fitted["event_head_threshold"] == 1.01 and predictor.event_head_threshold == 1.01
    scores = fitted["tune_macro_f1"]
    assert scores["0.8"] < scores["0.95"] == scores["1.01"]  # 0.95 ties the rules alone: the higher one wins
