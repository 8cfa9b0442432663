"""Detectors on constructed series: a spike fires, noise does not, a slow drift fires CUSUM only."""

from __future__ import annotations

import random

import pytest

from monitor.alerts.detectors.cusum import cusum
from monitor.alerts.detectors.ewma import ewma_zscore
from monitor.alerts.detectors.windowed import robust_level
from monitor.alerts.detectors.zscore import robust_zscore


def noisy(level: float, spread: float, n: int, seed: int = 7) -> list[float]:
    rng = random.Random(seed)
    return [level + rng.uniform(-spread, spread) for _ in range(n)]


BASELINE = noisy(0.20, 0.04, 96)  # a day of 15-minute negative shares around 20%


def test_robust_level_ignores_one_outlier() -> None:
    median, sigma = robust_level([0.2, 0.21, 0.19, 0.2, 0.22, 0.18, 0.95], min_deviation=0.001)
    assert median == pytest.approx(0.2)
    assert sigma == pytest.approx(1.4826 * 0.01)


def test_zscore_fires_on_a_spike() -> None:
    detection = robust_zscore(0.65, BASELINE, threshold=3.5, min_deviation=0.02)
    assert detection.fired
    assert detection.zscore > 10
    assert detection.baseline == pytest.approx(0.20, abs=0.02)


def test_zscore_stays_quiet_on_noise() -> None:
    fired = [robust_zscore(v, BASELINE, threshold=3.5, min_deviation=0.02).fired for v in noisy(0.20, 0.04, 200, 11)]
    assert not any(fired)


def test_direction_down_fires_on_a_fall_only() -> None:
    scores = noisy(0.10, 0.05, 96)
    assert robust_zscore(-0.6, scores, threshold=3, min_deviation=0.05, rising_is_bad=False).fired
    assert not robust_zscore(0.8, scores, threshold=3, min_deviation=0.05, rising_is_bad=False).fired


def test_min_deviation_floors_a_flat_baseline() -> None:
    flat = [0.0] * 50
    detection = robust_zscore(0.04, flat, threshold=3, min_deviation=0.05)
    assert detection.baseline_sigma == 0.05
    assert not detection.fired


def test_ewma_fires_on_a_spike_and_not_on_noise() -> None:
    assert ewma_zscore(0.6, BASELINE, alpha=0.2, threshold=3, min_deviation=0.02).fired
    assert not ewma_zscore(0.23, BASELINE, alpha=0.2, threshold=3, min_deviation=0.02).fired


def test_ewma_follows_a_new_level() -> None:
    """After the level moved to 0.4, 0.42 is normal for EWMA though far above the old median."""
    shifted = BASELINE[:48] + noisy(0.40, 0.02, 48, 3)
    assert not ewma_zscore(0.42, shifted, alpha=0.3, threshold=3, min_deviation=0.02).fired
    assert robust_zscore(0.42, BASELINE, threshold=3, min_deviation=0.02).fired


def slow_drift() -> tuple[list[float], float]:
    """48 windows around 0.20, then 48 windows creeping up to 0.25 (+0.001 per window)."""
    stable = noisy(0.20, 0.01, 48, 5)
    creeping = [v + 0.001 * (i + 1) for i, v in enumerate(noisy(0.20, 0.01, 48, 6))]
    return stable + creeping, 0.20 + 0.001 * 49


def test_slow_drift_fires_cusum_but_not_the_zscore() -> None:
    baseline, current = slow_drift()
    drift = cusum(current, baseline, k=0.5, h=5, min_deviation=0.01)
    spike = robust_zscore(current, baseline, threshold=3.5, min_deviation=0.01)
    assert drift.fired and drift.statistic > 5
    assert not spike.fired


def test_cusum_stays_quiet_on_a_stable_series() -> None:
    series = noisy(0.20, 0.01, 96, 9)
    assert not cusum(series[-1], series[:-1], k=0.5, h=5, min_deviation=0.01).fired


def test_cusum_does_not_fire_once_the_value_is_back_below_its_baseline() -> None:
    """A drift that built up the sum but has reversed: the alert would report value < baseline for an up rule."""
    reference = noisy(0.20, 0.01, 48)
    drifted = [0.30] * 24  # the newer half: far above the reference, the sum is large
    assert cusum(0.32, reference + drifted, k=0.5, h=5, min_deviation=0.02).fired
    below = cusum(0.15, reference + drifted, k=0.5, h=5, min_deviation=0.02)
    assert below.statistic >= 5 and below.value < below.baseline
    assert not below.fired


@pytest.mark.parametrize("seed", range(5))
def test_no_detector_fires_below_its_baseline_for_an_upward_rule(seed: int) -> None:
    rng = random.Random(seed)
    for _ in range(200):
        baseline = noisy(rng.uniform(0.05, 0.6), rng.uniform(0.0, 0.2), 96, rng.randrange(10_000))
        value = rng.uniform(0.0, 1.0)
        for detection in (robust_zscore(value, baseline, threshold=1.0, min_deviation=0.01),
                          ewma_zscore(value, baseline, alpha=0.2, threshold=1.0, min_deviation=0.01),
                          cusum(value, baseline, k=0.5, h=2, min_deviation=0.01)):
            if detection.fired:
                assert detection.value > detection.baseline and detection.zscore > 0
