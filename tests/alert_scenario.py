"""The alert tests' story: a quiet two hours for four companies, then a burst of bad Boeing news.

Shared by the engine-level test (aggregates seeded through the worker's write
path) and the end-to-end test (the same headlines through Kafka, the worker
and the model). Headlines and templates live in fixtures/alerts/headlines.json.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

from monitor.contract import NewsItem

FIXTURE = json.loads((Path(__file__).parent / "fixtures" / "alerts" / "headlines.json").read_text())
SECRET_ENV = "FINSENT_TEST_WEBHOOK_SECRET"
SECRET = "test-secret-not-for-production"
RULES_TEMPLATE = """\
global: {evaluation_interval: 30s, external_url: "http://finsent.test"}
rules:
  - name: ticker-negative-spike
    scope: {kind: ticker, keys: [AAPL, MSFT, JPM, BA]}
    window: 5m
    detector: {type: zscore, metric: negative_share, threshold: 3, baseline: 2h, min_deviation: 0.05}
    min_stories: 4
    for: 1m
    severity: critical
    annotations:
      summary: "Negative news spike on {ticker}: {value:.0%} negative vs {baseline:.0%} usual"
      description: "Top headline: {top_headline}"
route:
  receiver: hook
  group_by: [alertname, ticker]
  group_wait: 0s
  group_interval: 1m
  repeat_interval: 4h
receivers:
  - name: hook
    webhook: {url: "RECEIVER_URL", secret_env: FINSENT_TEST_WEBHOOK_SECRET, timeout: TIMEOUT, max_age: MAX_AGE}
"""


def rules_text(receiver_url: str, timeout: str = "2s", max_age: str = "1h") -> str:
    """The scenario's rules file, sending to receiver_url."""
    return RULES_TEMPLATE.replace("RECEIVER_URL", receiver_url).replace("TIMEOUT", timeout).replace("MAX_AGE", max_age)


def baseline_news(start: datetime, end: datetime) -> list[tuple[NewsItem, str]]:
    """One story a minute per company, with its sentiment: every fifth one negative (a 20% negative share)."""
    items = []
    templates = FIXTURE["baseline"]
    minute = 0
    moment = start
    while moment < end:
        for ticker, company in FIXTURE["companies"].items():
            label = "negative" if minute % 5 == 0 else ("positive" if minute % 5 in (1, 2) else "neutral")
            template = templates[label][minute % len(templates[label])]
            headline = template.format(company=company, pct=f"{1 + minute % 9}.{minute % 7}", n=minute)
            items.append((NewsItem(source="Newswire", url=f"https://news.test/{ticker}/{minute}",
                                   published_at=moment, headline=headline, tickers=[ticker]), label))
        minute += 1
        moment += timedelta(minutes=1)
    return items


def burst_news(end: datetime) -> list[NewsItem]:
    """The negative burst about one ticker, spread over the five minutes before end, plus syndicated copies."""
    headlines = FIXTURE["burst"]
    ticker = FIXTURE["burst_ticker"]
    items = [NewsItem(source="Newswire", url=f"https://news.test/burst/{i}", headline=headline, tickers=[ticker],
                      published_at=end - timedelta(minutes=5) + timedelta(seconds=i * 300 // len(headlines) + 5))
             for i, headline in enumerate(headlines)]
    items += [NewsItem(source=source, url=f"https://{source.lower()}.test/{j}", headline=headline, tickers=[ticker],
                       published_at=end - timedelta(seconds=30 + j))
              for j, (source, headline) in enumerate(FIXTURE["syndicated"])]
    return items
