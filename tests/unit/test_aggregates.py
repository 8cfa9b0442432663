"""Aggregate bucketing and scope rules (pure functions)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from model.network.institutions import is_institution
from monitor.storage.aggregates import AggregateDelta, accumulate, article_scopes, bucket_start, entity_key


def test_bucket_start_is_utc_and_aligned() -> None:
    ts = datetime(2024, 3, 5, 9, 7, 59, tzinfo=timezone(timedelta(hours=-5)))
    assert bucket_start(ts, 60) == datetime(2024, 3, 5, 14, 7, tzinfo=UTC)
    assert bucket_start(ts, 3600) == datetime(2024, 3, 5, 14, 0, tzinfo=UTC)


def test_entity_sentiment_overrides_article_sentiment_for_its_ticker() -> None:
    scopes = article_scopes("reuters", 5, "neutral", 0.0, ["AAPL", "MSFT"],
                            [("Apple", "AAPL", "positive", 0.9, "ORG"), ("Fed", None, "negative", -0.5, "ORG")],
                            sector_of={"AAPL": "Technology", "MSFT": "Technology"}.get, entity_keys="entity")
    by_scope = {(s.kind, s.key): (s.label, s.score) for s in scopes}
    assert by_scope[("ticker", "AAPL")] == ("positive", 0.9)
    assert by_scope[("ticker", "MSFT")] == ("neutral", 0.0)
    assert by_scope[("institution", "fed")] == ("negative", -0.5)  # a central bank is no company
    assert ("sector", "Technology") in by_scope
    assert by_scope[("global", "all")] == ("neutral", 0.0)


def test_copies_add_volume_but_not_sentiment() -> None:
    deltas: dict = {}
    scopes = article_scopes("cnbc", 1, "negative", -0.6, [], [])
    when = datetime(2024, 1, 1, tzinfo=UTC)
    accumulate(deltas, when, scopes, new_story=True)
    accumulate(deltas, when, scopes, new_story=False)
    row: AggregateDelta = deltas[("global", "all", 60, when)]
    assert (row.article_count, row.story_count, row.negative_count) == (2, 1, 1)
    assert row.score_sum == -0.6


def test_entity_keys_count_with_the_articles_sentiment_by_default_and_tickers_with_the_entitys() -> None:
    """The default measured best on the dev events (monitor.storage.aggregates.ENTITY_KEYS_SENTIMENT)."""
    scopes = article_scopes("reuters", 5, "negative", -0.6, [], [("Apple", "AAPL", "positive", 0.9, "ORG")])
    by_scope = {(s.kind, s.key): (s.label, s.score) for s in scopes}
    assert by_scope[("entity", "apple")] == ("negative", -0.6)
    assert by_scope[("ticker", "AAPL")] == ("positive", 0.9)


@pytest.mark.parametrize(("text", "key"), [
    ("Boeing", "boeing"), ("Boeing's", "boeing"), ("Boeing\u2019s", "boeing"), ("the Boeing", "boeing"),
    ("BOEING,", "boeing"), ("Boeing'", "boeing"), ("  Thomas   Cook ", "thomas cook"), ("$NVDA", "nvda"),
    ("marks &", "marks"), ("rolls-", "rolls"), ("AT&T", "at&t"), ("T-Mobile", "t-mobile"), ("co.", "co."),
    ("Nestl\u00e9", "nestl\u00e9"), (".", None), ("%", None), ("-", None), ("'", None), ("$", None),
    ("Q3", None), ("Q4 2019", None), ("FY2019", None), ("Y07", None), ("CY2020", None), ("H1", None), ("2Q", None),
    ("2019", None), ("1.5", None),
    ("3M", "3m"), ("7-Eleven", "7-eleven"), ("H&M", "h&m"),
    # one company, one key: trailing legal, holding and trade forms go, never the only word
    ("ACADIA Pharmaceuticals Inc.", "acadia"), ("Acadia Pharma", "acadia"), ("Atlas Air Worldwide Hldgs", "atlas air"),
    ("Atlas Air Worldwide Holdings", "atlas air"), ("Aaron's, Inc.", "aaron"), ("NVIDIA Corporation", "nvidia"),
    ("Group", "group"), ("Holdings", "holdings"),
    ("American International Group", "american international"), ("United Technologies Corp", "united technologies")])
def test_entity_keys_are_one_form_per_name_and_none_for_punctuation(text: str, key: str | None) -> None:
    assert entity_key(text) == key


def test_spellings_of_one_entity_count_on_one_key_and_punctuation_on_none() -> None:
    scopes = article_scopes("reuters", 5, "negative", -0.7, [],
                            [("Boeing's", None, "negative", -0.7, "ORG"), ("the Boeing", None, "negative", -0.7, "ORG"),
                             (".", None, "neutral", 0.0, "MISC")])
    assert [s.key for s in scopes if s.kind == "entity"] == ["boeing"]


def test_places_and_nationalities_count_under_place_not_entity() -> None:
    """The company rules watch `entity`; "China" bursting with bad news is macro news (docs/alerts.md)."""
    scopes = article_scopes("reuters", 5, "negative", -0.7, [],
                            [("China", None, "negative", -0.7, "LOC"), ("German", None, "negative", -0.7, "MISC"),
                             ("Huawei", None, "negative", -0.7, "ORG"),
                             ("Thomas Cook", None, "negative", -0.7, "PER", "subject")])
    # a "person" that an event is about is a company (the tagger calls Thomas Cook a person)
    assert sorted(s.key for s in scopes if s.kind == "entity") == ["huawei", "thomas cook"]
    assert sorted(s.key for s in scopes if s.kind == "place") == ["china", "german"]


def test_people_and_institutions_count_apart_from_companies() -> None:
    """Company rules watch `entity`: "putin", "fed", "nikkei" bursting is no company event (issue #25)."""
    scopes = article_scopes("reuters", 5, "negative", -0.7, [],
                            [("Putin", None, "negative", -0.7, "PER"), ("Fed", None, "negative", -0.7, "ORG"),
                             ("Nikkei", None, "negative", -0.7, "ORG"), ("Tim Cook", "AAPL", "neutral", 0.0, "PER"),
                             ("Barclays", None, "neutral", 0.0, "ORG", "source"), ("Agilent", None, "negative", -0.7,
                                                                                   "ORG", "subject")])
    kinds = {(s.kind, s.key): s.label for s in scopes if s.kind in ("entity", "person", "institution")}
    assert kinds == {("person", "putin"): "negative", ("institution", "fed"): "negative",
                     ("institution", "nikkei"): "negative", ("entity", "tim cook"): "negative",
                     ("entity", "barclays"): "neutral",  # the broker counts the story with none of its sentiment
                     ("entity", "agilent"): "negative"}


def test_macro_figures_and_commodities_are_no_companies() -> None:
    """"Wall St eyes Wal-Mart, CPI": on the 2007 wire `cpi` and `co2` burst as if they were companies."""
    scopes = article_scopes("reuters", 5, "negative", -0.7, [],
                            [("CPI", None, "negative", -0.7, "ORG"), ("CO2", None, "negative", -0.7, "MISC"),
                             ("Wal-Mart", None, "negative", -0.7, "ORG")])
    assert sorted(s.key for s in scopes if s.kind == "entity") == ["wal-mart"]
    assert sorted(s.key for s in scopes if s.kind == "institution") == ["cpi"]


def test_events_count_per_subject_by_polarity_and_severity() -> None:
    from monitor.storage.aggregates import EventSentiment

    scopes = article_scopes("reuters", 5, "negative", -0.7, [], [], events=[
        EventSentiment("NVIDIA", "rating_maintain", 0), EventSentiment("NVIDIA", "price_target_cut", -1),
        EventSentiment("Thomas Cook", "bankruptcy", -1), EventSentiment("Acme's", "rating_upgrade", 1),
        EventSentiment("Fed", "legal", -1)])
    events = {s.key: (s.label, s.score) for s in scopes if s.kind == "event"}
    assert events == {"nvidia": ("negative", -1.0), "thomas cook": ("negative", -3.0), "acme": ("positive", 1.0)}


def test_a_big_surprise_makes_a_results_or_guidance_event_graver() -> None:
    from monitor.storage.aggregates import event_sentiment

    half = [{"metric": "eps", "actual": 0.31, "estimate": 0.70, "surprise_pct": -55.7}]
    cent = [{"metric": "eps", "actual": 0.41, "estimate": 0.42, "surprise_pct": -2.4}]
    scopes = article_scopes("benzinga", 5, "negative", -0.7, [], [], events=[
        event_sentiment("Applied Opto", "guidance", -1, half), event_sentiment("Acme", "earnings", -1, cent),
        event_sentiment("Globex", "earnings", -1, half + [{"metric": "sales", "surprise_pct": 12.0}])])
    events = {s.key: s.score for s in scopes if s.kind == "event"}
    assert events == {"applied opto": -3.0, "acme": -1.0, "globex": -3.0}  # the beat on sales points the other way


def test_a_settlement_is_milder_than_the_probe_or_suit_it_ends() -> None:
    from monitor.storage.aggregates import event_sentiment

    scopes = article_scopes("reuters", 5, "negative", -0.7, [], [], events=[
        event_sentiment("Ford", "legal", -1, detail="settlement"), event_sentiment("WellCare", "legal", -1)])
    assert {s.key: s.score for s in scopes if s.kind == "event"} == {"ford": -1.0, "wellcare": -2.0}


def test_an_event_retold_within_a_day_counts_once_unless_graver() -> None:
    from monitor.storage.aggregates import EventTellings, event_sentiment

    tellings, at = EventTellings(), datetime(2007, 6, 1, 9, tzinfo=UTC)
    falls = event_sentiment("Saifun", "earnings", -1)
    assert tellings.first_tellings([falls], at) == [falls]
    assert tellings.first_tellings([event_sentiment("Saifun Inc", "earnings", -1)], at + timedelta(hours=3)) == []
    graver = event_sentiment("Saifun", "earnings", -1, [{"surprise_pct": -30.0}])  # the figures come out
    assert tellings.first_tellings([graver], at + timedelta(hours=4)) == [graver]
    other = event_sentiment("Saifun", "legal", -1)
    assert tellings.first_tellings([other], at + timedelta(hours=4)) == [other]
    assert tellings.first_tellings([falls], at + timedelta(hours=30)) == [falls]  # news again the next day
    seeded = EventTellings([(falls, at)])  # the worker seeds what was stored before its batch
    assert seeded.first_tellings([falls], at + timedelta(minutes=5)) == []
    # two brokers' downgrades are two events; one broker's told again is one
    davidson = event_sentiment("Applied Optoelectronics", "rating_downgrade", -1, source="DA Davidson")
    needham = event_sentiment("Applied Optoelectronics", "rating_downgrade", -1, source="Needham")
    assert tellings.first_tellings([davidson], at) == [davidson]
    assert tellings.first_tellings([needham], at + timedelta(hours=4)) == [needham]
    assert tellings.first_tellings([davidson], at + timedelta(hours=6)) == []


def test_a_person_named_in_market_news_counts_as_a_company() -> None:
    """The tagger types Thomas Cook and Ted Baker as people; in a headline about shares or customers they are
    companies. In politics a person stays a person."""
    from monitor.storage.aggregates import reads_as_market_news

    collapse = "Thomas Cook shares plunge as customers are stranded"
    politics = "Putin meets Abbas in Moscow"
    assert reads_as_market_news(collapse) and not reads_as_market_news(politics)
    company = article_scopes("guardian", 5, "negative", -0.7, [], [("Thomas Cook", None, "negative", -0.7, "PER")],
                             market_news=reads_as_market_news(collapse))
    person = article_scopes("reuters", 16, "neutral", 0.0, [], [("Putin", None, "neutral", 0.0, "PER")],
                            market_news=reads_as_market_news(politics))
    assert ("entity", "thomas cook") in {(s.kind, s.key) for s in company}
    assert ("person", "putin") in {(s.kind, s.key) for s in person}


@pytest.mark.parametrize(("key", "institution"), [
    ("philly fed", True), ("new york fed", True), ("bernanke", True), ("qqqq", True), ("tv", True),
    ("iphone", True), ("fedex", False), ("apple tv", False), ("powell industries", False), ("bernanke group", False)])
def test_policymakers_regional_feds_index_funds_and_products_name_no_company(key: str, institution: bool) -> None:
    """Read off 50 alerts of the 2007 wire: "Philly Fed", "Bernanke", "QQQQ" and "TV" burst as companies did."""
    assert is_institution(key) is institution
