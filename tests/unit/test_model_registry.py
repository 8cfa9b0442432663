"""Registry: versions, LIVE, promote/rollback, atomic layout (model.serving.registry)."""

from __future__ import annotations

from datetime import UTC
from pathlib import Path

import pytest
import torch

from model.network.modeling import JointModel, ModelConfig, default_encoder_path, load_tokenizer
from model.serving.registry import (
    RegistryError,
    list_versions,
    live_version,
    load_metadata,
    new_version_id,
    promote,
    resolve_version,
    rollback,
    save_version,
)


@pytest.fixture(scope="module")
def saved(tmp_path_factory) -> tuple[Path, list[str]]:
    """A registry with three versions of a 1-layer model (saved once for the module)."""
    registry = tmp_path_factory.mktemp("registry")
    torch.manual_seed(0)
    model = JointModel(ModelConfig(encoder_layers=1))
    tokenizer = load_tokenizer(default_encoder_path())
    versions = [save_version(registry, model, tokenizer, {"profile": "test", "metrics": {"x": i}},
                             version=f"v20260101-00000{i}-abcd") for i in range(3)]
    return registry, versions


def test_version_ids_sort_by_time() -> None:
    from datetime import datetime

    early = new_version_id(datetime(2026, 1, 1, 9, 5, 3, tzinfo=UTC))
    late = new_version_id(datetime(2026, 1, 1, 10, 0, 0, tzinfo=UTC))
    assert early.startswith("v20260101-090503-") and early < late


def test_saved_version_layout(saved) -> None:
    registry, versions = saved
    folder = registry / versions[0]
    assert {"model.safetensors", "config.json", "metadata.json", "tokenizer.json"} <= {p.name for p in folder.iterdir()}
    assert not [p for p in registry.iterdir() if p.name.startswith(".tmp")]
    metadata = load_metadata(registry, versions[0])
    assert metadata["version"] == versions[0] and metadata["metrics"] == {"x": 0} and metadata["created_at"]


def test_promote_and_rollback_walk_the_history(saved) -> None:
    registry, versions = saved
    assert live_version(registry) is None
    with pytest.raises(RegistryError, match="no live model"):
        resolve_version(registry, "live")
    promote(registry, versions[0])
    promote(registry, versions[2])
    promote(registry, versions[1])
    assert live_version(registry) == versions[1]
    assert [v.version for v in list_versions(registry) if v.live] == [versions[1]]
    assert rollback(registry) == versions[2]
    assert rollback(registry) == versions[0]
    assert live_version(registry) == versions[0]
    with pytest.raises(RegistryError, match="nothing to roll back to"):
        rollback(registry)
    assert resolve_version(registry, "latest") == versions[2]


def test_unknown_versions_are_refused(saved) -> None:
    registry, _ = saved
    with pytest.raises(RegistryError, match="no model version 'v1'"):
        promote(registry, "v1")
    assert list_versions(registry / "missing") == []
