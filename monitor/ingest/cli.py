"""`finsent ingest ...`: the connectors' command line (replay, live-segment, rss, jsonl).

Each command reads the settings, builds its connector (monitor/ingest/connector.py) and runs it onto Kafka with
`run_on_kafka`; what it prints is the connector's report.
"""

from __future__ import annotations

import json
import logging
import sys
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from kernel.settings import Settings, get_settings

if TYPE_CHECKING:
    from monitor.ingest.replay import CorpusReplay

log = logging.getLogger(__name__)


def parse_interval(value: str) -> float:
    """``90``, ``90s``, ``5m``, ``1h`` -> seconds."""
    text = value.strip().lower()
    units = {"s": 1, "m": 60, "h": 3600}
    factor = units.get(text[-1:], None)
    number = text[:-1] if factor else text
    try:
        seconds = float(number) * (factor or 1)
    except ValueError:
        raise click.BadParameter(f"expected e.g. 60s, 5m or 1h, got {value!r}") from None
    if seconds <= 0:
        raise click.BadParameter(f"must be positive, got {value!r}")
    return seconds


@click.group()
def ingest() -> None:
    """Put news on the news topic (FINSENT_NEWS_TOPIC)."""


def parse_when(value: str | None) -> datetime | None:
    """An ISO 8601 time bound (no offset: UTC), or None."""
    from monitor.ingest.replay import parse_timestamp

    if value is None:
        return None
    try:
        return parse_timestamp(value)
    except ValueError:
        raise click.BadParameter(f"expected an ISO 8601 time such as 2018-11-15T16:20-05:00, got {value!r}") from None


def send_items(settings: Settings, connector: CorpusReplay, desc: str = "replay") -> dict[str, Any]:
    """Run a replay connector (its items in replay order, each sent when due) onto the news topic, with a
    progress bar; the JSON summary line."""
    from tqdm import tqdm

    from monitor.ingest.connector import run_on_kafka

    with tqdm(total=len(connector.items), unit="item", desc=desc) as bar:
        report = run_on_kafka(settings, replace(connector, progress=bar.update))
    return {"sent": report.sent, "seconds": round(report.seconds, 3),
            "items_per_s": round(report.items_per_second, 1), "topic": settings.news_topic}


def default_corpus(settings: Settings) -> Path:
    return settings.data_dir / "stream" / "financial_headlines_stream.csv"


