"""Backtest scoring: which alerts match which events, recall, false alarms, alerts per day, lead time."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from model.data.events import EventsFileError, load_events
from monitor.alerts.detectors.observation import Bucket
from monitor.alerts.research.backtest import (
    company_min_stories,
    count_first_day_headlines,
    first_day_evidence,
    load_event_splits,
    names_company,
    score_events,
    scores_by_split,
)
from monitor.alerts.research.replay import ReplayEvent, RuleHistory
from monitor.alerts.rules.parse import parse_rules

SAMPLE = Path(__file__).resolve().parent.parent / "fixtures" / "events" / "sample_events.yaml"


def alert(at: datetime, scope: str, key: str, event: str = "firing") -> ReplayEvent:
    return ReplayEvent(at, f"{scope}-burst", key, event, 9.0, 0.2, 6.0, {"scope": scope, scope: key})


def test_the_sample_loads_with_lower_case_aliases() -> None:
    events = load_events(SAMPLE)
    assert [e.id for e in events] == ["thomas-cook-collapse-2019", "nvidia-guidance-cut-2018", "tesla-q4-beat-2020"]
    assert events[1].aliases == ["nvidia"] and events[1].ticker == "NVDA"


@pytest.mark.parametrize(("scope", "key", "named"), [
    ("entity", "thomas cook", True), ("entity", "thomas cook group", True), ("entity", "thomas cook's", True),
    ("entity", "cook", False), ("entity", "thomas cooke", False), ("ticker", "TCG", False), ("topic", "5", False)])
def test_entity_keys_match_aliases_as_whole_words(scope: str, key: str, named: bool) -> None:
    assert names_company(load_events(SAMPLE)[0], scope, key) is named


def test_aliases_and_keys_compare_in_the_aggregates_key_form(tmp_path: Path) -> None:
    events = tmp_path / "events.yaml"
    events.write_text("events:\n  - {id: m, company: Moody's, aliases: [\"moody's\", the boeing], polarity: negative,\n"
                      "     first_headline_at: 2019-01-01T00:00:00Z, window: {from: 2019-01-01T00:00:00Z, "
                      "to: 2019-01-02T00:00:00Z}}\n")
    event = load_events(events)[0]
    assert names_company(event, "entity", "moody")  # the key form of new databases
    assert names_company(event, "entity", "moody's")  # and of older ones
    assert names_company(event, "entity", "boeing") and not names_company(event, "entity", "boeingair")
    assert not names_company(event, "entity", "moodys")


def test_tickers_match_exactly() -> None:
    nvidia = load_events(SAMPLE)[1]
    assert names_company(nvidia, "ticker", "NVDA") and not names_company(nvidia, "ticker", "NVD")


def test_scores_hits_misses_false_alarms_rate_and_lead() -> None:
    events = load_events(SAMPLE)
    fired = [
        alert(datetime(2019, 9, 20, 6, tzinfo=UTC), "entity", "thomas cook"),        # hit, lead +6 h
        alert(datetime(2019, 9, 21, 0, tzinfo=UTC), "entity", "thomas cook group"),  # same event, later
        alert(datetime(2019, 9, 30, 0, tzinfo=UTC), "entity", "thomas cook"),        # after the window: no match
        alert(datetime(2020, 1, 30, 1, tzinfo=UTC), "ticker", "TSLA"),               # on a positive control
        alert(datetime(2019, 9, 20, 7, tzinfo=UTC), "entity", "thomas cook", "resolved"),  # not a firing
    ]
    start, end = datetime(2018, 1, 1, tzinfo=UTC), datetime(2018, 1, 5, tzinfo=UTC)
    report = score_events(events, fired, start, end)
    assert (report["hits"], report["negative_events"], report["recall"]) == (1, 2, 0.5)
    assert (report["false_alarms"], report["positive_controls"]) == (1, 1)
    assert report["alerts_per_day"] == 1.0  # 4 firing alerts over 4 days
    # the Thomas Cook burst starts on a date-only headline: its lead counts in days (an alert on the first day
    # is the best there is), not in the hours between midnight stamps
    assert report["lead_hours"]["median"] is None
    assert report["lead_by_precision"]["day"]["same_day"] == 1
    outcomes = {e["id"]: e["outcome"] for e in report["events"]}
    assert outcomes == {"thomas-cook-collapse-2019": "hit", "nvidia-guidance-cut-2018": "miss",
                        "tesla-q4-beat-2020": "false_alarm"}


def test_an_inhibited_firing_is_never_notified_so_it_counts_nowhere() -> None:
    """The calendar day's event alert muted by the rolling one on the same company: no second alert a day,
    and no hit of its own."""
    events = load_events(SAMPLE)
    muted = dataclasses.replace(alert(datetime(2019, 9, 20, 6, tzinfo=UTC), "entity", "thomas cook"), inhibited=True)
    report = score_events(events, [muted], datetime(2018, 1, 1, tzinfo=UTC), datetime(2018, 1, 5, tzinfo=UTC))
    assert (report["alerts"], report["hits"], report["inhibited"]) == (0, 0, 1)
    report = score_events(events, [dataclasses.replace(muted, inhibited=False)], datetime(2018, 1, 1, tzinfo=UTC),
                          datetime(2018, 1, 5, tzinfo=UTC))
    assert (report["alerts"], report["hits"], report["inhibited"]) == (1, 1, 0)


def test_recall_is_split_by_whether_a_model_was_tuned_on_the_event(tmp_path: Path) -> None:
    judged = tmp_path / "headlines.csv"
    judged.write_text("headline,event_id,split\n"
                      "Thomas Cook collapses,thomas-cook-collapse-2019,tune\n"
                      "Thomas Cook customers stranded,thomas-cook-collapse-2019,tune\n"
                      "Boohoo doubles sales,,tune\n"
                      "Tesla beats,tesla-q4-beat-2020,eval\n")
    splits = load_event_splits(judged)
    assert splits == {"thomas-cook-collapse-2019": "tune", "tesla-q4-beat-2020": "eval"}
    fired = [alert(datetime(2019, 9, 20, 6, tzinfo=UTC), "entity", "thomas cook"),
             alert(datetime(2020, 1, 30, 1, tzinfo=UTC), "ticker", "TSLA")]
    report = score_events(load_events(SAMPLE), fired, datetime(2018, 1, 1, tzinfo=UTC),
                          datetime(2018, 1, 5, tzinfo=UTC))
    # nvidia has no judged headlines: unseen, with the eval-split control
    assert scores_by_split(report, splits) == {
        "tune": {"negative_events": 1, "hits": 1, "recall": 1.0, "positive_controls": 0, "false_alarms": 0},
        "unseen": {"negative_events": 1, "hits": 0, "recall": 0.0, "positive_controls": 1, "false_alarms": 1}}


def test_an_event_in_two_splits_is_an_error(tmp_path: Path) -> None:
    judged = tmp_path / "headlines.csv"
    judged.write_text("event_id,split\na,tune\na,eval\n")
    with pytest.raises(EventsFileError, match=r"headlines.csv:3: event a is in splits 'tune' and 'eval'"):
        load_event_splits(judged)


def test_a_date_only_first_headline_gets_its_lead_in_days_a_timed_one_in_hours() -> None:
    thomas_cook, nvidia, _ = load_events(SAMPLE)  # first headlines: 2019-09-20 (a date) and 2018-11-15 21:20
    fired = [alert(datetime(2019, 9, 21, 0, tzinfo=UTC), "entity", "thomas cook"),  # the next UTC day
             alert(datetime(2018, 11, 15, 23, 20, tzinfo=UTC), "ticker", "NVDA")]   # two hours after
    report = score_events([thomas_cook, nvidia], fired, datetime(2018, 1, 1, tzinfo=UTC),
                          datetime(2020, 1, 1, tzinfo=UTC))
    by_event = {e["id"]: e for e in report["events"]}
    assert by_event["thomas-cook-collapse-2019"]["first_headline_precision"] == "day"
    assert by_event["thomas-cook-collapse-2019"]["lead_days"] == 1
    assert by_event["nvidia-guidance-cut-2018"]["first_headline_precision"] == "minute"
    assert report["lead_by_precision"]["minute"] == {"hits": 1, "median_lead_hours": 2.0}
    assert report["lead_by_precision"]["day"]["median_lead_days"] == 1
    assert report["lead_by_precision"]["day"]["next_day"] == 1


DAY_ONE_RULES = """
rules:
  - name: entity-burst-1d
    scope: entity
    window: 1d
    detector: {type: count, metric: stories, threshold: 3, baseline: 10d, min_count: 3}
    min_stories: 3
  - name: ticker-burst-1h
    scope: ticker
    window: 1h
    detector: {type: count, metric: stories, threshold: 4, baseline: 2d, min_count: 3}
    min_stories: 4
  - name: topic-drop
    scope: topic
    window: 1h
    detector: {type: ewma, metric: mean_score, alpha: 0.1, threshold: 3.0, baseline: 1d}
    min_stories: 1
