"""Model release (model.serving.release, `finsent models release`, `finsent models ensure` on an empty registry).

A real 1-layer JointModel (model.testing.make_tiny_model) is released once per module; each test that
damages a release works on its own copy.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import torch
from click.testing import CliRunner
from safetensors import safe_open

from model.serving.predictor import NoLinker, Predictor
from model.serving.registry import live_version, load_metadata, load_model
from model.serving.release import (
    CARD_FILE,
    MANIFEST_FILE,
    ReleaseError,
    register_release,
    sha256_file,
    verify_release,
    write_release,
)
from model.testing import make_tiny_model

TEXTS = ["Apple beats estimates while Intel misses", "Deutsche Bank to cut 18,000 jobs", "Fed holds rates"]


@pytest.fixture(scope="module")
def released(tmp_path_factory) -> tuple[Path, str, Path]:
    """(registry, version, release folder) of a tiny model."""
    root = tmp_path_factory.mktemp("release")
    registry = root / "models"
    version = make_tiny_model(registry, promote=False, encoder_layers=1)
    (root / "reports").mkdir()
    write_release(registry, version, root / "release", reports_dir=root / "reports")
    return registry, version, root / "release"


@pytest.fixture()
def copy(released, tmp_path: Path) -> Path:
    """A copy of the release to damage."""
    return Path(shutil.copytree(released[2], tmp_path / "release"))


def test_release_holds_fp16_weights_and_a_manifest_of_every_file(released) -> None:
    registry, version, release = released
    manifest = json.loads((release / MANIFEST_FILE).read_text())
    names = {p.name for p in release.iterdir()}
    assert {"model.safetensors", "config.json", "metadata.json", "tokenizer.json", CARD_FILE, MANIFEST_FILE} <= names
    assert set(manifest["files"]) == names - {MANIFEST_FILE} and "onnx" not in names
    assert manifest["version"] == version and "float16" in manifest["weights"]["note"]
    for name, entry in manifest["files"].items():
        assert entry == {"sha256": sha256_file(release / name), "size": (release / name).stat().st_size}
    assert manifest["total_bytes"] == sum(p.stat().st_size for p in release.iterdir())
    with safe_open(str(registry / version / "model.safetensors"), "pt") as original, \
            safe_open(str(release / "model.safetensors"), "pt") as half:
        assert set(original.keys()) == set(half.keys())
        for key in original.keys():
            before, after = original.get_tensor(key), half.get_tensor(key)
            assert after.dtype == (torch.float16 if before.dtype == torch.float32 else before.dtype), key
    size = (release / "model.safetensors").stat().st_size
    assert size < 0.55 * (registry / version / "model.safetensors").stat().st_size
    assert version in (release / CARD_FILE).read_text()
    assert verify_release(release)["version"] == version


@pytest.mark.parametrize(("damage", "message"), [
    (lambda r: (r / "model.safetensors").write_bytes(_flip_last_byte(r / "model.safetensors")),
     r"model\.safetensors: SHA-256 mismatch \(manifest [0-9a-f]{12}\.\.\., file [0-9a-f]{12}\.\.\.\)"),
    (lambda r: (r / "vocab.txt").unlink(), r"vocab\.txt: missing \(listed in MANIFEST\.json\)"),
    (lambda r: (r / "notes.txt").write_text("hello"), r"notes\.txt: unexpected file, not listed in MANIFEST\.json"),
    (lambda r: (r / "config.json").write_text("{}"), r"config\.json: size mismatch"),
    (lambda r: (r / MANIFEST_FILE).unlink(), r"MANIFEST\.json: missing"),
], ids=["altered", "deleted", "unexpected", "resized", "no-manifest"])
def test_a_damaged_release_is_refused_naming_the_file(copy: Path, damage, message: str) -> None:
    damage(copy)
    with pytest.raises(ReleaseError, match=message):
        verify_release(copy)


def _flip_last_byte(path: Path) -> bytes:
    data = bytearray(path.read_bytes())
    data[-1] ^= 0x01
    return bytes(data)


def test_too_large_a_release_is_refused_and_the_old_one_kept(released, copy: Path) -> None:
    registry, version, _ = released
    before = sha256_file(copy / MANIFEST_FILE)
    with pytest.raises(ReleaseError, match=r"would be \d+\.\d MB .* over the limit of 1\.0 MB"):
        write_release(registry, version, copy, max_bytes=1_000_000)
    assert sha256_file(copy / MANIFEST_FILE) == before and verify_release(copy)
    assert [p.name for p in copy.parent.iterdir()] == ["release"]  # no temporary folder left behind


def test_rewriting_replaces_a_release_but_not_another_folder(released, copy: Path, tmp_path: Path) -> None:
    registry, version, _ = released
    (copy / "stale.txt").write_text("from an older release")
    write_release(registry, version, copy)
    assert not (copy / "stale.txt").exists() and CARD_FILE not in {p.name for p in copy.iterdir()}
    verify_release(copy)
    other = tmp_path / "other"
    other.mkdir()
    (other / "keep.txt").write_text("mine")
    with pytest.raises(ReleaseError, match="not a release"):
        write_release(registry, version, other)
    assert (other / "keep.txt").read_text() == "mine"


def test_a_registered_release_loads_and_predicts_like_the_original(released, tmp_path: Path) -> None:
    registry, version, release = released
    target = tmp_path / "models"
    assert register_release(release, target) == version
    assert register_release(release, target) == version  # already there: kept
    assert [p.name for p in target.iterdir()] == [version]
    model, _ = load_model(target, version)
    assert {t.dtype for n, t in model.state_dict().items() if t.is_floating_point()} == {torch.float32}
    metadata = load_metadata(target, version)
    assert metadata["profile"] == "tiny"
    assert metadata["release"]["manifest_sha256"] == sha256_file(release / MANIFEST_FILE)
    ours = Predictor.load(target, version, device="cpu", linker=NoLinker()).predict(TEXTS)
    theirs = Predictor.load(registry, version, device="cpu", linker=NoLinker()).predict(TEXTS)
    for a, b in zip(ours, theirs):
        assert a.sentiment_label == b.sentiment_label and a.topic == b.topic
        assert a.sentiment_probs == pytest.approx(b.sentiment_probs, abs=5e-3)
        assert a.topic_probs == pytest.approx(b.topic_probs, abs=5e-3)


def test_register_refuses_a_damaged_release(copy: Path, tmp_path: Path) -> None:
    (copy / "model.safetensors").write_bytes(_flip_last_byte(copy / "model.safetensors"))
    with pytest.raises(ReleaseError, match="model.safetensors: SHA-256 mismatch"):
        register_release(copy, tmp_path / "models")
    assert not (tmp_path / "models").exists()


def test_ensure_plans_the_release_only_for_an_empty_registry(released, tmp_path: Path) -> None:
    from finsent.model_commands import first_model_plan
    from model.serving.registry import promote

    registry, version, release = released
    empty = tmp_path / "models"
    assert first_model_plan(empty, release) == "release"
    assert first_model_plan(empty, tmp_path / "no-release") == "train"
    (tmp_path / "hidden-only").mkdir()
    (tmp_path / "hidden-only" / ".gitkeep").write_text("")
    assert first_model_plan(empty, tmp_path / "hidden-only") == "train"
    live_registry = tmp_path / "live"
    shutil.copytree(registry, live_registry)
    promote(live_registry, version)
    assert first_model_plan(live_registry, release) == "live"


@pytest.fixture()
def ensure_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    """`finsent models ensure` on an empty registry in tmp_path, no training, database or ONNX export."""
    import finsent.model_commands as commands
    import monitor.storage.model_versions as model_versions
    from kernel.settings import load_settings

    reasons: list[str | None] = []

    def settings_with(release_dir: Path):
        settings = load_settings(registry_dir=tmp_path / "models", release_dir=release_dir, device="cpu")
        monkeypatch.setattr(commands, "get_settings", lambda: settings)
        return settings

    monkeypatch.setattr(commands, "run_training", lambda *a, **k: pytest.fail("ensure trained despite a release"))
    monkeypatch.setattr(commands, "_prepare_serving", lambda version: None)
    monkeypatch.setattr(model_versions, "sync_after_pointer_change",
                        lambda registry, reason, *a, **k: reasons.append(reason))
    return settings_with, reasons


def test_ensure_registers_and_promotes_the_release(released, ensure_env, tmp_path: Path) -> None:
    from finsent.model_commands import models

    _, version, release = released
    settings_with, reasons = ensure_env
    settings_with(release)
    result = CliRunner().invoke(models, ["ensure"])
    assert result.exit_code == 0, result.output
    assert f"live: {version}" in result.output
    assert live_version(tmp_path / "models") == version
    assert reasons and reasons[0].startswith("first live model: the release in ")


def test_ensure_with_a_damaged_release_fails_instead_of_training(copy: Path, ensure_env, tmp_path: Path) -> None:
    from finsent.model_commands import models

    settings_with, _ = ensure_env
    (copy / "tokenizer.json").unlink()
    settings_with(copy)
    result = CliRunner().invoke(models, ["ensure"])
    assert result.exit_code == 1 and "tokenizer.json: missing" in result.output
    assert live_version(tmp_path / "models") is None


def test_release_command_writes_the_folder(released, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import finsent.model_commands as commands

    registry, version, _ = released
    monkeypatch.setattr(commands, "_registry_dir", lambda: registry)
    monkeypatch.setattr(commands, "REPORTS_DIR", tmp_path / "reports")
    result = CliRunner().invoke(commands.models, ["release", version, "--out", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    assert f"release: {tmp_path / 'out'} ({version}" in result.output
    assert verify_release(tmp_path / "out")["version"] == version
    missing = CliRunner().invoke(commands.models, ["release", "v1", "--out", str(tmp_path / "x")])
    assert missing.exit_code == 1 and "no model version 'v1'" in missing.output
