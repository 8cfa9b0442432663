"""The release committed in `release/` (issue #26): it verifies, loads offline and says what it said when it was
made, and a damaged copy is refused naming the file.

The expectations (tests/fixtures/release/expectations.json) were written from the release itself, by
`FINSENT_UPDATE_RELEASE_EXPECTATIONS=1 pytest tests/unit/test_committed_release.py`, when it was committed; a
new release rewrites them the same way (the test names the version they belong to).
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from kernel.paths import PROJECT_ROOT
from model.serving.predictor import NoLinker, Predictor
from model.serving.release import MANIFEST_FILE, ReleaseError, register_release, verify_release

RELEASE = PROJECT_ROOT / "release"
EXPECTATIONS = PROJECT_ROOT / "tests" / "fixtures" / "release" / "expectations.json"
HEADLINES = [
    "Sees Q1 Adj. EPS $0.28-$0.34 vs $0.70 Est., Sales $67M-$71M vs $87.2M Est.",
    "Barclays Maintains Overweight on Agilent Technologies, Raises Price Target to $83",
    "ACADIA Pharma Reports Top-Line Results From Phase 3 ENHANCE Trial: 'did not achieve statistical "
    "significance on the primary endpoint'",
    "Rosenblatt Downgrades Applied Optoelectronics to Neutral, Lowers Price Target of $10",
    "Thomas Cook collapses, stranding 150,000 holidaymakers",
    "Apple beats estimates while Intel misses",
    "Deutsche Bank to cut 18,000 jobs",
    "Fed holds rates steady as inflation cools",
    "Acadia Shares Fall 15% Premarket; CNN Article Reporting Deaths from Nuplazid",
    "Boeing wins $10 billion order from Emirates",
]


def outputs(registry: Path, version: str) -> list[dict]:
    results = Predictor.load(registry, version, device="cpu", backend="torch", linker=NoLinker()).predict(HEADLINES)
    return [{"headline": text, "topic": r.topic, "sentiment": r.sentiment_label,
             "sentiment_probs": [round(p, 4) for p in r.sentiment_probs],
             "entities": [[e.text, e.entity_type, e.sentiment_label] for e in r.entities],
             "events": sorted([e.type, e.polarity] for e in r.events)}
            for text, r in zip(HEADLINES, results, strict=True)]


def test_the_committed_release_loads_offline_and_predicts_as_recorded(monkeypatch: pytest.MonkeyPatch,
                                                                     tmp_path: Path) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("TRANSFORMERS_OFFLINE", "1")
    manifest = verify_release(RELEASE)
    version = register_release(RELEASE, tmp_path / "models")
    assert version == manifest["version"]
    got = outputs(tmp_path / "models", version)
    if os.environ.get("FINSENT_UPDATE_RELEASE_EXPECTATIONS"):
        EXPECTATIONS.write_text(json.dumps({"version": version, "outputs": got}, indent=1) + "\n")
    expected = json.loads(EXPECTATIONS.read_text())
    assert expected["version"] == version, (
        f"{EXPECTATIONS} belongs to {expected['version']}, the release is {version}: rewrite it with "
        "FINSENT_UPDATE_RELEASE_EXPECTATIONS=1")
    for want, have in zip(expected["outputs"], got, strict=True):
        assert (have["topic"], have["sentiment"], have["entities"], have["events"]) == (
            want["topic"], want["sentiment"], want["entities"], want["events"]), want["headline"]
        assert have["sentiment_probs"] == pytest.approx(want["sentiment_probs"], abs=2e-3), want["headline"]


def test_an_altered_weight_file_of_the_release_is_refused_naming_it(tmp_path: Path) -> None:
    copy = Path(shutil.copytree(RELEASE, tmp_path / "release"))
    weights = copy / "model.safetensors"
    data = bytearray(weights.read_bytes())
    data[-1] ^= 0xFF  # one bit pattern of one weight, the size unchanged
    weights.write_bytes(bytes(data))
    with pytest.raises(ReleaseError, match=r"model\.safetensors: SHA-256 mismatch"):
        verify_release(copy)
    assert json.loads((copy / MANIFEST_FILE).read_text())["version"]  # the manifest itself untouched
