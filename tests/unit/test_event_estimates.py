"""The exact estimate parser (model/events/estimates.py), checked against quoted corpus headlines.

Why: an exact event overrides what the model reads from the words, so a wrong figure is a wrong alert. Every
format the wires use is pinned here with a headline as it appears in the stream corpus
(financial_headlines_stream.csv, benzinga) or the Reuters 2007 corpus (reuters_business_2007.csv); the few
cases marked "synthetic" are formats the brief names that the corpora do not contain verbatim.
"""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pytest

from model.events.estimates import is_guidance, parse_estimate_events, parse_figures
from model.events.taxonomy import Figure, FinancialEvent

approx = pytest.approx


def figures(text: str) -> list[tuple[str, float, float]]:
    """(metric, actual, estimate) of every parsed figure, for compact assertions."""
    return [(f.metric, f.actual, f.estimate) for f in parse_figures(text)]


def event(text: str, in_line_pct: float = 2.0) -> FinancialEvent:
    events = parse_estimate_events(text, in_line_pct)
    assert len(events) == 1, events
    return events[0]


# ------------------------------------------------------------------------------------------------ formats


def test_estimate_word_after_the_number_and_a_carried_pair_takes_the_estimates_unit() -> None:
    text = "AllianceBernstein Q1 EPS $0.40 vs $0.42 est, Revenue $590.1 vs $726.5M, May Not Compare"
    assert figures(text) == [("eps", 0.40, 0.42), ("sales", approx(590.1e6), approx(726.5e6))]
    eps, sales = parse_figures(text)
    assert eps.surprise_pct == approx((0.40 - 0.42) / 0.42 * 100)
    assert sales.actual_low is None and sales.actual_high is None


def test_beat_miss_and_may_not_compare_to_estimate() -> None:
    text = ("Alphabet Q1 EPS $9.870 May Not Compare To $10.330 Estimate, "
            "Sales $41.160B Beat $40.380B Estimate")
    assert figures(text) == [("eps", 9.87, 10.33), ("sales", approx(41.16e9), approx(40.38e9))]
    ev = event(text)
    # EPS -4.5% is a miss, sales +1.9% is in line at the default 2%: the one non-in-line figure decides.
    assert (ev.type, ev.polarity, ev.detail, ev.exact) == ("earnings", -1, "miss", True)


def test_guided_range_against_estimate() -> None:
    text = "NVIDIA Sees Q4 Rev. $1.27B-$1.326B vs $1.21B Est."
    [f] = parse_figures(text)
    assert f == Figure(metric="sales", actual=approx(1.298e9), estimate=approx(1.21e9),
                       surprise_pct=approx((1.298 - 1.21) / 1.21 * 100), actual_low=approx(1.27e9),
                       actual_high=approx(1.326e9))
    ev = event(text)
    assert (ev.type, ev.polarity, ev.detail, ev.subject, ev.subject_span) == ("guidance", 1, "above", "NVIDIA", (0, 6))


def test_estimate_word_before_the_number() -> None:
    text = "Interpublic Reports Q3 EPS $0.27 Vs Est $0.25, Revs $1.87B Vs Est $1.82B"
    assert figures(text) == [("eps", 0.27, 0.25), ("sales", approx(1.87e9), approx(1.82e9))]
    assert event(text).detail == "beat"
    text = "Aaron's Reports Q2 EPS $0.59 vs. Est. $0.57, Rev. $789.4M vs. Est. $809M"
    assert figures(text) == [("eps", 0.59, 0.57), ("sales", approx(789.4e6), approx(809e6))]
    assert event(text).detail == "mixed"


def test_to_range_and_a_guidance_cut() -> None:
    text = ("Arctic Cat Cuts Guidance, Sees FY EPS $0.05 to $0.15 vs $0.84 est, "
            "Revenue $690M to $705M vs $695M est")
    eps, sales = parse_figures(text)
    assert (eps.metric, eps.actual, eps.actual_low, eps.actual_high, eps.estimate) == ("eps", approx(0.10), 0.05,
                                                                                      0.15, 0.84)
    assert (sales.metric, sales.actual, sales.estimate) == ("sales", approx(697.5e6), approx(695e6))
    ev = event(text)
    assert (ev.type, ev.polarity, ev.detail, ev.subject) == ("guidance", -1, "below", "Arctic Cat")


