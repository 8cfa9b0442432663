"""The table a retraining run ends with: per task, live vs candidate, the change and the verdict.

    task              live  candidate    delta  verdict
    ner             0.6120     0.6350  +0.0230  better
    sentiment       0.7810     0.7750  -0.0060  worse (within tolerance)
    ...
    mean            0.7012     0.7188  +0.0176
    decision: PROMOTED v20261129-071203-ab12 - promoted: target mean improved by ...
"""

from __future__ import annotations

from monitor.retrain.gate import GateDecision

VERDICT_WORDS = {"worse": "worse (within tolerance)", "regressed": "REGRESSED", "new": "new task",
                 "missing": "MISSING"}


def _number(value: float | None) -> str:
    return "-" if value is None else f"{value:.4f}"


def _delta(value: float | None) -> str:
    return "-" if value is None else f"{value:+.4f}"


def summary_table(decision: GateDecision, candidate_version: str | None) -> str:
    """Fixed-width lines, one per task, then the target and the decision."""
    rows = [("task", "live", "candidate", "delta", "verdict")]
    for task in decision.tasks:
        rows.append((task.task, _number(task.live), _number(task.candidate), _delta(task.delta),
                     VERDICT_WORDS.get(task.verdict, task.verdict)))
    target_delta = (None if decision.live_target is None or decision.candidate_target is None
                    else decision.candidate_target - decision.live_target)
    rows.append((decision.target, _number(decision.live_target), _number(decision.candidate_target),
                 _delta(target_delta), "target"))
    widths = [max(len(row[i]) for row in rows) for i in range(5)]
    lines = [f"{r[0]:<{widths[0]}}  {r[1]:>{widths[1]}}  {r[2]:>{widths[2]}}  {r[3]:>{widths[3]}}  {r[4]}"
             for r in rows]
    verdict = "PROMOTED" if decision.promote else "REJECTED"
    lines.append(f"decision: {verdict} {candidate_version or ''} - {decision.reason}".replace("  ", " "))
    return "\n".join(lines)
