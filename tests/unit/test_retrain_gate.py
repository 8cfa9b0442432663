"""The promotion gate (pure): improvements promote, regressions and ties reject, reasons name the task."""

from __future__ import annotations

import pytest

from monitor.retrain.gate import GatePolicy, compare_tasks, decide, target_value
from monitor.retrain.summary import summary_table

LIVE = {"topic": 0.80, "sentiment": 0.70, "ner": 0.60}


def test_an_improvement_of_the_mean_with_no_regression_is_promoted() -> None:
    decision = decide(LIVE, {"topic": 0.82, "sentiment": 0.70, "ner": 0.61}, GatePolicy())
    assert decision.promote
    assert decision.status == "promoted"
    assert decision.candidate_target == pytest.approx((0.82 + 0.70 + 0.61) / 3)
    assert "improved by +0.0100" in decision.reason


def test_a_regression_beyond_the_tolerance_rejects_and_the_reason_names_the_task() -> None:
    # The mean rises (0.70 -> 0.7167) but sentiment falls by 0.03 > 0.01.
    decision = decide(LIVE, {"topic": 0.90, "sentiment": 0.67, "ner": 0.60}, GatePolicy(tolerance=0.01))
    assert not decision.promote
    assert decision.status == "rejected"
    assert "task sentiment regressed by 0.0300 (0.7000 -> 0.6700)" in decision.reason
    assert {row.task: row.verdict for row in decision.tasks} == {"ner": "same", "sentiment": "regressed",
                                                                 "topic": "better"}


def test_a_drop_within_the_tolerance_is_allowed() -> None:
    decision = decide(LIVE, {"topic": 0.85, "sentiment": 0.695, "ner": 0.60}, GatePolicy(tolerance=0.01))
    assert decision.promote
    assert {row.task: row.verdict for row in decision.tasks}["sentiment"] == "worse"


def test_a_tie_is_not_an_improvement() -> None:
    decision = decide(LIVE, dict(LIVE), GatePolicy())
    assert not decision.promote
    assert "target mean did not change (0.7000 -> 0.7000)" in decision.reason


def test_min_improvement_requires_a_margin() -> None:
    candidate = {"topic": 0.805, "sentiment": 0.70, "ner": 0.60}
    assert decide(LIVE, candidate, GatePolicy()).promote
    rejected = decide(LIVE, candidate, GatePolicy(min_improvement=0.01))
    assert not rejected.promote
    assert "it must rise by more than 0.0100" in rejected.reason


def test_a_single_task_target_ignores_the_others_but_not_their_regressions() -> None:
    policy = GatePolicy(target="sentiment", tolerance=0.05)
    assert decide(LIVE, {"topic": 0.78, "sentiment": 0.72, "ner": 0.60}, policy).promote
    rejected = decide(LIVE, {"topic": 0.70, "sentiment": 0.72, "ner": 0.60}, policy)
    assert "task topic regressed by 0.1000" in rejected.reason


def test_a_task_the_candidate_lost_is_a_regression_and_a_new_one_does_not_move_the_mean() -> None:
    lost = decide(LIVE, {"topic": 0.9, "sentiment": 0.9}, GatePolicy())
    assert not lost.promote
    assert "task ner has no candidate score" in lost.reason
    added = decide({"topic": 0.8}, {"topic": 0.8, "sentiment": 0.99}, GatePolicy())
    assert not added.promote  # topic tied; sentiment (new) is not compared
    assert {row.task: row.verdict for row in added.tasks}["sentiment"] == "new"


def test_without_a_live_model_the_candidate_is_promoted() -> None:
    decision = decide(None, {"topic": 0.1}, GatePolicy())
    assert decision.promote
    assert decision.reason.startswith("no live model")


def test_an_unscored_candidate_or_unknown_target_is_rejected() -> None:
    assert not decide(LIVE, {}, GatePolicy()).promote
    unknown = decide(LIVE, {"topic": 0.9}, GatePolicy(target="ner"))
    assert "target task 'ner' has no candidate score" in unknown.reason


def test_policy_rejects_negative_bounds() -> None:
    with pytest.raises(ValueError, match="tolerance must be >= 0"):
        GatePolicy(tolerance=-0.1)


def test_target_value_and_compare_tasks() -> None:
    assert target_value({"a": 0.5, "b": 1.0}, "mean") == pytest.approx(0.75)
    assert target_value({"a": 0.5, "b": 1.0}, "mean", ["a"]) == pytest.approx(0.5)
    assert target_value({"a": 0.5}, "b") is None
    rows = compare_tasks({"a": 0.5}, {"a": 0.4}, tolerance=0.2)
    assert rows[0].delta == pytest.approx(-0.1)
    assert rows[0].verdict == "worse"


def test_summary_table_shows_each_task_and_the_decision() -> None:
    decision = decide(LIVE, {"topic": 0.90, "sentiment": 0.67, "ner": 0.60}, GatePolicy())
    table = summary_table(decision, "v20260101-000000-abcd").splitlines()
    assert table[0].split() == ["task", "live", "candidate", "delta", "verdict"]
    assert table[2].split() == ["sentiment", "0.7000", "0.6700", "-0.0300", "REGRESSED"]
    assert table[4].split()[:4] == ["mean", "0.7000", "0.7233", "+0.0233"]
    assert table[-1].startswith("decision: REJECTED v20260101-000000-abcd - rejected: task sentiment")
