"""Small page helpers: range totals and the firing-alerts banner."""

from __future__ import annotations

import pandas as pd

from dashboards.ui import firing_banner, series_totals


def alerts_frame(*rows: tuple[str, str, dict[str, str], bool]) -> pd.DataFrame:
    return pd.DataFrame([{"rule_name": rule, "status": status, "labels": labels, "silenced": silenced}
                         for rule, status, labels, silenced in rows],
                        columns=["rule_name", "status", "labels", "silenced"])


def test_the_banner_names_each_firing_series_and_skips_pending_ones() -> None:
    frame = alerts_frame(
        ("ticker-sentiment-drop", "firing", {"alertname": "ticker-sentiment-drop", "scope": "ticker",
                                             "ticker": "AAPL", "severity": "critical"}, False),
        ("negative-burst", "pending", {"alertname": "negative-burst", "ticker": "TSLA"}, False),
        ("market-negative-drift", "firing", {"alertname": "market-negative-drift"}, True))
    assert firing_banner(frame) == ("**2 alerts firing**: ticker-sentiment-drop (ticker=AAPL), "
                                    "market-negative-drift 🔕.")


def test_no_banner_without_a_firing_alert() -> None:
    assert firing_banner(alerts_frame()) is None
    assert firing_banner(alerts_frame(("negative-burst", "pending", {"ticker": "TSLA"}, False))) is None


def test_a_long_list_is_cut_with_a_count() -> None:
    frame = alerts_frame(*[(f"rule-{i}", "firing", {"ticker": f"T{i}"}, False) for i in range(7)])
    banner = firing_banner(frame, limit=5)
    assert banner is not None and banner.startswith("**7 alerts firing**") and banner.endswith("and 2 more.")


def test_range_totals_count_sentiment_per_story() -> None:
    series = pd.DataFrame({"article_count": [3, 1], "story_count": [2, 1], "score_sum": [-1.2, 0.3],
                           "negative_count": [2, 0]})
    totals = series_totals(series)
    assert totals["articles"] == 4 and totals["stories"] == 3
    assert totals["mean"] == (-1.2 + 0.3) / 3
    assert totals["negative"] == 2 / 3
    empty = series_totals(series.iloc[0:0])
    assert (empty["articles"], empty["mean"], empty["negative"]) == (0, None, None)
