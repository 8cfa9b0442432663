"""Model versions on disk, and which one is live.

Layout::

    <registry_dir>/
        v20261129-071203-ab12/      one trained model, never modified after it is written
            model.safetensors       weights
            config.json             model.network.modeling.ModelConfig (incl. the encoder's BertConfig)
            tokenizer.json, ...     the tokenizer (a copy: a version loads without the encoder folder)
            metadata.json           metrics, data hashes, training profile, duration, created_at
            casing.json             the words its training texts write in lower case (model/data/casing.py)
        LIVE                        the promoted version id (one line)
        LIVE.history                every promotion, oldest first (rollback walks it back)

Versions are written into a hidden temporary folder and renamed into place, and
LIVE is replaced with os.replace, so a stream worker polling `live_version`
never sees a half-written model. Version ids sort by creation time.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

LIVE_FILE = "LIVE"
HISTORY_FILE = "LIVE.history"
WEIGHTS_FILE = "model.safetensors"
CONFIG_FILE = "config.json"
METADATA_FILE = "metadata.json"
CASING_FILE = "casing.json"


class RegistryError(Exception):
    """A version is missing or the registry is not in the expected shape."""


@dataclass(frozen=True)
class VersionInfo:
    version: str
    path: Path
    created_at: str
    profile: str | None
    metrics: dict[str, Any]
    live: bool


def new_version_id(now: datetime | None = None) -> str:
    """A sortable id such as v20261129-071203-ab12 (UTC time + 4 random hex digits)."""
    now = now or datetime.now(UTC)
    return f"v{now:%Y%m%d-%H%M%S}-{secrets.token_hex(2)}"


def _write_text_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def version_dir(registry_dir: Path, version: str) -> Path:
    path = Path(registry_dir) / version
    if not (path / METADATA_FILE).is_file():
        raise RegistryError(f"no model version {version!r} in {registry_dir}")
    return path


def save_version(registry_dir: Path, model, tokenizer, metadata: dict[str, Any],  # noqa: ANN001
                 version: str | None = None, lower_case_words: frozenset[str] | None = None) -> str:
    """Write a JointModel, its tokenizer and metadata as a new version; return its id.

    `lower_case_words` (TrainResult.lower_case_words) goes to casing.json; a version without it reads
    title-case headlines as it did before that table existed.
    """
    from safetensors.torch import save_file

    registry_dir = Path(registry_dir)
    registry_dir.mkdir(parents=True, exist_ok=True)
    version = version or new_version_id()
    tmp = registry_dir / f".tmp-{version}"
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir()
    state = {k: v.detach().contiguous().cpu() for k, v in model.state_dict().items()}
    save_file(state, str(tmp / WEIGHTS_FILE))
    (tmp / CONFIG_FILE).write_text(json.dumps(model.config.to_dict(), indent=2), encoding="utf-8")
    tokenizer.save_pretrained(str(tmp))
    if lower_case_words is not None:
        (tmp / CASING_FILE).write_text(json.dumps({"lower_case_words": sorted(lower_case_words)}, indent=0),
                                       encoding="utf-8")
    full_metadata = {"version": version, "created_at": datetime.now(UTC).isoformat(), **metadata}
    (tmp / METADATA_FILE).write_text(json.dumps(full_metadata, indent=2, default=str), encoding="utf-8")
    os.rename(tmp, registry_dir / version)
    return version


def save_with_decision(registry_dir: Path, version: str, decision: dict[str, Any], note: str) -> str:
    """A new version: `version`'s weights, tokenizer and casing with `decision` merged into its metadata's
    `decision` (thresholds fitted after training); versions are immutable, so fitting writes a copy (not
    promoted) that records where it came from."""
    model, tokenizer = load_model(Path(registry_dir), version)
    metadata = {k: v for k, v in load_metadata(Path(registry_dir), version).items()
                if k not in ("version", "created_at")}
    metadata["decision"] = {**(metadata.get("decision") or {}), **decision, "calibrated_from": version}
    metadata["note"] = note
    return save_version(Path(registry_dir), model, tokenizer, metadata,
                        lower_case_words=load_lower_case_words(Path(registry_dir), version))


def load_lower_case_words(registry_dir: Path, version: str) -> frozenset[str]:
    """The version's casing table (model/data/casing.py); empty for a version saved without one."""
    path = version_dir(registry_dir, version) / CASING_FILE
    if not path.is_file():
        return frozenset()
    return frozenset(json.loads(path.read_text(encoding="utf-8"))["lower_case_words"])