def test_approximate_figure_update_prefix_and_dollar_range_without_decimals() -> None:
    text = "UPDATE: Applied Optoelectronics Sees Q1 Sales ~$96.2M vs $89.8M Est., Adj. EPS $1-$1.02 vs $0.83 Est."
    assert figures(text) == [("sales", approx(96.2e6), approx(89.8e6)), ("eps", approx(1.01), 0.83)]
    ev = event(text)
    assert ev.subject == "Applied Optoelectronics"
    assert ev.subject_span is not None and text[ev.subject_span[0]:ev.subject_span[1]] == ev.subject
    assert (ev.type, ev.polarity) == ("guidance", 1)


def test_headline_starting_with_a_verb_has_no_subject() -> None:
    # The tail of "Applied Optoelectronics Sees Q1 Adj. EPS $0.28-$0.34 vs $0.70 Est., Sales $67M-$71M vs ..."
    text = "Sees Q1 Adj. EPS $0.28-$0.34 vs $0.70 Est., Sales $67M-$71M vs $87.2M Est."
    eps, sales = parse_figures(text)
    assert (eps.actual, eps.actual_low, eps.actual_high, eps.estimate) == (approx(0.31), 0.28, 0.34, 0.70)
    assert (sales.actual, sales.actual_low, sales.actual_high) == (approx(69e6), approx(67e6), approx(71e6))
    ev = event(text)
    assert (ev.subject, ev.subject_span, ev.type, ev.polarity) == (None, None, "guidance", -1)
    full = "Applied Optoelectronics Sees Q1 Adj. EPS $0.28-$0.34 vs $0.70 Est., Sales $67M-$71M vs $87.2M Est."
    assert event(full).subject == "Applied Optoelectronics"


def test_may_not_compare_vs_est_with_semicolon() -> None:
    text = "ABB Reports Q4 EPS $0.36 May Not Compare vs $0.42 Est; Revenues $10.57B vs $10.56B Est"
    assert figures(text) == [("eps", 0.36, 0.42), ("sales", approx(10.57e9), approx(10.56e9))]
    text = "American Capital Reports Q1 EPS $0.24, Which May Not Be Comparable to $0.19 Est"
    assert figures(text) == [("eps", 0.24, 0.19)]


def test_two_guided_ranges_in_line() -> None:
    text = ("Agilent Technologies Guides FY2012 Revenues $6.85B-$7.15B vs $6.98B Est; "
            "Q1 Revs $1.65B-$1.67B vs $1.66B Est")
    assert figures(text) == [("sales", approx(7.0e9), approx(6.98e9)), ("sales", approx(1.66e9), approx(1.66e9))]
    ev = event(text)
    assert (ev.type, ev.polarity, ev.detail, ev.subject) == ("guidance", 0, "in_line", "Agilent Technologies")


def test_plus_minus_band() -> None:
    [f] = parse_figures("NVIDIA Sees Q4 Sales $2.95B +/- 2% vs $3.06B Est.")
    assert (f.metric, f.actual, f.actual_low, f.actual_high, f.estimate) == (
        "sales", approx(2.95e9), approx(2.95e9 * 0.98), approx(2.95e9 * 1.02), approx(3.06e9))
    text = ("NVIDIA Corp Sees Q1 Of Fiscal 2021 Revenue Is Expected To Be $3B, Plus Or Minus 2 Percent vs $2.85B "
            "Est.; Co. Says While Ultimate Coronavirus Effect Is Difficult To Estimate, Reducing Revenue Outlook "
            "For Q1 By $100M To Account For Potential Impact")
    [f] = parse_figures(text)
    assert (f.actual, f.actual_low, f.actual_high, f.estimate) == (3e9, approx(2.94e9), approx(3.06e9), 2.85e9)


