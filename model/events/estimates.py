"""The exact parser of figures stated against analysts' estimates in headlines.

Wire services write results and outlooks against the consensus in a handful of
fixed formats ("Q1 EPS $0.40 vs $0.42 Est", "Sales $2.22B Beat $2.2B Estimate",
"Sees Q4 Rev. $1.27B-$1.326B vs $1.21B Est.", "EPS of $0.93-0.97 vs $0.94
consensus"). Where a headline states both numbers, whether the company beat or
missed is arithmetic, not a matter of wording, so the event is marked `exact`
and its polarity overrides anything a model reads from the words.

Why a hand-written grammar and not a learned tagger: the formats are few and
rigid, the cost of a wrong figure is a wrong alert, and every decision here can
be tested against a quoted corpus headline (tests/unit/test_event_estimates.py).

The grammar, in order of matching:

* an *explicit* comparison: ACTUAL [filler] CONNECTOR ESTIMATE, where the
  estimate carries an estimate word either before ("vs Est $0.25", "vs.
  consensus of $0.70") or after it ("vs $0.42 est", "Misses $(0.50) Estimate");
* a *carried-over* comparison: a bare "ACTUAL vs VALUE" that follows an explicit
  one in the same headline and ends its clause ("EPS $0.40 vs $0.42 est,
  Revenue $590.1 vs $726.5M, May Not Compare"): the wire states the estimate
  word once for the list. A value followed by anything else ("vs $0.30 Y/Y",
  "vs $4.917M in Same Qtr. Last Year") is a year-ago figure and is ignored.

A comparison without an estimate word anywhere ("vs $0.25 last year", "up
from $0.30") never yields a figure, and neither does one where no side carries a
currency sign or a unit (dates, times, option open interest).
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass

from model.events.taxonomy import Figure, FinancialEvent

__all__ = ["is_guidance", "parse_estimate_events", "parse_figures"]

# Denominator used when the estimate is exactly zero: the surprise is then huge with the right sign
# (a profit against a break-even estimate is a beat), and 0 when the actual is zero too.
_ZERO_GUARD = 1e-9

# ---------------------------------------------------------------------------------------------------------------
# Amounts: "$1.2B", "-$0.05", "$(0.57)", "$-0.08", "1.02B$", "$1,234.5M", "$36 mln", "45 cents", "~$96.2M"
# ---------------------------------------------------------------------------------------------------------------

_CUR = r"(?:(?:(?<![A-Za-z])(?:US|CA|C|AU|A|NZ|HK|S|R|NT|MX))?\$+\s?|[€£¥]\s?|(?:USD|EUR|GBP|CAD)\s?)"
# Not inside another number or word ("2.938" never yields "938", "2Q07" never "07"); thousands commas kept.
_NUM = r"(?<![\w.,])(?:\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?|\.\d+)"
# A one-letter unit must be attached ("$2B"); "$2 Beats" is two dollars, not two billion.
_UNIT = (r"(?:\s?(?:mln|bln|mn|bn|mil|million|billion|thousand|trillion|cents?)(?![A-Za-z])"
         r"|[KMBTkmb](?![A-Za-z]))")
_AMT = rf"(?:[-−]\s?)?~?\s?(?:{_CUR})?[-−]?\(?(?:{_CUR})?{_NUM}\)?(?:{_UNIT})?\$?(?![\d%])"
# Range separators: "$0.28-$0.34", "$0.05 to $0.15", "$885M - $925M", "$1.80.-$2.10" (a stray dot, as written).
_SEP = r"\s?\.?\s?(?:[-–—]|\bto\b)\s?"
_PM = r",?\s?(?:\+/-|\+/−|±|\+-|plus\s+or\s+minus)\s?\d+(?:\.\d+)?\s?(?:%|percent\b|pct\b)"
_VALUE = rf"{_AMT}(?:{_SEP}{_AMT}|{_PM})?"

_AMT_PARTS = re.compile(
    rf"(?P<lead>[-−]\s?)?~?\s?(?:{_CUR})?(?P<sign>[-−])?(?P<open>\()?(?:{_CUR})?(?P<num>{_NUM})(?P<close>\))?"
    rf"(?P<unit>{_UNIT})?\$?",
    re.IGNORECASE,
)
_VALUE_PARTS = re.compile(
    rf"(?P<a>{_AMT})(?:(?P<sep>{_SEP})(?P<b>{_AMT})|,?\s?(?:\+/-|\+/−|±|\+-|plus\s+or\s+minus)\s?"
    rf"(?P<pct>\d+(?:\.\d+)?)\s?(?:%|percent\b|pct\b))?",
    re.IGNORECASE,
)

_SCALE = {"k": 1e3, "thousand": 1e3, "m": 1e6, "mln": 1e6, "mn": 1e6, "mil": 1e6, "million": 1e6,
          "b": 1e9, "bln": 1e9, "bn": 1e9, "billion": 1e9, "t": 1e12, "trillion": 1e12,
          "cent": 0.01, "cents": 0.01}
_MAGNITUDES = {1e3, 1e6, 1e9, 1e12}  # units that make an amount a total, not a per-share figure

# ---------------------------------------------------------------------------------------------------------------
# Connectors and estimate words
# ---------------------------------------------------------------------------------------------------------------

# Per-share and items fillers between a figure and its connector: "$0.93-0.97 ex items vs", "$1.35 per share vs".
_FILL = (r"[\'\"’]?(?:\s?(?:,\s?)?(?:ex[-\s]?items|excluding\s+(?:items|charges)|per\s+(?:diluted\s+)?share|a\s+share"
         r"|/\s?(?:diluted\s+)?(?:share|shr|sh)\b|(?:for|in)\s+(?:the\s+)?(?:f?q[1-4]|[1-4]q|fy|fiscal\s+|h[12])"
         r"[\s']?\d{0,4}\b)\.?)*")
_MNC = r"(?:which\s+)?(?:(?:may|might|does|do)\s+)?not\s+(?:be\s+)?(?:compare|comparable)(?:\s+(?:to|with|vs\b\.?))?"
_VERB = (r"(?:beats?|beating|miss(?:es|ed)?|tops?|topped|exceeds?|exceeded|trails?|trailed|lags?|lagged|above"
         r"|below|ahead\s+of|short\s+of|in[-\s]?line\s+with|matche[sd]|match(?:ing)?|meets|met)\b")
_VS = r"(?:vs\b\.?|vz\b\.?|v\.s\.|versus\b|against\b|compared\s+(?:to|with)\b|compares\s+(?:to|with)\b)"
_CONNW = rf"(?:{_MNC}|{_VS}|(?:(?:that|which)\s+)?{_VERB})"
_CONN = (rf"(?:\s*(?P<open>\()\s*(?:{_CONNW}\s*)?|\s*[,;]\s*(?:{_CONNW}\s*)?|\s*{_CONNW}\s*)")

# Who made the estimate, and the word itself. "prior est", "our ests", "company estimate" are not the consensus:
# only the qualifiers listed here may stand between the connector and the estimate word.
_EST_Q = (r"(?:(?:the|a|mean|average|analysts?'?|(?:one|two|three|four|five|\d+)[-\s]analysts?'?|street"
          r"|wall\s+st(?:reet|\.)?|reuters|factset|thomson(?:/first\s+call)?|first\s+call|capital\s+iq|zacks"
          r"|bloomberg|refinitiv|single|consensus|estimates)\s+)*")
_EST_CORE = (r"(?:ests?\b\.?|estimates?\b|consensus\b(?:\s+estimates?\b)?"
             r"|(?:street|wall\s+st(?:reet|\.)?)(?:\s+(?:estimates?|ests?\.?|view|forecasts?|consensus|"
             r"expectations?)\b)?"
             r"|analysts?'?\s+(?:view|forecasts?|expectations?)\b)")
_EST_PRE = (rf"{_EST_Q}{_EST_CORE}\s*(?:(?:of|at|was|is|for)\b\s*|[:=]\s*)?"
            r"(?:~|approx(?:imately|\.)?\s*|about\s+)?")
_EST_POST = rf"\s*{_EST_Q}{_EST_CORE}"

# A year-ago comparison between a figure and its estimate is skipped: "EPS $0.40 vs $0.30 Y/Y, est $0.38".
_YEAR_AGO = (rf"(?:\s*,?\s*(?:vs\b\.?|versus|compared\s+(?:to|with)|(?:up\s+|down\s+)?from)\s*{_VALUE}{_FILL}\s*"
             r"(?:y/y|yoy|last\s+year|a\s+year\s+(?:ago|earlier)|year[-\s]ago|(?:in|for)\s+(?:the\s+)?"
             r"(?:same|prior|year)[\w\s.-]{0,25}?(?:period|quarter|qtr\.?|year))\b\.?)?")
_EXPLICIT = re.compile(
    rf"(?P<actual>{_VALUE})(?P<fill>{_FILL}){_YEAR_AGO}{_CONN}"
    rf"(?:(?P<pre>{_EST_PRE})(?P<est1>{_VALUE})|(?:the\s+)?(?P<est2>{_VALUE}){_FILL}(?P<post>{_EST_POST}))"
    r"(?(open)\s*\))",
    re.IGNORECASE,
)
# A bare "ACTUAL vs VALUE" ending its clause; only after an explicit comparison in the same headline.
_CARRIED = re.compile(
    rf"(?P<actual>{_VALUE})(?P<fill>{_FILL})\s*(?:,\s*)?{_VS}\s*(?P<est2>{_VALUE})"
    rf"(?={_FILL}\s*(?:[,;)]|\.(?:\s|$)|$))",
    re.IGNORECASE,
)

# ---------------------------------------------------------------------------------------------------------------
# Metrics: the last metric word before a figure names it
# ---------------------------------------------------------------------------------------------------------------

_METRIC_WORDS = re.compile(
    r"(?P<eps>\b(?:eps|e\.p\.s|earnings\s+per\s+share|per\s+share|shr|(?:core\s+|adj(?:usted)?\.?\s+)?a?ffo)\b"
    r"|/\s?(?:share|shr)\b)"
    r"|(?P<sales>\b(?:sales|revenues?|revs?\b\.?|turnover|top[-\s]line)\b)"
    r"|(?P<profit>\b(?:earnings|profits?|income|loss(?:es)?|noi|nii|operations|ops)\b)"
    r"|(?P<other>\b(?:ebitda[a-z]?|ebit|margins?|book\s+value|nav|cash\s+flow|fcf|capex|deliveries|shipments|"
    r"production|bookings|backlog|subscribers|arpu|aum|assets|deposits|loans|comps?|same[-\s]store|dividends?)\b)",
    re.IGNORECASE,
)
# Clause boundaries: a label (the words that name a figure) does not reach back past one.
_BOUNDARY = re.compile(r"[;:(]|,(?!\d{3})|\s[-–—&]\s")
_WHITESPACE = re.compile(r"\s+")
_LOOKBACK = 300  # characters: the words naming a figure stand close before it
_LOSS = re.compile(r"\bloss(?:es)?\b", re.IGNORECASE)
_FROM_BEFORE = re.compile(r"\bfrom\s*$", re.IGNORECASE)
_NEW_BEFORE_FROM = re.compile(rf"(?P<new>{_VALUE})\s*,?\s*(?:(?:up|down)\s+)?from\s*$", re.IGNORECASE)
_PER_SHARE = re.compile(r"share|shr|/sh", re.IGNORECASE)

# ---------------------------------------------------------------------------------------------------------------
# Guidance and subject
# ---------------------------------------------------------------------------------------------------------------

_OUTLOOK = re.compile(
    r"\b(?:sees|see|saw|seen|guides?|guided|guiding|guidance|(?<![-\w])(?<!than\s)expect(?:s|ed|ing)?|"
    r"forecasts?|forecasting|outlook|reaffirms?|reaffirmed|affirms?|affirmed|raises|raised|raise|cuts|cut|"
    r"lowers|lowered|narrows|narrowed|backs|backed|reiterates?|reiterated|maintains|maintained|confirms?|"
    r"confirmed|projects?|projected|anticipates?|predicts?|on\s+track)\b",
    re.IGNORECASE,
)
_PREFIX = re.compile(
    r"\s*(?:(?i:UPDATE|RPT|REFILE|CORRECTED|CORRECTION|BRIEF|EXCLUSIVE|TABLE|WRAPUP|FACTBOX|INSTANT\s+VIEW|"
    r"FROM\s+EARLIER|EARLIER|BREAKING|FLASH|ALERT|HOT\s+STOCKS|PREVIEW|RESEARCH\s+ALERT)(?:\s*\d+)?\s*[:\-–—]+\s*"
    r"|(?:8-K\s+)?[Ff]rom\s+(?=[A-Z])|Earlier\s+(?=[A-Z]))",
)
_STOP_WORDS = frozenset(
    """reports reported posts posted sees saw guides guided expects expected expecting forecasts raises raised
    cuts lowers lowered narrows narrowed reaffirms reaffirmed affirms affirmed backs backed maintains maintained
    reiterates reiterated confirms confirmed provides issues issued announces announced says said beats misses
    missed tops topped earlier shares inline updates sets gives lifts boosts trims slashes ups prelim prelim.
    preliminary quarterly annual is are has had will to late after still it now preannounces increases
    decreases comments delays estimates full-year fiscal first-quarter second-quarter
    third-quarter fourth-quarter - – —""".split()
)
_SECURITY_SUFFIX = re.compile(
    r"[\s,\-–—]*(?:Common\s+Stock|Ordinary\s+Shares|American\s+Depositary(?:\s+Shares)?)\s*$")
_NAME_PARTICLES = frozenset("of and & de du des la le the for von van der da di del e y et plc inc co corp".split())
_PERIOD_TOKEN = re.compile(
    r"^(?:f?q[1-4](?:[-/]?\d{2,4})?|[1-4]q(?:\d{2,4})?|fy\s?'?\d{0,4}|h[12]|[12]h|9m|\d{4}|'\d\d|y\d\d"
    r"|\d(?:st|nd|rd|th)[-\s]?(?:qtr|quarter))$",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class _Amount:
    value: float  # already scaled when the unit was given
    scale: float | None  # the unit's factor, None when the amount had no unit
    signed: bool  # written negative: "-$0.05", "$(0.57)", "$-0.08"


@dataclass(frozen=True)
class _Match:
    figure: Figure
    start: int  # where the actual figure starts
    end: int  # where the estimate statement ends


def _clean(x: float) -> float:
    """Drop binary noise from scaling and midpoints (132.2 * 1e6 is 132199999.99999999): 12 significant digits."""
    return float(f"{x:.12g}")


def _amount(text: str) -> _Amount:
    """One amount as written; the sign from a minus or from accounting parentheses (a loss)."""
    m = _AMT_PARTS.search(text)
    if m is None:  # cannot happen for text matched by _AMT
        raise ValueError(f"not an amount: {text!r}")
    value = float(m.group("num").replace(",", ""))
    unit = (m.group("unit") or "").strip().lower()
    scale = _SCALE.get(unit) if unit else None
    signed = bool(m.group("lead") or m.group("sign") or (m.group("open") and m.group("close")))
    if scale is not None:
        value = _clean(value * scale)
    return _Amount(-value if signed else value, scale, signed)


def _rescale(amount: _Amount, scale: float | None) -> _Amount:
    """Give a unitless amount the unit stated elsewhere in the same comparison ("$1.15-1.25B")."""
    if amount.scale is not None or scale is None:
        return amount
    return _Amount(_clean(amount.value * scale), scale, amount.signed)


@dataclass(frozen=True)
class _Value:
    low: _Amount
    high: _Amount | None  # None: a single amount
    pct: float | None  # "+/- 2%"

    @property
    def scale(self) -> float | None:
        if self.high is not None and self.high.scale is not None:
            return self.high.scale
        return self.low.scale

    def rescaled(self, scale: float | None) -> _Value:
        return _Value(_rescale(self.low, scale), None if self.high is None else _rescale(self.high, scale), self.pct)

    def negated_unsigned(self) -> _Value:
        """A stated loss ("Q1 loss $0.12 vs $0.10 est") is a negative figure where no sign says so."""

        def neg(a: _Amount) -> _Amount:
            return a if a.signed or a.value == 0 else _Amount(-a.value, a.scale, True)

        return _Value(neg(self.low), None if self.high is None else neg(self.high), self.pct)

    def bounds(self) -> tuple[float, float | None, float | None]:
        """(point, low, high): the midpoint of a range or of a +/- band, with its ends."""
        if self.pct is not None:
            centre = self.low.value
            band = abs(centre) * self.pct / 100.0
            return centre, _clean(centre - band), _clean(centre + band)
        if self.high is None:
            return self.low.value, None, None
        lo, hi = sorted((self.low.value, self.high.value))
        return _clean((lo + hi) / 2.0), lo, hi


def _value(text: str, *, from_to: bool = False) -> _Value:
    """A matched value expression: single, range (each end may lack the unit) or +/- band.

    from_to: the text is "X to Y" after "from", i.e. an old and a new figure: only Y counts.
    """
    m = _VALUE_PARTS.fullmatch(text.strip())
    if m is None:
        m = _VALUE_PARTS.search(text)
    assert m is not None
    low = _amount(m.group("a"))
    if m.group("b") is None:
        pct = float(m.group("pct")) if m.group("pct") else None
        return _Value(low, None, pct)
    high = _amount(m.group("b"))
    if from_to and re.search(r"\bto\b", m.group("sep"), re.IGNORECASE):
        return _Value(high, None, None)
    # "$1.15-1.25B": the end without a unit takes the other end's.
    low, high = _rescale(low, high.scale), _rescale(high, low.scale)
    return _Value(low, high, None)


_MONEY = re.compile(rf"[$€£¥]|USD|EUR|GBP|CAD|{_UNIT}", re.IGNORECASE)


def _has_money_marker(text: str) -> bool:
    """A currency sign or a unit: what tells a figure from a date, a time or a count of contracts."""
    return bool(_MONEY.search(text))


def _classify(label: str, unitless: bool) -> str | None:
    """The metric named by the last metric word in label; None when it names none."""
    words = list(_METRIC_WORDS.finditer(label))
    if not words:
        return None
    last = words[-1]
    if last.group("eps"):
        return "eps"
    if last.group("sales"):
        return "sales"
    if last.group("profit"):
        # "Earnings $0.50", "Net Investment Income $0.376", "Loss $0.01" are per-share amounts;
        # "Net income $572M" is a total.
        return "eps" if unitless else "other"
    return "other"


def _label(text: str, start: int, floor: int) -> str:
    """The words naming the figure at start: back to the last clause boundary after floor."""
    region = text[max(floor, start - _LOOKBACK):start]
    cut = 0
    for b in _BOUNDARY.finditer(region):
        cut = b.end()
    return region[cut:]


def _comparable(a: float, b: float) -> bool:
    """Within a factor of ten of each other (either zero: comparable)."""
    a, b = abs(a), abs(b)
    if a == 0 or b == 0:
        return True
    return max(a, b) / min(a, b) <= 10.0


def _surprise(actual: float, estimate: float) -> float:
    denominator = abs(estimate) if estimate != 0 else _ZERO_GUARD
    return (actual - estimate) / denominator * 100.0


def _build(text: str, m: re.Match[str], est_group: str, floor: int, previous: str | None) -> _Match | None:
    """A figure from one comparison match, or None when it is not money (no sign or unit on either side)."""
    actual_text, est_text = m.group("actual"), m.group(est_group)
    if not (_has_money_marker(actual_text) or _has_money_marker(est_text)):
        return None
    start = m.start("actual")
    # A leading minus that is really a range dash of the text before ("$3.20-3.50") is not a sign.
    if actual_text.lstrip()[:1] in "-−" and re.search(r"[\d)]\s?$", text[max(0, start - 2):start]):
        return None
    from_to = bool(_FROM_BEFORE.search(text[max(0, start - 12):start]))
    actual = _value(actual_text, from_to=from_to)
    if from_to and not re.search(r"\bto\b", actual_text, re.IGNORECASE):
        # "X, down from Y (consensus Z)": Y is the old figure; the new one is X, just before. No X: no figure.
        before = _NEW_BEFORE_FROM.search(text, max(0, start - _LOOKBACK), start)
        if before is None:
            return None
        start, actual = before.start("new"), _value(before.group("new"))
    estimate = _value(est_text)
    # The side without a unit takes the other side's ("$590.1 vs $726.5M"); where that leaves the two more than
    # tenfold apart, the plain amount was another figure ("revs of $137.8 mln (consensus $0.66)": an EPS estimate).
    inherited = (actual.scale is None) != (estimate.scale is None)
    actual, estimate = actual.rescaled(estimate.scale), estimate.rescaled(actual.scale)
    if inherited and not _comparable(actual.bounds()[0], estimate.bounds()[0]):
        return None

    label = _label(text, start, floor)
    fill = m.group("fill") or ""
    unitless = actual.scale not in _MAGNITUDES and estimate.scale not in _MAGNITUDES
    if _PER_SHARE.search(fill) or actual.scale == 0.01:
        metric = "eps"
    else:
        # The label first, then the text since the previous figure (or the start), then the previous figure's
        # metric ("sees FY07 $3.25-3.55 vs $3.38 consensus" after an EPS figure). A total with a
        # unit (M, B) is never a per-share figure, whatever word stands further back.
        candidates = (_classify(label, unitless), _classify(text[max(floor, start - _LOOKBACK):start], unitless),
                      previous)
        fallback = "eps" if unitless else "other"  # no metric word: a plain dollar amount is per share
        metric = next((c for c in candidates if c is not None and (c != "eps" or unitless)), fallback)
    if _LOSS.search(label):
        actual, estimate = actual.negated_unsigned(), estimate.negated_unsigned()

    point, low, high = actual.bounds()
    est_point, _, _ = estimate.bounds()
    figure = Figure(metric=metric, actual=point, estimate=est_point, surprise_pct=_surprise(point, est_point),
                    actual_low=low, actual_high=high)
    return _Match(figure, start, m.end())


def _scan(text: str) -> list[_Match]:
    """Every comparison against an estimate, with positions in the whitespace-normalised text, in text order.

    Runs of whitespace are collapsed first: the grammar allows optional spaces in many places, and a long run
    of them would otherwise make matching quadratic.
    """
    text = _WHITESPACE.sub(" ", text)
    found: list[_Match] = []
    floor = 0
    for m in _EXPLICIT.finditer(text):
        group = "est1" if m.group("est1") is not None else "est2"
        built = _build(text, m, group, floor, found[-1].figure.metric if found else None)
        if built is not None:
            found.append(built)
            floor = built.end
    if not found:
        return found
    # Carried-over comparisons: after the first explicit one, in the gaps the explicit ones leave.
    starts = [f.start for f in found]
    carried: list[_Match] = []
    for m in _CARRIED.finditer(text, found[0].end):
        i = bisect.bisect_right(starts, m.start()) - 1  # the last explicit figure starting before this one
        if (i >= 0 and found[i].end > m.start()) or (i + 1 < len(found) and found[i + 1].start < m.end()):
            continue  # overlaps an explicit comparison
        floor = found[i].end if i >= 0 else 0
        if carried and carried[-1].end > floor:
            floor = carried[-1].end
        if not _METRIC_WORDS.search(_label(text, m.start("actual"), floor)):
            continue
        previous = carried[-1] if carried and carried[-1].end == floor else (found[i] if i >= 0 else None)
        built = _build(text, m, "est2", floor, previous.figure.metric if previous else None)
        if built is not None:
            carried.append(built)
    return sorted(found + carried, key=lambda f: f.start)


def parse_figures(text: str) -> list[Figure]:
    """Every figure stated against an estimate in the text, in order.

    Exact by construction: a figure is returned only where the text states both the number and the estimate
    (with an estimate word: Est, Estimate(s), consensus, Street, analyst estimate). Amounts are plain numbers
    (M, mln = 1e6; B, bln, bn = 1e9; K = 1e3; cents = 0.01), parentheses and minus signs make losses, a range
    gives its midpoint with actual_low/actual_high, "+/- 2%" a band around the stated figure, and "from X to Y
    vs Z Est" compares the new figure Y.
    """
    return [m.figure for m in _scan(text)]


def _lead(text: str, matches: list[_Match]) -> str:
    """The text before the first figure (all of it when there is none), whitespace-normalised like _scan's."""
    text = _WHITESPACE.sub(" ", text)
    return text[: matches[0].start] if matches else text


