"""The `finsent` command line.

Subcommands live beside the code they drive and are imported only when used,
so `finsent --help` stays fast and a missing heavy dependency (torch) cannot
break unrelated commands such as `finsent stack up`.
"""

from __future__ import annotations

import importlib
import logging
import sys

import click

from kernel.settings import SettingsError, get_settings
from monitor import __version__

# name -> "module:attribute" of a click command or group, loaded on demand.
SUBCOMMANDS: dict[str, tuple[str, str]] = {
    "stack": ("monitor.stack.cli:stack", "Start, stop or inspect the local Kafka broker and PostgreSQL."),
    "db": ("monitor.storage.cli:db", "Apply or revert database migrations."),
    "config": ("monitor.config_cli:config", "Show the effective configuration."),
    "alerts": ("monitor.alerts.cli:alerts", "Alert rules check, alerts, silences, webhook deliveries, replay."),
    "alerter": ("monitor.alerts.cli:alerter", "Evaluate alert rules continuously and deliver webhook notifications."),
    "ingest": ("monitor.ingest.cli:ingest", "Put news on the news topic: replay a corpus, poll RSS, read JSON lines."),
    "worker": ("monitor.stream.cli:worker", "Run the stream worker: news topic -> model -> PostgreSQL."),
    "data": ("finsent.data_commands:data", "List, fetch and count the training datasets."),
    "train": ("finsent.model_commands:train", "Train the joint model and write a new registry version."),
    "models": ("finsent.model_commands:models", "List, promote, roll back or ensure model versions."),
    "evaluate": ("finsent.model_commands:evaluate", "Score a model version on a labelled dataset file."),
    "bench": ("finsent.model_commands:bench", "Benchmarks printing JSON: model, pipeline, baselines, onnx, linking."),
    "dashboard": ("finsent.dashboard_commands:dashboard",
                  "Run the analysts' dashboard (Streamlit), its role and benchmark."),
    "retrain": ("monitor.retrain.cli:retrain", "Retrain with analysts' labels; promote only a better model."),
    "scheduler": ("monitor.retrain.cli:scheduler", "Run retraining on a cron schedule (one run at a time)."),
    "background-train": ("monitor.retrain.background:background_train",
                         "Train the full profile in the background (resumable); promote it only if better."),
}


class LazyGroup(click.Group):
    """A click group whose subcommands are imported when invoked (click docs pattern)."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(SUBCOMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in SUBCOMMANDS:
            return None
        module_name, attribute = SUBCOMMANDS[cmd_name][0].split(":")
        return getattr(importlib.import_module(module_name), attribute)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, SUBCOMMANDS[name][1]) for name in self.list_commands(ctx)]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="finsent")
def main() -> None:
    """finsent: streaming financial-news sentiment monitor."""
    try:
        settings = get_settings()
    except SettingsError as error:
        click.echo(str(error), err=True)
        sys.exit(2)
    logging.basicConfig(level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # Client libraries log every connection at INFO; keep their warnings only.
    for noisy in ("kafka", "aiokafka"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, logging.getLevelName(settings.log_level)))


if __name__ == "__main__":  # pragma: no cover
    main()