def test_losses_in_parentheses_and_with_minus_signs() -> None:
    text = ("Applied Optoelectronics Q1 Adj. EPS $(0.440) Misses $(0.380) Estimate, "
            "Sales $40.467M Miss $44.830M Estimate")
    assert figures(text) == [("eps", -0.44, -0.38), ("sales", approx(40.467e6), approx(44.83e6))]
    eps = parse_figures(text)[0]
    assert eps.surprise_pct == approx((-0.44 + 0.38) / 0.38 * 100)  # a bigger loss is a miss
    assert event(text).detail == "miss"
    assert figures("Arctic Cat Q4 EPS -$1.15 vs -$1.17 est, Revenue $98.9M vs $112M est")[0] == ("eps", -1.15, -1.17)
    assert figures("Arctic Cat Reports Q1 EPS $0.14 vs $-0.08 Est; Revenues $111.3M vs $98.76M Est")[0] == (
        "eps", 0.14, -0.08)
    # A profit against an expected loss: the surprise is positive however small the loss was.
    [eps, _] = parse_figures("Tesla Q1 Adj. EPS $1.240 Beats $(0.360) Estimate, Sales $5.985B Beat $5.900B Estimate")
    assert eps.surprise_pct == approx((1.24 + 0.36) / 0.36 * 100)


def test_loss_range_in_parentheses_without_a_second_dollar_sign() -> None:
    text = ("Applied Optoelectronics, Inc. - Common Stock Sees Q2 EPS $(0.43)-(0.35) vs $(0.23) Est; "
            "Sees Sales $40M-45M vs $52.42M Est")
    eps, sales = parse_figures(text)
    assert (eps.actual, eps.actual_low, eps.actual_high, eps.estimate) == (approx(-0.39), -0.43, -0.35, -0.23)
    assert (sales.actual_low, sales.actual_high) == (approx(40e6), approx(45e6))
    assert event(text).subject == "Applied Optoelectronics, Inc."


def test_suffix_only_on_the_high_end_applies_to_both() -> None:
    [f] = parse_figures("NVIDIA Guides Q3 Revenue $1.15-1.25B vs $1.23B Est")
    assert (f.actual_low, f.actual_high, f.actual, f.estimate) == (approx(1.15e9), approx(1.25e9), approx(1.2e9),
                                                                    approx(1.23e9))
    text = "Aaron's Sees Q2 Adj EPS $0.80-0.85 vs $0.44 Est; Sees Sales $975.000M-1.000B vs $894.27M Est"
    [f] = parse_figures(text)[1:]
    assert (f.actual_low, f.actual_high) == (approx(975e6), approx(1e9))  # each end its own unit


def test_figure_without_an_estimate_is_ignored() -> None:
    text = "Agilent Reaffirms FY2018 EPS ~$2.65 vs $2.70 Est., Core Sales Growth 5.5%"
    assert figures(text) == [("eps", 2.65, 2.70)]
    ev = event(text)
    assert (ev.type, ev.polarity, ev.detail) == ("guidance", 0, "in_line")  # -1.85% is within 2%


def test_consensus_forms_from_reuters() -> None:
    assert figures("Community Banks reports EPS of $0.40 vs $0.45 consensus") == [("eps", 0.40, 0.45)]
    text = ("Men's Wearhouse expects to to meet or exceed the higher end of initial guidance range of $0.88 to "
            "$0.92, vs consensus of $0.90")
    assert figures(text) == [("eps", approx(0.90), 0.90)]
    text = "Cryocor reports Q2 loss per share of ($0.33) vs Reuters consensus of ($0.28)"
    assert figures(text) == [("eps", -0.33, -0.28)]
    assert event(text).subject == "Cryocor"  # lower-case verbs end a Reuters name
    text = "Gannett issues press release with Q1 guidance, sees EPS of $0.88-$0.90 (vs $0.90 consensus)"
    assert figures(text) == [("eps", approx(0.89), 0.90)]
    text = ("First Cash authorizes 1 mln additional share Buyback; reaffirms FY07 guidance of $1.25-1.30 "
            "(consensus $1.27-1.28); initiates FY08 guidance of $1.47-1.57 (consensus $1.54-1.60)")
    assert figures(text) == [("eps", approx(1.275), approx(1.275)), ("eps", approx(1.52), approx(1.57))]


def test_street_estimate_and_comma_thousands() -> None:
    # synthetic: the brief's "vs. Street estimate of" and "$1,234.5M" forms
    assert figures("Acme Q4 revenue $1.3 billion vs. Street estimate of $1.2B") == [
        ("sales", approx(1.3e9), approx(1.2e9))]
    assert figures("Acme Q4 revenue $1,234.5M vs $1,200.0M consensus") == [
        ("sales", approx(1234.5e6), approx(1200e6))]
    assert figures("Acme Q4 Sales $12.4 mln vs $12.08 mln analyst estimate") == [
        ("sales", approx(12.4e6), approx(12.08e6))]


