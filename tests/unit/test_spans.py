"""Name completion (model/network/spans.py): the tagger's cut names become the whole company name."""

from __future__ import annotations

import pytest

from model.network.spans import complete_name, complete_names, complete_tagged, is_title_case


def _complete(text: str, tagged: str) -> str:
    start = text.index(tagged)
    first, last = complete_name(text, start, start + len(tagged))
    return text[first:last]


@pytest.mark.parametrize(("text", "tagged", "name"), [
    ("Kraft Heinz tops estimates with higher pricing , shares surge", "Kraft", "Kraft Heinz"),
    ("UK's House of Fraser to shut 31 stores , 6 , 000 jobs at risk", "Fraser", "House of Fraser"),
    ("U . S . closely following Danske Bank money laundering case : paper", "Danske", "Danske Bank"),
    ("Patisserie Valerie boss quits as accounts probe widens", "Patisserie", "Patisserie Valerie"),
    ("Indian panel wants Johnson & Johnson to pay compensation", "Johnson", "Johnson & Johnson"),
])
def test_a_cut_name_is_completed_from_the_capitalised_words_around_it(text: str, tagged: str, name: str) -> None:
    assert _complete(text, tagged) == name


@pytest.mark.parametrize(("text", "tagged", "name"), [
    ("Apple CFO says demand for the iPhone is strong", "Apple CFO", "Apple"),
    ("PG&E board to step down after wildfire bankruptcy", "PG&E board", "PG&E"),
    ("House of Fraser rescue deal faces delay", "Fraser rescue", "House of Fraser"),
    ("What does payday lender Wonga's collapse mean for customers?", "lender Wonga's", "Wonga's"),
    ("Elon Musk's Tesla announces biggest quarterly loss ever", "s Tesla", "Tesla"),
    ("Nissan , Ford , FCA lead European car sales decline", ", Ford", "Ford"),
    ("Shares of eBay fall after outlook", "eBay", "eBay"),  # a lower-case start with a capital stays
])
def test_role_words_and_lower_case_words_are_not_part_of_the_name(text: str, tagged: str, name: str) -> None:
    assert _complete(text, tagged) == name


@pytest.mark.parametrize(("text", "tagged"), [
    ("Boris Johnson wastes day visiting country", "Johnson"),  # a lower-case word follows
    ("Tesla SEC fraud suit filed in New York", "Tesla"),  # an acronym is not a name word
    ("Shares of Tesla fell on Monday", "Tesla"),  # "Shares of" is no "House of"
    ("Geron Shares Remain Elevated With Some Attributing Upside To Johnson Job Posting", "Johnson"),  # title case
])
def test_names_are_not_extended_into_words_that_are_not_part_of_them(text: str, tagged: str) -> None:
    assert _complete(text, tagged) == tagged


def test_title_case_is_told_from_sentence_case() -> None:
    assert is_title_case("Geron Shares Remain Elevated, Up 28.3% With Some Attributing Upside")
    assert not is_title_case("House of Fraser to close more than half its UK stores")


def test_a_span_inside_another_completed_name_is_dropped() -> None:
    text = "Investors ready to resuscitate Johnson & Johnson's ailing stock"
    first = text.index("Johnson")
    second = text.index("Johnson", first + 1)
    completed = complete_names(text, [(first, first + 7), (second, second + 7)])
    assert completed[1] is None
    assert completed[0] is not None and text[completed[0][0]:completed[0][1]].startswith("Johnson & Johnson")


def test_a_span_outside_the_text_is_returned_unchanged() -> None:
    assert complete_name("Apple", 3, 10) == (3, 10)


def _types(text: str, tagged: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """(completed name, its type) for each (tagged word, tagger type) that is not dropped."""
    spans = [(text.index(word), text.index(word) + len(word), kind) for word, kind in tagged]
    return [(text[name[0]:name[1]], name[2]) for name in complete_tagged(text, spans) if name]


@pytest.mark.parametrize(("text", "tagged", "named"), [
    # a nationality that heads a longer name is the first word of a company's name
    ("British Steel enters insolvency after rescue talks with government fail", [("British", "MISC")],
     [("British Steel", "ORG")]),
    ("Sadness and fear in Scunthorpe after British Steel liquidation", [("Scunthorpe", "LOC"), ("British", "MISC")],
     [("Scunthorpe", "LOC"), ("British Steel", "ORG")]),
    # names made only of place words stay places, whether tagged as one span or two
    ("Protests in Hong Kong hit retailers", [("Hong Kong", "LOC")], [("Hong Kong", "LOC")]),
    ("Rand slides as South Africa loses its last investment grade", [("South", "LOC"), ("Africa", "LOC")],
     [("South Africa", "LOC")]),
    ("Yuan firms as US-China talks resume", [("US", "LOC"), ("China", "LOC")], [("US-China", "LOC")]),
    ("China June exports beat forecasts", [("China", "LOC")], [("China", "LOC")]),  # a month is no name word
    # other types are the tagger's
    ("Thomas Cook collapses", [("Thomas Cook", "PER")], [("Thomas Cook", "PER")]),
])
def test_a_place_word_that_heads_a_longer_name_makes_it_an_organisation(
        text: str, tagged: list[tuple[str, str]], named: list[tuple[str, str]]) -> None:
    assert _types(text, tagged) == named


def _names(text: str, tagged: list[str]) -> list[str | None]:
    spans, position = [], 0
    for word in tagged:
        start = text.index(word, position)
        spans.append((start, start + len(word)))
        position = start + len(word)
    return [text[span[0]:span[1]] if span else None for span in complete_names(text, spans)]


@pytest.mark.parametrize(("text", "tagged", "names"), [
    ("PG&E falls further after S&P cuts credit rating to junk", ["PG", "E", "S&"], ["PG&E", None, "S&P"]),
    ("Moody's lowers PG&E's credit rating to junk", ["PG&", "E"], ["PG&E", None]),
    ("Wall St . tumbles on global growth worries , J&J decline", ["J", "J"], ["J&J", None]),
    ("AT&T Sees Q4 Sales Above Estimates", ["AT"], ["AT&T"]),  # title case too
    ("Marks & Spencer to close stores", ["Marks"], ["Marks & Spencer"]),  # spaced: completed as before
])
def test_a_name_written_with_a_bare_ampersand_is_one_name(text: str, tagged: list[str],
                                                           names: list[str | None]) -> None:
    assert _names(text, tagged) == names


def test_a_span_without_a_capital_names_nothing_unless_the_whole_text_is_lower_case() -> None:
    text = "PG&E shares and bonds plunge on bankruptcy worries"
    assert _names(text, ["PG&E", "plunge", "on", "bankruptcy"]) == ["PG&E", None, None, None]
    assert _names("pg&e shares plunge", ["pg&e"]) == ["pg&e"]