def load_metadata(registry_dir: Path, version: str) -> dict[str, Any]:
    return json.loads((version_dir(registry_dir, version) / METADATA_FILE).read_text(encoding="utf-8"))


def list_versions(registry_dir: Path) -> list[VersionInfo]:
    """All complete versions, oldest first."""
    registry_dir = Path(registry_dir)
    if not registry_dir.is_dir():
        return []
    live = live_version(registry_dir)
    infos = []
    for path in sorted(registry_dir.iterdir()):
        if path.name.startswith(".") or not (path / METADATA_FILE).is_file():
            continue
        metadata = json.loads((path / METADATA_FILE).read_text(encoding="utf-8"))
        infos.append(VersionInfo(version=path.name, path=path, created_at=metadata.get("created_at", ""),
                                 profile=metadata.get("profile"), metrics=metadata.get("metrics", {}),
                                 live=path.name == live))
    return infos


def latest_version(registry_dir: Path) -> str | None:
    versions = list_versions(registry_dir)
    return versions[-1].version if versions else None


def live_version(registry_dir: Path) -> str | None:
    """The promoted version id, or None. One small file read: cheap enough to poll."""
    try:
        value = (Path(registry_dir) / LIVE_FILE).read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return None
    return value or None


def _history(registry_dir: Path) -> list[str]:
    try:
        return [line.strip() for line in (Path(registry_dir) / HISTORY_FILE).read_text().splitlines() if line.strip()]
    except FileNotFoundError:
        return []


def promote(registry_dir: Path, version: str) -> None:
    """Make `version` live (recorded in the history for rollback)."""
    version_dir(registry_dir, version)
    registry_dir = Path(registry_dir)
    history = _history(registry_dir)
    if history and history[-1] == version and live_version(registry_dir) == version:
        return
    _write_text_atomic(registry_dir / HISTORY_FILE, "\n".join(history + [version]) + "\n")
    _write_text_atomic(registry_dir / LIVE_FILE, version + "\n")


def rollback(registry_dir: Path) -> str:
    """Make the previously live version live again and return it."""
    registry_dir = Path(registry_dir)
    history = _history(registry_dir)
    current = live_version(registry_dir)
    while history and history[-1] == current:
        history.pop()
    if not history:
        raise RegistryError(f"nothing to roll back to in {registry_dir}: no earlier live version")
    previous = history[-1]
    version_dir(registry_dir, previous)
    _write_text_atomic(registry_dir / HISTORY_FILE, "\n".join(history) + "\n")
    _write_text_atomic(registry_dir / LIVE_FILE, previous + "\n")
    return previous


def resolve_version(registry_dir: Path, spec: str | None) -> str:
    """'live' / None -> the live version, 'latest' -> newest, else the id itself (checked)."""
    if spec in (None, "live"):
        version = live_version(registry_dir)
        if version is None:
            raise RegistryError(f"no live model in {registry_dir}: run `finsent models ensure` or `finsent train`")
        return version
    if spec == "latest":
        version = latest_version(registry_dir)
        if version is None:
            raise RegistryError(f"no model versions in {registry_dir}: run `finsent train`")
        return version
    version_dir(registry_dir, spec)
    return spec


def load_model(registry_dir: Path, version: str):  # noqa: ANN201
    """(JointModel in eval mode on CPU, tokenizer) of a saved version."""
    from safetensors.torch import load_file

    from model.network.modeling import JointModel, ModelConfig, load_tokenizer

    path = version_dir(registry_dir, version)
    config = ModelConfig.from_dict(json.loads((path / CONFIG_FILE).read_text(encoding="utf-8")))
    model = JointModel(config)
    model.load_state_dict(load_file(str(path / WEIGHTS_FILE)))
    model.eval()
    return model, load_tokenizer(path)