def test_mln_bln_k_and_odd_currency_marks() -> None:
    text = ("Callaway Golf sees FY06 EPS of $0.50-0.52 ex items vs $0.44 Reuters consensus; "
            "sees revs $1.02 bln vs $993.42 mln Reuters consensus")
    assert figures(text) == [("eps", approx(0.51), 0.44), ("sales", approx(1.02e9), approx(993.42e6))]
    text = ("ACADIA Pharmaceuticals Inc. Reports Q2 EPS of $(0.11) vs $(0.09) Est; "
            "Revenue of $451.0K vs $450.0K Est")
    assert figures(text)[1] == ("sales", approx(451e3), approx(450e3))
    assert figures("NVIDIA Corp. Reports Q2 EPS $0.32 vs $0.25 Est; Revenues 1.02B$ vs $1.01B Est")[1] == (
        "sales", approx(1.02e9), approx(1.01e9))
    assert figures("FROM EARLIER: Arctic Cat Reports Q2 EPS $1.80 vs $1.79 Est; Revenues $$229.0M vs $232.84M Est")[
        1] == ("sales", approx(229e6), approx(232.84e6))
    assert figures("Ambev SA Earlier Reported Q2 EPS R$0.05 Beats R$0.04 Est., Sales R$3.279B Beat R$3.090B "
                   "Estimate.") == [("eps", 0.05, 0.04), ("sales", approx(3.279e9), approx(3.09e9))]
    text = "Applied Optoelectronics Sees Q3 Rev. $56-$59M vs. Est. $54M, EPS $0.16-$0.21 vs. Est.$ 0.15"
    assert figures(text) == [("sales", approx(57.5e6), approx(54e6)), ("eps", approx(0.185), 0.15)]


def test_estimate_range_gives_its_midpoint() -> None:
    text = ("Applied Optoelectronics Sees Q1 Rev. $50-$50.5M vs. Est. $50-$54M, Cuts Adj. EPS Outlook from "
            "$0.21-$0.28 to $(0.04)-$(0.06) vs. $0.23 Est")
    sales, eps = parse_figures(text)
    assert (sales.actual, sales.estimate) == (approx(50.25e6), approx(52e6))
    # "from A to B vs Z Est": the new outlook B is compared, not the old A.
    assert (eps.actual, eps.actual_low, eps.actual_high, eps.estimate) == (approx(-0.05), -0.06, -0.04, 0.23)


def test_from_to_compares_the_new_figure() -> None:
    text = "Aaron's, Inc. Lowers FY2013 EPS Guidance from $2.27 to $2.15-2.23 vs $2.15 Est"
    [f] = parse_figures(text)
    assert (f.actual_low, f.actual_high, f.estimate) == (2.15, 2.23, 2.15)
    assert event(text).subject == "Aaron's, Inc."
    text = "AmerisourceBergen Raises FY 2017 EPS From $5.72-$5.92 to $5.77-$5.92 vs $5.72 Est"
    assert parse_figures(text)[0].actual_low == 5.77
    # "X, down from Y (consensus Z)": X is the new figure.
    text = "Men's Wearhouse cuts 3Q07 EPS to $0.66-0.70, down from $0.70-0.73 (consensus $0.72)"
    [f] = parse_figures(text)
    assert (f.actual_low, f.actual_high, f.estimate) == (0.66, 0.70, 0.72)


# ------------------------------------------------------------------------------------------------ false positives


def test_year_ago_comparisons_are_not_estimates() -> None:
    text = "Arctic Cat Reports Q1 EPS $(0.81) vs $(0.08) in Same Qtr. Last Year, Sales $104.9M vs $117.8M Est."
    assert figures(text) == [("sales", approx(104.9e6), approx(117.8e6))]
    text = ("Arbor Realty Trust Reports Q4 Adj. FFO $0.21 vs $0.18 Est., EPS $0.40, "
            "Sales $49.58M vs $4.917M in Same Qtr. Last Year")
    assert figures(text) == [("eps", 0.21, 0.18)]  # FFO is a per-share metric; the sales pair is year-ago
    assert figures("Altisource Asset Mgmt Reports Q4 Est. Taxable Income $0.68/Share vs $0.18/Share in Same Qtr. "
                   "Last Year") == []
    # synthetic: the brief's year-ago forms
    assert figures("Acme Q1 EPS $0.40 vs $0.30 Y/Y") == []
    assert figures("Acme Q1 EPS $0.40 vs. $0.25 last year") == []
    assert figures("Acme raises quarterly EPS from $0.30") == []
    # ... and a year-ago figure between a figure and its estimate is stepped over.
    assert figures("Acme Q1 EPS $0.40 vs $0.30 Y/Y, est $0.38") == [("eps", 0.40, 0.38)]