@ingest.command()
@click.argument("file", required=False, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--speed", default="60x", show_default=True, help="Time compression (60x, 1x, ...) or max.")
@click.option("--limit", type=click.IntRange(min=1), help="Send only the first N items (in time order).")
@click.option("--from", "start", help="Only items published at or after this ISO 8601 time (no offset: UTC).")
@click.option("--to", "end", help="Only items published before this ISO 8601 time.")
@click.option("--without-live-segment", is_flag=True,
              help="Leave out the live segment's items. Not needed for the live segment to be news when it "
                   "comes: a copy more than a week from the others is a new story.")
@click.option("--rebase-to-now", is_flag=True,
              help="Publish the items from now on, their spacing divided by --speed, with new ids: old news "
                   "inside the alerter's current windows.")
@click.option("--stamp-now", is_flag=True,
              help="Set published_at to the send time (ids unchanged): makes the worker's latency figures "
                   "measure the pipeline. For benchmarks only.")
def replay(file: Path | None, speed: str, limit: int | None, start: str | None, end: str | None,
           without_live_segment: bool, rebase_to_now: bool, stamp_now: bool) -> None:
    """Replay a headline corpus in time order.

    FILE is a CSV or JSONL corpus (default: <data_dir>/stream/financial_headlines_stream.csv).
    """
    from monitor.ingest.live_segment import in_segment
    from monitor.ingest.replay import (
        CorpusError,
        CorpusReplay,
        in_replay_order,
        in_window,
        merge_repeats,
        parse_speed,
        read_corpus,
        rebased,
    )

    if rebase_to_now and stamp_now:
        raise click.UsageError("--rebase-to-now and --stamp-now both set published_at: choose one")
    settings = get_settings()
    path = file or default_corpus(settings)
    if not path.exists():
        raise click.ClickException(f"no corpus at {path} (set FINSENT_DATA_DIR or pass FILE)")
    window_start, window_end = parse_when(start), parse_when(end)
    try:
        rate = parse_speed(speed)
        items = in_replay_order(merge_repeats(read_corpus(path)))
    except (ValueError, CorpusError) as error:
        raise click.ClickException(str(error)) from None
    items = in_window(items, window_start, window_end)
    if without_live_segment:
        items = [item for item in items if not in_segment(item)]
    items = items[:limit] if limit else items
    if rebase_to_now:  # already spaced by the speed: sending at 1x puts each one out at its new published_at
        items, rate = rebased(items, datetime.now(UTC), rate), (1.0 if rate is not None else None)
    click.echo(json.dumps(send_items(settings, CorpusReplay(items, rate, stamp_now=stamp_now))))


@ingest.command("live-segment")
@click.argument("file", required=False, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--speed", default=None, help="Time compression (default: the segment's, 250x).")
@click.option("--wait-for-worker", "wait_for", default="60m", show_default=True,
              help="First wait up to this long (0s: not at all) for the worker group to catch up.")
@click.option("--max-lag", type=click.IntRange(min=0), default=200, show_default=True,
              help="Caught up: at most this many news messages not yet committed by the worker group.")
def live_segment(file: Path | None, speed: str | None, wait_for: str, max_lag: int) -> None:
    """Replay the live segment (NVIDIA's guidance cut, Nov 2018) published from now on.

    See monitor/ingest/live_segment.py. Off with FINSENT_LIVE_SEGMENT=0.
    """
    from monitor.ingest.live_segment import (
        LIVE_SEGMENT,
        consumer_lag,
        live_segment_replay,
        segment_items,
        wait_until_caught_up,
    )
    from monitor.ingest.replay import CorpusError, parse_speed

    settings = get_settings()
    if not settings.live_segment:
        click.echo("live segment off (FINSENT_LIVE_SEGMENT=0)", err=True)
        return
    path = file or default_corpus(settings)
    if not path.exists():
        raise click.ClickException(f"no corpus at {path} (set FINSENT_DATA_DIR or pass FILE)")
    try:
        rate = parse_speed(speed) if speed else LIVE_SEGMENT.speed
        items = segment_items(path)
    except (ValueError, CorpusError) as error:
        raise click.ClickException(str(error)) from None
    if not items:
        raise click.ClickException(f"{path} has no rows in the live segment {LIVE_SEGMENT.start.isoformat()} .. "
                                   f"{LIVE_SEGMENT.end.isoformat()}")
    timeout_s = 0.0 if wait_for.strip() in ("0", "0s") else parse_interval(wait_for)
    if timeout_s > 0:
        wait_until_caught_up(lambda: consumer_lag(settings), max_lag, timeout_s,
                             say=lambda line: click.echo(line, err=True))
    connector = live_segment_replay(items, datetime.now(UTC), rate)
    items = list(connector.items)
    click.echo(f"live segment {LIVE_SEGMENT.name}: {len(items)} items from "
               f"{items[0].published_at:%H:%M:%S} to {items[-1].published_at:%H:%M:%S} UTC", err=True)
    summary = send_items(settings, connector, desc="live segment")
    click.echo(json.dumps({"segment": LIVE_SEGMENT.name, **summary}))


@ingest.command()
@click.argument("urls", nargs=-1, required=True)
@click.option("--interval", default="60s", show_default=True, help="Time between polls of each feed.")
@click.option("--once", is_flag=True, help="Poll every feed once and exit.")
@click.option("--source", help="Source name for the items (default: the feed's host name).")
@click.option("--timeout", "http_timeout", default=20.0, show_default=True, help="HTTP timeout in seconds.")
def rss(urls: tuple[str, ...], interval: str, once: bool, source: str | None, http_timeout: float) -> None:
    """Poll RSS/Atom feeds.

    Conditional GETs; entries de-duplicated across polls and restarts.
    """
    from monitor.ingest.connector import run_on_kafka
    from monitor.ingest.rss import FeedPoller, PollResult, load_states

    logging.getLogger("httpx").setLevel(logging.WARNING)  # one INFO line per request otherwise
    settings = get_settings()
    seconds = parse_interval(interval)
    state_file = settings.state_dir / "ingest" / "rss-state.json"

    def polled(result: PollResult) -> None:
        for problem in result.problems:
            click.echo(f"{result.url}: skipped {problem}", err=True)
        click.echo(json.dumps({"feed": result.url, "status": result.status, "sent": len(result.items)}))

    run_on_kafka(settings, FeedPoller(urls, load_states(state_file), state_file, seconds, once=once, source=source,
                                      http_timeout=http_timeout, on_poll=polled,
                                      on_error=lambda url, error: click.echo(f"{url}: {error}", err=True)))


@ingest.command()
@click.argument("file", default="-", type=click.File("rb"))
def jsonl(file: click.utils.LazyFile) -> None:
    """Send JSON lines from FILE or stdin (-).

    Bad lines are reported with their line number and sent to the dead-letter
    topic; the exit status is 1 when any line was bad.
    """
    from monitor.ingest.connector import run_on_kafka
    from monitor.ingest.jsonl import JsonLines

    settings = get_settings()
    name = "stdin" if file.name in ("-", "<stdin>") else str(file.name)
    report = run_on_kafka(settings, JsonLines(file, name))
    for problem in report.problems:
        click.echo(f"{name}: {problem}", err=True)
    click.echo(json.dumps({"sent": report.sent, "dead_lettered": report.dead_lettered,
                           "topic": settings.news_topic, "dead_letter_topic": settings.dead_letter_topic}))
    if report.dead_lettered:
        sys.exit(1)
