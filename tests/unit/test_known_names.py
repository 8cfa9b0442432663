"""KnownNames: a name the tagger found before counts where it misses it, and only where capitals mark names."""

from __future__ import annotations

from monitor.storage.aggregates import MentionSentiment
from monitor.storage.known_names import MIN_TAGGED, KnownNames, capitalised_runs


def taught(*headlines: tuple[str, list[tuple[str, str]]]) -> KnownNames:
    names = KnownNames()
    for headline, found in headlines:
        names.observe(headline, found)
    return names


CARILLION_TAGGED = [("Carillion shares slump on profit warning", [("Carillion", "ORG")]),
                    ("Investors flee Carillion as debts mount", [("Carillion", "ORG")])]


def recalled(names: KnownNames, headline: str, mentions: list[MentionSentiment] | None = None) -> list[str]:
    return [m.text for m in names.recall(headline, mentions or [], "negative", -0.7)]


def test_capitalised_runs_stop_at_lower_case_words_and_punctuation() -> None:
    headline = "Carillion crisis: UK government locked in talks with Bank of England"
    assert [headline[s:e] for s, e in capitalised_runs(headline)] == ["Carillion", "UK", "Bank", "England"]
    headline = "Thomas Cook Group races to raise cash"
    assert [headline[s:e] for s, e in capitalised_runs(headline)] == [
        "Thomas", "Thomas Cook", "Thomas Cook Group", "Cook", "Cook Group", "Group"]


def test_a_name_tagged_before_counts_where_the_tagger_missed_it() -> None:
    names = taught(*CARILLION_TAGGED)
    found = names.recall("Carillion in crisis as outsourcing operation crumbles under debt", [], "negative", -0.7)
    assert found == [MentionSentiment("Carillion", None, "negative", -0.7, "ORG")]  # the article's sentiment


def test_a_name_needs_enough_tags_before_it_is_known() -> None:
    names = taught(*CARILLION_TAGGED[:MIN_TAGGED - 1])
    assert recalled(names, "Carillion in crisis as outsourcing operation crumbles under debt") == []


def test_a_common_word_mostly_left_untagged_is_not_known() -> None:
    # "Business live ..." tagged now and then: capitals there do not mark a company, and the stream writes
    # "business" in lower case elsewhere
    names = taught(*[("Business live: markets fall", [("Business", "ORG")])] * 2,
                   *[("Business live: oil rises", [])] * 8,
                   *[("UK business confidence falls", [])] * 3)
    assert not names.is_known("business")
    assert recalled(names, "Business live: shares slide") == []


def test_a_name_never_written_in_lower_case_is_known_from_fewer_tags() -> None:
    # a weaker tagger finds "Facebook" in one headline of five; the stream never writes it in lower case
    names = taught(*[("Investors punish Facebook over data breach", [("Facebook", "ORG")])] * 2,
                   *[("Lawmakers summon Facebook over data breach", [])] * 8)
    assert names.is_known("facebook")
    assert recalled(names, "UK investigates Facebook over data breach") == ["Facebook"]
    rarely = taught(*[("Investors punish Facebook over data breach", [("Facebook", "ORG")])] * 2,
                    *[("Lawmakers summon Facebook over data breach", [])] * 28)
    assert not rarely.is_known("facebook")  # under MIN_SHARE_CASED


def test_nothing_is_recalled_in_title_case_or_capitals() -> None:
    names = taught(*CARILLION_TAGGED)
    assert recalled(names, "Carillion Shares Fall On Profit Warning, Analysts Cut Targets") == []
    assert recalled(names, "CARILLION SHARES FALL ON PROFIT WARNING") == []


def test_tagged_names_places_and_role_words_are_not_added_again() -> None:
    names = taught(*CARILLION_TAGGED, *[("Strikes in France hit trains", [("France", "LOC")])] * 3,
                   *[("Facebook CEO testifies", [("Facebook", "ORG"), ("CEO", "ORG")])] * 3)
    tagged = [MentionSentiment("Carillion", None, "negative", -0.7, "ORG")]
    assert recalled(names, "Carillion falls as lenders balk", tagged) == []  # the tagger found it
    assert recalled(names, "France weighs Carillion rescue") == ["Carillion"]  # a place is no company
    assert recalled(names, "Facebook hires CEO for its bank") == ["Facebook"]  # nor a role word


def test_the_longest_known_name_wins() -> None:
    names = taught(*[("Thomas Cook races to raise cash", [("Thomas Cook", "ORG")])] * 2,
                   *[("Thomas warns of slowdown", [("Thomas", "PER")])] * 2)
    assert recalled(names, "Shares in Thomas Cook slump after its rescue talks collapse") == ["Thomas Cook"]


def test_a_long_running_worker_forgets_rare_keys_past_the_cap(monkeypatch) -> None:  # noqa: ANN001
    import monitor.storage.known_names as known_names

    monkeypatch.setattr(known_names, "MAX_KEYS", 3)
    names = taught(*CARILLION_TAGGED, ("Acme Widgets files for bankruptcy", [("Acme Widgets", "ORG")]),
                   ("Beta Corp cuts jobs", [("Beta Corp", "ORG")]), ("Gamma plc warns", [("Gamma", "ORG")]))
    assert set(names.tagged) == {"carillion"} and names.is_known("carillion")
    assert len(names.lower_words) + len(names.capitalised_words) <= known_names.MAX_KEYS