def is_guidance(text: str) -> bool:
    """True when the figures are an outlook (Sees, Guides, Expects, Forecasts, Outlook, Reaffirms, Raises/Cuts/
    Lowers guidance, Backs, Affirms, ...), not reported results.

    Judged on the lead of the headline, up to the first figure (the whole text when there is none), because
    the wire puts the verb first: "X Reports Q1 EPS $0.46 vs $0.39 Est.; Sees FY16 EPS ..." is results with an
    outlook appended, "X Cuts Guidance, Sees FY EPS ..." is an outlook. "Better-than-expected" is not one.
    """
    return bool(_OUTLOOK.search(_lead(text, _scan(text))))


def _subject(text: str) -> tuple[str, tuple[int, int]] | None:
    """The company name leading the headline, before its first verb or period token, and its span."""
    start = len(text) - len(text.lstrip())
    while True:
        m = _PREFIX.match(text, start)
        if m is None or m.end() == start:
            break
        start = m.end()
    end = None
    for count, word in enumerate(re.finditer(r"\S+", text[start:])):
        raw = word.group().strip(",;:'\"")
        token = raw.lower()
        # Reuters writes names capitalised and verbs in lower case ("Midland Co sees Q4 ..."): after the first
        # word, an all-lower-case word that is not a particle of a name ends it.
        lowercase_verb = count > 0 and raw[:1].isalpha() and raw == token and token not in _NAME_PARTICLES
        if token in _STOP_WORDS or _PERIOD_TOKEN.match(token) or lowercase_verb:
            end = start + word.start()
            break
        if count >= 8:
            return None
    if end is None:
        return None
    name = _SECURITY_SUFFIX.sub("", text[start:end]).rstrip(" ,;:-–—")
    if not name or not re.search(r"[A-Za-z]", name):
        return None
    return name, (start, start + len(name))


