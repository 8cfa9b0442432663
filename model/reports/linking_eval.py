"""Precision and recall of the entity linker on a hand-checked sample of real headlines.

The sample (a JSONL file; `finsent bench linking` passes the committed one) gives each headline's
entity spans with the correct ticker, or null for entities that are not a
listed company (the Fed, Reuters) or no longer trade (Twitter, Mellanox).
Spans are given, so this measures linking alone, not NER. Run:

    finsent bench linking --json
    python -m model.reports.linking_eval --sample FILE --json

It prints one JSON object as its last line and writes reports/linking.json.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

import click

from kernel.paths import PROJECT_ROOT
from kernel.reports import write_json_report

REPORT = PROJECT_ROOT / "reports" / "linking.json"


@dataclass
class LinkingScore:
    entities: int  # spans in the sample
    gold_linked: int  # spans whose correct answer is a ticker
    predicted_linked: int  # spans the linker gave a ticker
    correct: int  # predicted ticker == gold ticker
    precision: float  # correct / predicted_linked
    recall: float  # correct / gold_linked
    errors: list[dict[str, object]] = field(default_factory=list)


def evaluate(sample: Path, watchlist: Path | None = None) -> LinkingScore:
    """Link every gold span of the sample and score the tickers against the gold ones."""
    from model.network.linking import Gazetteer

    gazetteer = Gazetteer.default(watchlist)
    entities = gold_linked = predicted_linked = correct = 0
    errors: list[dict[str, object]] = []
    for line_number, line in enumerate(sample.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        record = json.loads(line)
        for entity in record["entities"]:
            entities += 1
            predicted = gazetteer.link(record["headline"], entity["start"], entity["end"], entity["type"])
            gold = entity["ticker"]
            gold_linked += gold is not None
            predicted_linked += predicted is not None
            if predicted is not None and predicted == gold:
                correct += 1
            elif predicted != gold:
                errors.append({"line": line_number, "text": entity["text"], "gold": gold, "predicted": predicted})
    return LinkingScore(
        entities, gold_linked, predicted_linked, correct,
        precision=round(correct / predicted_linked, 4) if predicted_linked else 0.0,
        recall=round(correct / gold_linked, 4) if gold_linked else 0.0,
        errors=errors,
    )


def linking_command(default_sample: Path | None = None) -> click.Command:
    """The `linking` command; the caller gives the sample's default (none: --sample is required)."""
    default = {"required": True} if default_sample is None else {"default": default_sample, "show_default": True}

    @click.command("linking")
    @click.option("--json", "as_json", is_flag=True, help="Print only the JSON result line.")
    @click.option("--sample", type=click.Path(exists=True, dir_okay=False, path_type=Path), **default,
                  help="Hand-checked JSONL sample.")
    @click.option("--watchlist", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
                  help="Watchlist YAML added to the gazetteer.")
    def linking(as_json: bool, sample: Path, watchlist: Path | None) -> None:
        """Measure linking precision/recall on the hand-checked headline sample."""
        score = evaluate(sample, watchlist)
        result = {"bench": "linking", "sample": str(sample), **asdict(score)}
        write_json_report(result, REPORT)
        if not as_json:
            for error in score.errors:
                click.echo(f"line {error['line']}: {error['text']!r} gold={error['gold']} "
                           f"predicted={error['predicted']}")
        summary = {key: value for key, value in result.items() if key != "errors"}
        click.echo(json.dumps(summary | {"report": str(REPORT)}))

    return linking


if __name__ == "__main__":  # pragma: no cover
    linking_command()()
