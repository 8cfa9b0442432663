"""Financial events: the types finsent recognises and the record each one yields.

An event is something that happened *to one company* (the subject): a quarter
against estimates, a downgrade, a failed trial, a bankruptcy. It carries a
polarity *for that company* (a miss is negative for the company whatever the
wording), the company that reported it where there is one (a broker is the
source of a rating, never its subject) and, where the text gives them, the
figures. Alert rules count events per company with a severity per type, so one
bankruptcy story fires while one downgrade does not (monitor/alerts).

The taxonomy with one example each is in docs/model.md ("Financial events").
"""

from __future__ import annotations

from dataclasses import dataclass, field

# type -> (what it is, the default severity an alert rule gives one such story: 1 low .. 3 high)
EVENT_TYPES: dict[str, tuple[str, int]] = {
    "earnings": ("results against estimates or the year before: beat / in line / miss, profit up / down", 1),
    "guidance": ("outlook against estimates or the previous outlook: raise / cut / above / below / reaffirm", 1),
    "rating_upgrade": ("an analyst raises the rating; the broker is the source", 1),
    "rating_downgrade": ("an analyst lowers the rating; the broker is the source", 1),
    "rating_initiate": ("an analyst starts coverage; polarity from the rating given", 1),
    "rating_maintain": ("an analyst keeps the rating (reiterates, maintains)", 1),
    "price_target_raise": ("an analyst raises the price target", 1),
    "price_target_cut": ("an analyst lowers the price target", 1),
    "clinical_trial": ("a trial read-out: met / failed endpoint, halted trial", 2),
    "regulatory": ("a regulator's decision: approval, rejection, complete response letter, warning letter", 2),
    "bankruptcy": ("bankruptcy, insolvency, administration, default, going-concern doubt", 3),
    "legal": ("fraud, investigation, probe, lawsuit, charges, fine, settlement", 2),
    "incident": ("recall, accident, explosion, outage, breach, grounding", 2),
    "layoffs": ("job cuts, plant or store closures", 2),
    "executive_departure": ("a chief executive or other officer leaves, is ousted or arrested", 2),
    "dividend": ("dividend raise, cut, suspension or special dividend", 1),
    "merger_acquisition": ("a takeover, merger or stake purchase: the acquirer and the target", 1),
    # appended last: a model trained before a type existed keeps its slots (its types are a prefix of these)
    "share_move": ("the company's shares move sharply: fall / sink / trade lower, rise / jump; the market's "
                   "verdict on news the feed may not carry", 1),
}

POLARITIES: tuple[int, ...] = (-1, 0, 1)  # negative, neutral, positive for the subject

# Roles of an entity mention with respect to the events of its article.
ROLES: tuple[str, ...] = ("subject", "source", "other")


@dataclass(frozen=True)
class Figure:
    """One stated figure against its estimate: 'EPS $0.28-$0.34 vs $0.70 Est.'.

    `actual` is the midpoint of a range; `surprise_pct` is (actual - estimate) / |estimate| * 100.
    """

    metric: str  # "eps" | "sales" | "other"
    actual: float
    estimate: float
    surprise_pct: float
    actual_low: float | None = None  # a stated range
    actual_high: float | None = None


@dataclass(frozen=True)
class FinancialEvent:
    type: str  # a key of EVENT_TYPES
    polarity: int  # -1, 0, 1 for the subject
    subject: str | None = None  # the company the event is about, as written in the text
    subject_span: tuple[int, int] | None = None  # character [start, end) of `subject` in the text
    source: str | None = None  # who reports or causes it (the broker of a rating), as written
    source_span: tuple[int, int] | None = None
    figures: tuple[Figure, ...] = ()  # stated figures against estimates, compared exactly
    exact: bool = False  # True: polarity from figures compared by the parser, not from wording
    detail: str = ""  # a sub-type: "beat", "miss", "in_line", "raise", "cut", "acquirer", "target", ...
    confidence: float = 1.0  # 1.0 for a parsed or pattern-matched event; the head's probability otherwise
    attributes: dict[str, str] = field(default_factory=dict, compare=False)

    def __post_init__(self) -> None:
        if self.type not in EVENT_TYPES:
            raise ValueError(f"unknown event type {self.type!r}; known: {', '.join(EVENT_TYPES)}")
        if self.polarity not in POLARITIES:
            raise ValueError(f"polarity must be -1, 0 or 1, got {self.polarity!r}")


# |surprise| (percent of the estimate) from which figures against estimates make a results or guidance
# event graver: guidance at half the estimate is a crisis, a cent below it is routine
SURPRISE_SEVERITY: tuple[tuple[float, int], ...] = ((20.0, 3), (10.0, 2))


# Sub-types graver or milder than their type's default: a settlement ends a case that a probe or a suit
# opens (the dense 2007 wire settled 726 cases in a year, each once or twice rewritten as an update); a
# failed trial is what a biotech is worth (ACADIA's ENHANCE read-out, AbbVie's Rova-T: one story each).
# A share move of a tenth or more in a day (detail "plunge" / "soar": the text states the percentage) is news
# in itself, whatever caused it ("Acadia Shares Fall 15% Premarket; CNN Article Reporting Deaths from
# Nuplazid"); a stated move under that, or none, is one more story of the day's news (1).
DETAIL_SEVERITY: dict[tuple[str, str], int] = {("legal", "settlement"): 1, ("clinical_trial", "failed"): 3,
                                               ("share_move", "plunge"): 3, ("share_move", "soar"): 3}
SHARP_MOVE_PCT = 10.0


def severity(event_type: str, surprise_pct: float | None = None, detail: str = "") -> int:
    """The severity of one story of this type (1 low .. 3 high): the type's default (or its sub-type's,
    DETAIL_SEVERITY), raised for results and guidance whose stated figures miss or beat the estimate by
    10 % (2) or 20 % (3)."""
    base = DETAIL_SEVERITY.get((event_type, detail), EVENT_TYPES[event_type][1])
    if surprise_pct is None:
        return base
    return max([base] + [grade for bound, grade in SURPRISE_SEVERITY if abs(surprise_pct) >= bound])


def figures_surprise(polarity: int, surprises: list[float]) -> float | None:
    """The largest surprise (percent) among the figures that point the event's way; None without figures
    or polarity."""
    pointing = [value for value in surprises if polarity and value * polarity > 0]
    return max(pointing, key=abs) if pointing else None
