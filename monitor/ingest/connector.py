"""What a connector is: one source of news that hands NewsItems (and dead letters) to an outlet.

Every connector under monitor/ingest has the same shape, whatever it reads:

    connector = FeedPoller(urls, states, state_file, interval_s)   # built by its `finsent ingest` command
    report = run_on_kafka(settings, connector)                     # the command's one line to Kafka
    report.sent                                                    # and whatever else its report says

- a `name`: its `finsent ingest <name>` command, and the stage its dead letters
  name (`ingest-<name>`);
- `run(outlet)`: read the source, make NewsItems (monitor.contract; bad input
  becomes a DeadLetter, as `monitor.wire.parse_item` makes them), hand each to
  `outlet.send` / `outlet.dead_letter`, call `outlet.flush()` before
  remembering anything as delivered (RSS state), and return a report with at
  least `sent`.

A connector knows no Kafka: the outlet does. `run_on_kafka` is the outlet of
the commands (the news and dead-letter topics of the settings, through
monitor.wire's producer); a test passes a list. The connectors now:
`CorpusReplay` (monitor/ingest/replay.py, also what monitor/ingest/live_segment.py's
`live_segment_replay` makes), `FeedPoller` (rss.py) and `JsonLines` (jsonl.py);
tests/unit/test_ingest_connectors.py checks that each one is a Connector.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol, TypeVar, runtime_checkable

if TYPE_CHECKING:
    from kafka import KafkaProducer

    from kernel.settings import Settings
    from monitor.contract import NewsItem
    from monitor.wire import DeadLetter


class Outlet(Protocol):
    """Where a connector's items go: the news topic and the dead-letter topic (or a test's lists)."""

    def send(self, item: NewsItem) -> object: ...

    def dead_letter(self, letter: DeadLetter) -> object: ...

    def flush(self) -> None:
        """Return once everything sent so far is delivered."""


class ConnectorReport(Protocol):
    """What a run says (ReplayReport, JsonlReport, FeedReport): at least how many items it sent."""

    @property
    def sent(self) -> int: ...


ReportT_co = TypeVar("ReportT_co", bound=ConnectorReport, covariant=True)
ReportT = TypeVar("ReportT", bound=ConnectorReport)


@runtime_checkable
class Connector(Protocol[ReportT_co]):
    """One source of news: `run` hands its items to the outlet and returns a report."""

    @property
    def name(self) -> str:
        """The `finsent ingest` command that runs it; its dead letters' stage is `ingest-<name>`."""
        ...

    def run(self, outlet: Outlet) -> ReportT_co: ...


class KafkaOutlet:
    """The outlet of the `finsent ingest` commands: a producer and the topics of the settings."""

    def __init__(self, producer: KafkaProducer, news_topic: str, dead_letter_topic: str, stage: str) -> None:
        self.producer, self.news_topic, self.dead_letter_topic, self.stage = (producer, news_topic,
                                                                              dead_letter_topic, stage)

    def send(self, item: NewsItem) -> object:
        from monitor.wire import send_item

        return send_item(self.producer, self.news_topic, item)

    def dead_letter(self, letter: DeadLetter) -> object:
        from monitor.wire import send_dead_letter

        return send_dead_letter(self.producer, self.dead_letter_topic, letter, stage=self.stage)

    def flush(self) -> None:
        self.producer.flush()


def run_on_kafka(settings: Settings, connector: Connector[ReportT]) -> ReportT:
    """Run a connector onto the settings' news topic (created if missing) and dead-letter topic; everything it
    sent is delivered when this returns. The producer is closed however the run ends."""
    from monitor.wire import ensure_topics, make_producer, news_topics

    ensure_topics(settings, news_topics(settings))
    producer = make_producer(settings)
    try:
        report = connector.run(KafkaOutlet(producer, settings.news_topic, settings.dead_letter_topic,
                                           stage=f"ingest-{connector.name}"))
        producer.flush()
    finally:
        producer.close()
    return report


__all__ = ["Connector", "ConnectorReport", "KafkaOutlet", "Outlet", "run_on_kafka"]