def test_headlines_without_an_estimate_word_yield_nothing() -> None:
    text = ("Trio-Tech International reports Q3 EPS of $0.33 vs $0.05 in 3Q06; revs rose 110% YoY to $13.6 mln - "
            "no estimates")
    assert parse_figures(text) == [] and parse_estimate_events(text) == []
    assert parse_figures("InsWeb Corp reports Q3 EPS of $0.10 vs ($0.39) in 3Q06; revs rose 23% YoY to $75 mln") == []
    # The dividend "to $0.11 From $0.10" after two estimate figures is not a third one.
    assert figures("Abaxis Reports Q4 EPS $0.50 Vs Est $0.27, Sales $52M Vs Est $55.52M, "
                   "Raises Dividend to $0.11 From $0.10") == [("eps", 0.50, 0.27), ("sales", 52e6, approx(55.52e6))]


def test_estimate_words_without_a_stated_figure_yield_nothing() -> None:
    for text in (
        "Honeywell beats profit estimates , raises full-year forecast",
        ("Tesla shares are trading higher in anticipation of the company's Q4 earnings scheduled for after the close "
         "today. The current Q4 EPS estimate is $1.72 and the sales estimate is $7.02 billion."),
        "Atlantic American Reports Q4 EPS $0.06, Rev. $40.9M; Estimates Not Available",
        ("Tesla Option Alert: Fri $242.5 Calls Sweep (3) near the Ask: 1001 @ $0.557 vs 5838 OI; Earnings 10/23 "
         "After Close [est] Ref=$231.7"),
        "Shares of Anchor BanCorp Wisconsin to Resume Trade at 9:50 a.m. EST",
        ("J.P. Morgan Increases PT To $12.50 From $11.00 And EPS Estimate To $0.86 From $0.69 On American Capital "
         "(ACAS)"),
        ("Thornburg Mortg revises estimates on asset sales and related losses announced in August; now estimates "
         "that it has sold approximately $22.0 bln vs prior est of $20.4 bln"),
        "Principal Fincl reports $0.05 above consensus",
        "REFILE-NYSE pre-closing imbalances for March 6 (1550 EST)",
    ):
        assert parse_figures(text) == [], text
        assert parse_estimate_events(text) == [], text


def test_a_plain_amount_of_another_metric_is_not_taken_as_the_estimate() -> None:
    # The consensus given is for EPS; the revenue it follows would be 200x the "estimate".
    assert parse_figures("EZ EM expects FY07 EPS of $0.77 on revs of $137.8 mln (consensus $0.66)") == []
    # A single estimate word in parentheses shared by two figures is not a pair.
    assert parse_figures("Healthstream acquires The Jackson Organization; sees 2007 EPS of $0.13-$0.15 on revs of "
                         "$44.5-45.5 mln (single est of $0.14 and $35.5 mln)") == []


# ------------------------------------------------------------------------------------------------ metrics


def test_metrics_eps_sales_other() -> None:
    text = "Alcentra Reports Q4 Adj. EPS $0.34 vs $0.35 Est., Total Investment Income $8.677M vs $8.9M Est."
    assert [f.metric for f in parse_figures(text)] == ["eps", "other"]
    text = ("Alcentra Capital Q1 NII/Share $0.27 Beats $0.26 Estimate, "
            "Total Investment Income $8.2M Beat $7.66M Estimate")
    assert [f.metric for f in parse_figures(text)] == ["eps", "other"]
    assert figures("Arbor Realty Trust Reports Q4 Adj FFO $0.14 Vs Est $0.11") == [("eps", 0.14, 0.11)]
    assert figures("American Capital Reports Q4 EPS $0.14, Net Operating Income Before Taxes $0.21 vs $0.17 Est.") == [
        ("eps", 0.21, 0.17)]  # a per-share income figure: no unit
    # synthetic: EBITDA and net income totals are "other"
    assert [f.metric for f in parse_figures("Acme Q1 adj. EBITDA $1.2B vs $1.1B est, net income $500M vs $450M est")
            ] == ["other", "other"]
    # No metric word at all: a plain dollar amount on these wires is EPS.
    assert figures("Advance Auto Guides FY11 $4.60-4.80 vs $4.69 Estimate") == [("eps", approx(4.70), 4.69)]


