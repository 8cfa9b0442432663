"""Entity linking: ticker patterns, name variants, and the ambiguity rules that keep precision high."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from model.network.linking import Gazetteer, find_tickers, name_key
from model.reports.linking_eval import evaluate

SAMPLE = Path(__file__).resolve().parents[1] / "fixtures" / "linking" / "sample.jsonl"


@pytest.fixture(scope="module")
def gazetteer() -> Gazetteer:
    return Gazetteer.default()


def link(gazetteer: Gazetteer, text: str, entity: str, entity_type: str = "ORG") -> str | None:
    start = text.index(entity)
    return gazetteer.link(text, start, start + len(entity), entity_type)


def test_find_tickers_cashtags_exchanges_and_rics() -> None:
    text = "$AAPL up; Tesla (NASDAQ: TSLA) and NYSE:IBM rise, Barclays (BARC.L) and Apple Inc <AAPL.O> too, $5 no"
    found = [(text[m.start:m.end], m.symbol, m.how) for m in find_tickers(text)]
    assert found == [("$AAPL", "AAPL", "cashtag"), ("TSLA", "TSLA", "exchange"), ("IBM", "IBM", "exchange"),
                     ("BARC.L", "BARC.L", "ric"), ("AAPL.O", "AAPL", "ric")]


def test_cashtag_needs_a_word_boundary() -> None:
    assert find_tickers("US$AAPL") == [] and find_tickers("$AAPLX1") == []
    assert [m.symbol for m in find_tickers("($BRK.B)")] == ["BRK.B"]


def test_name_variants_strip_legal_suffixes_and_the() -> None:
    assert name_key("The Coca-Cola Company") == "coca-cola"
    assert name_key("Netflix, Inc.") == "netflix"
    assert name_key("Apple's") == "apple"


def test_links_common_names_and_their_variants(gazetteer: Gazetteer) -> None:
    assert link(gazetteer, "Netflix shares soar as it announces 6.96m new members", "Netflix") == "NFLX"
    assert link(gazetteer, "Coca-Cola profit beats estimates", "Coca-Cola") == "KO"
    assert link(gazetteer, "Micron's strength means Intel is a buy", "Micron") == "MU"  # "Micron Technology"
    assert link(gazetteer, "Facebook warned Libra will come under scrutiny", "Facebook") == "META"
    assert link(gazetteer, "Barclays hit with $15m fine", "Barclays") == "BARC.L"


def test_apple_needs_market_context(gazetteer: Gazetteer) -> None:
    assert link(gazetteer, "Apple shares fall after iPhone sales miss", "Apple") == "AAPL"
    assert link(gazetteer, "Apple growers brace for a poor harvest as orchards flood", "Apple") is None
    assert link(gazetteer, "Apple and pear prices at the farmers' fruit stall", "Apple") is None


def test_target_gap_and_best_buy_link_only_in_market_context(gazetteer: Gazetteer) -> None:
    assert link(gazetteer, "Don't buy shares of Target until after it reports", "Target") == "TGT"
    assert link(gazetteer, "Archers hit the Target from 70 metres", "Target") is None
    assert link(gazetteer, "Best Buy earnings top estimates", "Best Buy") == "BBY"


def test_lowercase_words_never_link(gazetteer: Gazetteer) -> None:
    assert link(gazetteer, "ECB misses its inflation target again, shares fall", "target") is None
    assert link(gazetteer, "apple shares fall", "apple") is None


def test_f_is_not_the_fed_and_bare_symbols_are_not_names(gazetteer: Gazetteer) -> None:
    assert link(gazetteer, "Fed's Harker sees one rate hike in 2019", "Fed") is None
    assert link(gazetteer, "IT spending rises at banks, shares up", "IT") is None
    assert link(gazetteer, "Ford says no-deal Brexit would mean costs of $800m", "Ford") == "F"


def test_only_org_and_ticker_entities_link(gazetteer: Gazetteer) -> None:
    text = "Jordan Walmart, the fund manager, bought shares"
    assert link(gazetteer, text, "Jordan Walmart", "PER") is None
    assert link(gazetteer, "Shares of $TSLA jumped", "$TSLA", "TICKER") == "TSLA"
    assert link(gazetteer, "Tesla shares fell", "Tesla", "LOC") is None


def test_indices_are_not_their_operators(gazetteer: Gazetteer) -> None:
    assert link(gazetteer, "S&P , Nasdaq edge higher after recent losses", "Nasdaq") is None


def test_adjacent_ticker_pattern_wins(gazetteer: Gazetteer) -> None:
    assert link(gazetteer, "Acme Robotics (NASDAQ: ACME) jumps on earnings", "Acme Robotics") == "ACME"


def test_sector_comes_from_index_data(gazetteer: Gazetteer) -> None:
    assert gazetteer.sector("AAPL") == "Information Technology"
    assert gazetteer.sector("NOPE") is None


def test_watchlist_adds_names_aliases_and_sector(tmp_path: Path) -> None:
    watchlist = tmp_path / "watchlist.yaml"
    watchlist.write_text("- ticker: GAP\n  names: [Gap Inc.]\n  aliases: [Gap, Old Navy]\n"
                         "  sector: Consumer Discretionary\n", encoding="utf-8")
    gazetteer = Gazetteer.default(watchlist)
    assert link(gazetteer, "Gap's Old Navy brand to exit China in early 2020, shares fall", "Old Navy") == "GAP"
    assert link(gazetteer, "Mind the gap year: Gap shares fall", "Gap") is None  # everyday sense wins
    assert gazetteer.sector("GAP") == "Consumer Discretionary"


def test_watchlist_errors_name_the_entry(tmp_path: Path) -> None:
    watchlist = tmp_path / "bad.yaml"
    watchlist.write_text("- ticker: ACME\n  nmes: [Acme]\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"bad\.yaml: entry 1 \(ACME\): unknown field 'nmes'"):
        Gazetteer().add_watchlist(watchlist)


def test_sample_is_well_formed_and_linker_scores_on_it() -> None:
    records = [json.loads(line) for line in SAMPLE.read_text(encoding="utf-8").splitlines()]
    assert len(records) >= 80
    for record in records:
        for entity in record["entities"]:
            assert record["headline"][entity["start"]:entity["end"]] == entity["text"]
    score = evaluate(SAMPLE)
    assert score.entities == sum(len(r["entities"]) for r in records)
    assert 0.0 <= score.precision <= 1.0 and score.correct <= score.predicted_linked
