"""`finsent ingest ...`: the connectors' command line (replay, rss, jsonl)."""

from __future__ import annotations

import json
import logging
import sys
import time
from pathlib import Path

import click

from monitor.settings import get_settings

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


@ingest.command()
@click.argument("file", required=False, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--speed", default="60x", show_default=True, help="Time compression (60x, 1x, ...) or max.")
@click.option("--limit", type=click.IntRange(min=1), help="Send only the first N items (in time order).")
@click.option("--stamp-now", is_flag=True,
              help="Set published_at to the send time (ids unchanged): makes the worker's latency figures "
                   "measure the pipeline. For benchmarks only.")
def replay(file: Path | None, speed: str, limit: int | None, stamp_now: bool) -> None:
    """Replay a headline corpus in time order.

    FILE is a CSV or JSONL corpus (default: <data_dir>/stream/financial_headlines_stream.csv).
    """
    from tqdm import tqdm

    from monitor.ingest.producer import ensure_topics, make_producer, news_topics, send_item
    from monitor.ingest.replay import CorpusError, in_replay_order, merge_repeats, parse_speed, read_corpus
    from monitor.ingest.replay import replay as run_replay

    settings = get_settings()
    path = file or settings.data_dir / "stream" / "financial_headlines_stream.csv"
    if not path.exists():
        raise click.ClickException(f"no corpus at {path} (set FINSENT_DATA_DIR or pass FILE)")
    try:
        rate = parse_speed(speed)
        items = in_replay_order(merge_repeats(read_corpus(path)))
    except (ValueError, CorpusError) as error:
        raise click.ClickException(str(error)) from None
    items = items[:limit] if limit else items
    ensure_topics(settings, news_topics(settings))
    producer = make_producer(settings)
    try:
        with tqdm(total=len(items), unit="item", desc="replay") as bar:
            report = run_replay(items, rate, lambda item: send_item(producer, settings.news_topic, item),
                                stamp_now=stamp_now, progress=bar.update)
        producer.flush()
    finally:
        producer.close()
    click.echo(json.dumps({"sent": report.sent, "seconds": round(report.seconds, 3),
                           "items_per_s": round(report.items_per_second, 1), "topic": settings.news_topic}))


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
    import httpx

    from monitor.ingest.producer import ensure_topics, make_producer, news_topics, send_item
    from monitor.ingest.rss import FeedState, load_states, poll_feed, remember, save_states

    logging.getLogger("httpx").setLevel(logging.WARNING)  # one INFO line per request otherwise
    settings = get_settings()
    seconds = parse_interval(interval)
    state_file = settings.state_dir / "ingest" / "rss-state.json"
    states = load_states(state_file)
    ensure_topics(settings, news_topics(settings))
    producer = make_producer(settings)
    try:
        with httpx.Client(timeout=http_timeout) as client:
            while True:
                for url in urls:
                    state = states.setdefault(url, FeedState())
                    try:
                        result = poll_feed(client, url, state, source)
                    except httpx.HTTPError as error:
                        click.echo(f"{url}: {error}", err=True)
                        continue
                    for item in result.items:
                        send_item(producer, settings.news_topic, item)
                    producer.flush()  # delivered before we remember them as seen
                    remember(state, result)
                    save_states(state_file, states)
                    for problem in result.problems:
                        click.echo(f"{url}: skipped {problem}", err=True)
                    click.echo(json.dumps({"feed": url, "status": result.status, "sent": len(result.items)}))
                if once:
                    break
                time.sleep(seconds)
    finally:
        producer.close()


@ingest.command()
@click.argument("file", default="-", type=click.File("rb"))
def jsonl(file: click.utils.LazyFile) -> None:
    """Send JSON lines from FILE or stdin (-).

    Bad lines are reported with their line number and sent to the dead-letter
    topic; the exit status is 1 when any line was bad.
    """
    from monitor.ingest.jsonl import ingest_lines
    from monitor.ingest.producer import ensure_topics, make_producer, news_topics, send_dead_letter, send_item

    settings = get_settings()
    ensure_topics(settings, news_topics(settings))
    producer = make_producer(settings)
    name = "stdin" if file.name in ("-", "<stdin>") else str(file.name)
    try:
        report = ingest_lines(
            file, name,
            send=lambda item: send_item(producer, settings.news_topic, item),
            send_dead_letter=lambda letter: send_dead_letter(producer, settings.dead_letter_topic, letter,
                                                             stage="ingest-jsonl"),
        )
        producer.flush()
    finally:
        producer.close()
    for problem in report.problems:
        click.echo(f"{name}: {problem}", err=True)
    click.echo(json.dumps({"sent": report.sent, "dead_lettered": report.dead_lettered,
                           "topic": settings.news_topic, "dead_letter_topic": settings.dead_letter_topic}))
    if report.dead_lettered:
        sys.exit(1)