def test_a_stated_loss_is_negative() -> None:
    # synthetic: "loss" with unsigned amounts
    assert figures("Acme Q1 loss $0.12 vs $0.10 est") == [("eps", -0.12, -0.10)]
    assert event("Acme Q1 loss $0.12 vs $0.10 est").detail == "miss"


# ------------------------------------------------------------------------------------------------ polarity


def test_mixed_in_line_and_threshold() -> None:
    text = "Arctic Cat Inc. Reports Q1 EPS of $0.40 vs $0.21 Est; Revenue of $120.80M vs $126.31M Est"
    ev = event(text)
    assert (ev.type, ev.polarity, ev.detail, ev.subject) == ("earnings", 0, "mixed", "Arctic Cat Inc.")
    text = "AAON Reports Q1 EPS $0.18 vs $0.19 Est; Revenues $65M vs $64.71M Est"  # -5.3% and +0.4%
    assert (event(text).polarity, event(text).detail) == (-1, "miss")
    assert (event(text, in_line_pct=10.0).polarity, event(text, in_line_pct=10.0).detail) == (0, "in_line")
    text = ("Agilent Technologies Sees FY17 Rev. $4.35B-$4.37B vs. Est. $4.35B, EPS $2.10-$2.16 vs. Est. $2.19; "
            "Q4 Rev. $1.04-$1.04B vs. Est. $1.08B, EPS $0.48-$0.50 vs. Est. $0.53")
    ev = event(text)
    assert len(ev.figures) == 4 and (ev.type, ev.polarity, ev.detail) == ("guidance", -1, "below")


def test_zero_estimate_uses_a_tiny_denominator() -> None:
    text = "Applied Optoelectronics Reports Q3 EPS of $0.04 vs $0.00 Est; Revenue of $20.80M vs $19.54M Est"
    eps = parse_figures(text)[0]
    assert eps.estimate == 0.0 and eps.surprise_pct > 1e6  # positive and huge: a beat
    assert event(text).detail == "beat"


# ------------------------------------------------------------------------------------------------ guidance, subject


def test_results_with_an_outlook_appended_are_earnings() -> None:
    text = ("Advisory Board Reports Q1 Adj. EPS $0.46 vs $0.39 Est.; Sees Fy16 Adj. EPS $1.63-$1.73 vs $1.69 Est., "
            "Sales $810M-$830M vs $821M Est.")
    assert not is_guidance(text)
    ev = event(text)
    assert (ev.type, len(ev.figures), ev.detail) == ("earnings", 3, "beat")


@pytest.mark.parametrize("text", [
    "Agilent Technologies Guides FY2012 Revenues $6.85B-$7.15B vs $6.98B Est",
    "Aarons Expects FY EPS $2.01 to $2.21, Est $2.02",
    "Advance Auto Parts Reaffirms FY19 Sales Guidance Of $9.65B-$9.75B vs $9.72B Est.",
    "Arctic Cat Maintains FY16 EPS $0.80-$0.95 vs $0.90 Est., Sales $690M-$705M vs $697M Est.",
    "Tibco Software backs 2007 forecast",
    "Patterson-UTI expects Q4 EPS of $0.95-1.00 vs $1.07 consensus",
    ("Abiomed shares are trading higher after the company reported its Q2 earnings results and issued FY20 sales "
     "guidance of $885M - $925M vs $895M analyst estimate."),
])
def test_outlook_headlines_are_guidance(text: str) -> None:
    assert is_guidance(text)


@pytest.mark.parametrize("text", [
    "Interpublic Reports Q3 EPS $0.27 Vs Est $0.25, Revs $1.87B Vs Est $1.82B",
    "Community Banks reports EPS of $0.40 vs $0.45 consensus",
    ("Advance Auto Parts shares are trading higher after the company reported Q4 EPS of $1.17, beating the $1.14 "
     "consensus estimate."),
    "Acme reports better-than-expected Q1 EPS $0.50 vs $0.45 est",  # synthetic
])
def test_reported_results_are_not_guidance(text: str) -> None:
    assert not is_guidance(text)


