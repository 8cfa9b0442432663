"""`finsent worker`: run the stream worker (see monitor/stream/worker.py)."""

from __future__ import annotations

import click


@click.command()
@click.option("--count", type=click.IntRange(min=1), help="Stop after handling at least N messages.")
@click.option("--timeout", type=click.FloatRange(min=0, min_open=True), help="Stop after S seconds.")
@click.option("--max-batch", default=64, show_default=True, type=click.IntRange(min=1),
              help="Largest micro-batch scored at once.")
@click.option("--batch-within", default=0.2, show_default=True, type=click.FloatRange(min=0.001),
              help="Caps FINSENT_BATCH_LINGER_S: the longest wait for more messages before scoring a "
                   "micro-batch, only while nothing is being scored or stored.")
def worker(count: int | None, timeout: float | None, max_batch: int, batch_within: float) -> None:
    """Consume the news topic, score with the live model, store in PostgreSQL (Ctrl-C/SIGTERM drains)."""
    from kernel.settings import get_settings
    from monitor.stream.live_model import NoLiveModel
    from monitor.stream.worker import run_worker

    try:
        run_worker(get_settings(), count, timeout, max_batch, batch_within)
    except NoLiveModel as error:
        raise click.ClickException(str(error)) from None