route: {receiver: r}
receivers: [{name: r, webhook: {url: "http://127.0.0.1:9/x"}}]
"""


def test_first_day_evidence_counts_the_events_own_series_on_its_first_headlines_date() -> None:
    thomas_cook, nvidia, _ = load_events(SAMPLE)  # first headlines: 2019-09-20 (a date), 2018-11-15 21:20 UTC
    rules = parse_rules(DAY_ONE_RULES)
    daily, hourly = rules.rules[0], rules.rules[1]
    day = datetime(2019, 9, 20, tzinfo=UTC)
    histories = {
        daily.name: RuleHistory(daily, [
            Bucket("thomas cook", day, 2, 2, 1, -0.5), Bucket("thomas cook group", day, 1, 1, 1, -0.9),
            Bucket("cook", day, 7, 7, 7, -5.0),  # not the company: `cook` is not Thomas Cook
            Bucket("thomas cook", day + timedelta(days=1), 23, 23, 20, -15.0)]),  # the next day does not count
        hourly.name: RuleHistory(hourly, [
            Bucket("NVDA", datetime(2018, 11, 15, 21, tzinfo=UTC), 3, 3, 2, -1.0),
            Bucket("NVDA", datetime(2018, 11, 15, 22, tzinfo=UTC), 2, 2, 2, -1.5),
            Bucket("NVDA", datetime(2018, 11, 16, 0, tzinfo=UTC), 9, 9, 9, -6.0)]),
    }
    assert first_day_evidence([thomas_cook, nvidia], histories) == {"thomas-cook-collapse-2019": 2,
                                                                    "nvidia-guidance-cut-2018": 5}
    assert company_min_stories(rules) == 3  # the topic rule's 1 is not a company rule's


def test_same_day_reachable_says_how_many_events_had_a_rules_evidence_on_day_one() -> None:
    thomas_cook, nvidia, tesla = load_events(SAMPLE)
    fired = [alert(datetime(2019, 9, 21, 1, tzinfo=UTC), "entity", "thomas cook"),
             alert(datetime(2018, 11, 15, 22, tzinfo=UTC), "ticker", "NVDA")]
    report = score_events([thomas_cook, nvidia, tesla], fired, datetime(2018, 1, 1, tzinfo=UTC),
                          datetime(2020, 1, 1, tzinfo=UTC),
                          {"thomas-cook-collapse-2019": 2, "nvidia-guidance-cut-2018": 5, "tesla-q4-beat-2020": 9},
                          min_stories=3)
    # Thomas Cook's first day held 2 stories: no rule needing 3 could alert that day; controls do not count
    assert report["same_day_reachable"] == {"min_stories": 3, "negative_events": 2, "reachable": 1,
                                            "hits_reachable": 1}
    assert {e["id"]: e["first_day_stories"] for e in report["events"]}["thomas-cook-collapse-2019"] == 2
    assert score_events([thomas_cook], fired, datetime(2018, 1, 1, tzinfo=UTC),
                        datetime(2020, 1, 1, tzinfo=UTC))["same_day_reachable"] is None  # not measured


def test_first_day_headlines_count_the_stories_that_name_the_company_whatever_the_tagger_found() -> None:
    thomas_cook, nvidia, _ = load_events(SAMPLE)  # first headlines: 2019-09-20 (a date), 2018-11-15 21:20 UTC
    day = datetime(2019, 9, 20, tzinfo=UTC)
    articles = [
        (day, "s1", "THOMAS COOK races to raise extra £200m", []),           # any case
        (day, "s1", "Thomas Cook races to raise extra £200m", []),           # a copy of the same story
        (day + timedelta(hours=20), "s2", "Britain's Thomas Cook scrambles for USD 250 million", []),
        (day, "s3", "Cook's tour: Thomas Cookery school opens", []),         # whole words only
        (day + timedelta(days=1), "s4", "Thomas Cook collapses", []),        # the next day does not count
        (datetime(2018, 11, 15, 8, tzinfo=UTC), "s5", "10 Stocks To Watch For November 15, 2018", ["NVDA"]),
        (datetime(2018, 11, 15, 21, 25, tzinfo=UTC), "s6", "Chip stocks slide after the bell", []),
    ]
    assert count_first_day_headlines([thomas_cook, nvidia], articles) == {"thomas-cook-collapse-2019": 2,
                                                                          "nvidia-guidance-cut-2018": 1}


def test_same_day_reachable_by_headlines_is_reported_when_they_were_counted() -> None:
    thomas_cook, nvidia, _ = load_events(SAMPLE)
    fired = [alert(datetime(2019, 9, 21, 1, tzinfo=UTC), "entity", "thomas cook")]
    report = score_events([thomas_cook, nvidia], fired, datetime(2018, 1, 1, tzinfo=UTC),
                          datetime(2020, 1, 1, tzinfo=UTC),
                          {"thomas-cook-collapse-2019": 1, "nvidia-guidance-cut-2018": 5}, min_stories=3,
                          first_day_headlines={"thomas-cook-collapse-2019": 4, "nvidia-guidance-cut-2018": 5})
    # the tagger put 1 story in Thomas Cook's series, the feed held 4: a name missed, not a short first day
    assert report["same_day_reachable"] == {"min_stories": 3, "negative_events": 2, "reachable": 1,
                                            "hits_reachable": 0, "reachable_by_headlines": 2,
                                            "hits_reachable_by_headlines": 1}
    assert {e["id"]: e["first_day_headlines"] for e in report["events"]} == {"thomas-cook-collapse-2019": 4,
                                                                             "nvidia-guidance-cut-2018": 5}