def test_expects_figures_and_comma_estimate() -> None:
    text = "Arctic Cat Expects FY EPS $0.80 to $0.95, Est $1.28; Revenue $690M to $705M, 712M Est"
    assert figures(text) == [("eps", approx(0.875), 1.28), ("sales", approx(697.5e6), approx(712e6))]


@pytest.mark.parametrize(("text", "subject"), [
    ("FROM EARLIER: Arctic Cat Reports Q2 EPS $1.80 vs $1.79 Est; Revenues $$229.0M vs $232.84M Est", "Arctic Cat"),
    ("Earlier AllianceBernstein Reported Q2 EPS $0.40 vs. Est. $0.44, Rev. $603.89M", "AllianceBernstein"),
    ("8-K from Asbury Automotive Group Reports Q3 Adj. EPS $1.52 vs $1.61 Est., Sales $1.683B vs $1.69B Est.",
     "Asbury Automotive Group"),
    ("From AbbVie Q4 Earnings Conference Call: Sees Q1 EPS $2.05-$2.07 vs $2.03 Estimate, Sales $7.7B vs $8B Est.",
     "AbbVie"),
    (("Advantage Oil & Gas Late Thursday Reported Q2 EPS $0.12 Beat $0.04 Estimate, Sales $45.319M Beat $44.59M "
      "Estimate"), "Advantage Oil & Gas"),
    ("ABM Industries Incorporated Common Stock Q3 EPS $0.57 Beats $0.53 Estimate, Sales $1.624B Miss $1.65B Estimate",
     "ABM Industries Incorporated"),
    ("The Advisory Board Co. Reports Q2 Adj. EPS $0.33 vs $0.14 Est., Sales $200.2M vs $188.9M Est.",
     "The Advisory Board Co."),
    (("Kindred Healthcare comments on Medicare payment changes; reaffirms 2007 earnings guidance of $1.50-1.60 vs "
      "$1.62 consensus"), "Kindred Healthcare"),
    ("BRIEF-Acme Corp Q1 EPS $0.50 vs $0.45 est", "Acme Corp"),  # synthetic prefixes
    ("EXCLUSIVE-Acme sees Q1 EPS $0.50 vs $0.45 est", "Acme"),
    ("CORRECTED - UPDATE 2-Acme Q1 EPS $0.50 vs $0.45 est", "Acme"),
])
def test_subject_and_span(text: str, subject: str) -> None:
    ev = event(text)
    assert ev.subject == subject
    assert ev.subject_span is not None and text[ev.subject_span[0]:ev.subject_span[1]] == subject


def test_whitespace_runs_do_not_change_the_figures_and_stay_fast() -> None:
    text = "Agilent  Reports Q2\tAdj. EPS $0.58 vs  $0.48 Est., Sales $1.1B  vs $1.05B Est."
    assert figures(text) == [("eps", 0.58, 0.48), ("sales", approx(1.1e9), approx(1.05e9))]
    assert event(text).subject_span == (0, 7)
    assert parse_figures("$1 " + " " * 20000 + "vs $2 est") == parse_figures("$1 vs $2 est")


# ------------------------------------------------------------------------------------------------ the corpus


def _corpus() -> Path:
    from kernel.settings import get_settings

    return Path(get_settings().data_dir) / "stream" / "financial_headlines_stream.csv"


@pytest.mark.skipif(not _corpus().exists(), reason="no stream corpus")
def test_whole_stream_corpus_parses_and_every_figure_has_an_estimate_word() -> None:
    estimate_word = re.compile(r"\best\b|\bests\b|estimates?\b|\bconsensus\b|\bstreet\b", re.IGNORECASE)
    with _corpus().open(encoding="utf-8", newline="") as handle:
        headlines = [row["headline"] for row in csv.DictReader(handle)]
    with_figures = [h for h in headlines if parse_figures(h)]
    assert len(with_figures) >= 800  # 834 when written
    assert all(estimate_word.search(h) for h in with_figures)
    assert all(parse_estimate_events(h)[0].exact for h in with_figures[:50])