def parse_estimate_events(text: str, in_line_pct: float = 2.0) -> list[FinancialEvent]:
    """At most one event: type 'guidance' or 'earnings', exact=True, figures=the parsed figures.

    Polarity: each figure is up (surprise > +in_line_pct), down (< -in_line_pct) or in line; all non-in-line
    figures agree -> that sign (detail 'beat'/'miss' for earnings, 'above'/'below' for guidance); all in line ->
    0 ('in_line'); up and down mixed -> 0 ('mixed'). No figures -> [].
    The subject is the company name leading the headline (prefixes such as 'UPDATE:' or 'BRIEF-' stripped);
    None when the headline starts with a verb ('Sees Q1 Adj. EPS ...').
    """
    matches = _scan(text)
    if not matches:
        return []
    figures = [m.figure for m in matches]
    guidance = bool(_OUTLOOK.search(_lead(text, matches)))
    ups = sum(1 for f in figures if f.surprise_pct > in_line_pct)
    downs = sum(1 for f in figures if f.surprise_pct < -in_line_pct)
    if ups and downs:
        polarity, detail = 0, "mixed"
    elif ups:
        polarity, detail = 1, "above" if guidance else "beat"
    elif downs:
        polarity, detail = -1, "below" if guidance else "miss"
    else:
        polarity, detail = 0, "in_line"
    subject = _subject(text)
    return [FinancialEvent(
        type="guidance" if guidance else "earnings",
        polarity=polarity,
        subject=subject[0] if subject else None,
        subject_span=subject[1] if subject else None,
        figures=tuple(figures),
        exact=True,
        detail=detail,
    )]
