"""The jsonl connector routes each line to the news topic or, with its line number, to dead letters."""

from __future__ import annotations

import json

from monitor.contract import NewsItem
from monitor.ingest.jsonl import ingest_lines
from monitor.wire import DeadLetter


def test_good_lines_are_sent_and_bad_lines_dead_lettered_with_their_line_number() -> None:
    good = json.dumps({"source": "reuters", "headline": "ECB raises rates", "published_at": "2023-07-27T12:15:00Z"})
    lines = [good.encode() + b"\n", b"\n", b"{broken\n", b"\xff\xfe\n",
             json.dumps({"source": "reuters", "headline": "x", "published_at": "yesterday"}).encode()]
    sent: list[NewsItem] = []
    dead: list[DeadLetter] = []
    report = ingest_lines(lines, "items.jsonl", sent.append, dead.append)
    assert [i.headline for i in sent] == ["ECB raises rates"]
    assert (report.sent, report.dead_lettered, report.blank) == (1, 3, 1)
    assert [(d.reason, d.origin) for d in dead] == [
        ("malformed_json", "items.jsonl:3"), ("not_utf8", "items.jsonl:4"), ("schema_violation", "items.jsonl:5")]
    assert report.problems[0].startswith("line 3: malformed_json: line 1 column 2")
