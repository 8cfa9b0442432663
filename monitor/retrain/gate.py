"""The promotion gate: should a freshly trained candidate replace the live model?

Pure functions over per-task scores (one number per task, higher is better,
e.g. accuracy for topic and sentiment, entity F1 for NER), so the rule can be
read, unit-tested and explained in one place:

- the target metric must improve by more than `min_improvement` (a tie is not
  an improvement: swapping models costs a reload and churns stored outputs);
- no task may fall by more than `tolerance` (a better mean bought by breaking
  one task is a regression for whoever relies on that task);
- a task the live model has no score for cannot regress; a task the candidate
  lost (scored for live, missing for the candidate) is a regression.

With no live model the candidate is promoted (something must serve).

    from monitor.retrain.gate import GatePolicy, decide
    decision = decide(live={"topic": 0.80}, candidate={"topic": 0.82}, policy=GatePolicy())
    decision.promote, decision.reason
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from statistics import fmean

MEAN_TARGET = "mean"  # the mean of the per-task primary metrics


@dataclass(frozen=True)
class GatePolicy:
    """How strict the gate is; each field is a `finsent retrain` option."""

    target: str = MEAN_TARGET  # "mean", or a task name such as "sentiment"
    tolerance: float = 0.01  # largest allowed drop of any one task (absolute, e.g. 0.01 = one point)
    min_improvement: float = 0.0  # the target must rise by strictly more than this

    def __post_init__(self) -> None:
        if self.tolerance < 0:
            raise ValueError(f"tolerance must be >= 0, got {self.tolerance}")
        if self.min_improvement < 0:
            raise ValueError(f"min_improvement must be >= 0, got {self.min_improvement}")


@dataclass(frozen=True)
class TaskVerdict:
    """One row of the summary table."""

    task: str
    live: float | None
    candidate: float | None
    delta: float | None
    verdict: str  # better | same | worse (within tolerance) | regressed | new | missing


@dataclass(frozen=True)
class GateDecision:
    promote: bool
    reason: str
    target: str
    live_target: float | None
    candidate_target: float | None
    tasks: list[TaskVerdict] = field(default_factory=list)

    @property
    def status(self) -> str:
        """The model_versions status the candidate gets."""
        return "promoted" if self.promote else "rejected"


def target_value(scores: Mapping[str, float], target: str, tasks: list[str] | None = None) -> float | None:
    """The target metric of one model: one task's score or the mean over `tasks` (default: all scored)."""
    if target != MEAN_TARGET:
        return scores.get(target)
    wanted = [scores[t] for t in (tasks if tasks is not None else sorted(scores)) if t in scores]
    return fmean(wanted) if wanted else None


def _verdict(live: float | None, candidate: float | None, tolerance: float) -> str:
    if candidate is None:
        return "missing"
    if live is None:
        return "new"
    delta = candidate - live
    if delta > 0:
        return "better"
    if delta == 0:
        return "same"
    return "regressed" if -delta > tolerance else "worse"


def compare_tasks(live: Mapping[str, float], candidate: Mapping[str, float], tolerance: float) -> list[TaskVerdict]:
    """Per task (sorted by name): both scores, the change and its verdict."""
    rows = []
    for task in sorted(set(live) | set(candidate)):
        old, new = live.get(task), candidate.get(task)
        delta = None if old is None or new is None else new - old
        rows.append(TaskVerdict(task, old, new, delta, _verdict(old, new, tolerance)))
    return rows


def decide(live: Mapping[str, float] | None, candidate: Mapping[str, float], policy: GatePolicy) -> GateDecision:
    """Promote or reject `candidate` against `live` (None: no live model), with the reason in words."""
    if not candidate:
        return GateDecision(False, "candidate has no evaluation scores", policy.target, None, None)
    if policy.target != MEAN_TARGET and policy.target not in candidate:
        return GateDecision(False, f"target task {policy.target!r} has no candidate score "
                                   f"(scored: {', '.join(sorted(candidate))})", policy.target, None, None)
    if live is None:
        value = target_value(candidate, policy.target)
        return GateDecision(True, "no live model: the first candidate is promoted", policy.target, None, value,
                            compare_tasks({}, candidate, policy.tolerance))

    rows = compare_tasks(live, candidate, policy.tolerance)
    # Compare the target on the tasks both models were scored on, so a task new to
    # the candidate cannot move the mean by itself.
    shared = [t for t in sorted(candidate) if t in live]
    live_value = target_value(live, policy.target, shared)
    candidate_value = target_value(candidate, policy.target, shared)

    problems = []
    for row in rows:
        if row.verdict == "missing":
            problems.append(f"task {row.task} has no candidate score (live {row.live:.4f})")
        elif row.verdict == "regressed":
            problems.append(f"task {row.task} regressed by {-row.delta:.4f} "  # type: ignore[operator]
                            f"({row.live:.4f} -> {row.candidate:.4f}), beyond the tolerance {policy.tolerance:.4f}")
    if live_value is None or candidate_value is None:
        problems.append(f"target {policy.target!r} cannot be compared: no task scored for both models")
    elif candidate_value - live_value <= policy.min_improvement:
        change = "did not change" if candidate_value == live_value else (
            f"moved by {candidate_value - live_value:+.4f}")
        problems.append(f"target {policy.target} {change} ({live_value:.4f} -> {candidate_value:.4f}); "
                        f"it must rise by more than {policy.min_improvement:.4f}")
    if problems:
        return GateDecision(False, "rejected: " + "; ".join(problems), policy.target, live_value, candidate_value,
                            rows)
    assert live_value is not None and candidate_value is not None  # else a problem above says so
    return GateDecision(True, f"promoted: target {policy.target} improved by {candidate_value - live_value:+.4f} "
                              f"({live_value:.4f} -> {candidate_value:.4f}), no task beyond the tolerance "
                              f"{policy.tolerance:.4f}", policy.target, live_value, candidate_value, rows)
