"""A new install serves the release committed in `release/` without training (issue #26).

`finsent models ensure` (what `make run` runs first) against an empty registry and the real PostgreSQL:
the release is verified, registered and promoted, and `model_versions` says so. No training: the registry
holds the release's version and nothing else, and the data folder it is given is empty.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from kernel.paths import PROJECT_ROOT
from model.serving.registry import list_versions, live_version

pytestmark = pytest.mark.integration

RELEASE = PROJECT_ROOT / "release"


def test_a_new_install_registers_the_release_as_its_first_live_model(database_url: str, tmp_path: Path) -> None:
    version = json.loads((RELEASE / "MANIFEST.json").read_text())["version"]
    registry, empty_data = tmp_path / "models", tmp_path / "data"
    empty_data.mkdir()
    env = {**os.environ, "FINSENT_REGISTRY_DIR": str(registry), "FINSENT_RELEASE_DIR": str(RELEASE),
           "FINSENT_DATABASE_URL": database_url, "FINSENT_DATA_DIR": str(empty_data),
           "FINSENT_MODEL_BACKEND": "torch",  # the int8 export and its parity check are tested elsewhere
           "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    done = subprocess.run([sys.executable, "-m", "finsent.cli", "models", "ensure"], env=env, cwd=PROJECT_ROOT,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"live: {version}" in done.stdout + done.stderr
    assert [info.version for info in list_versions(registry)] == [version]  # nothing trained beside it
    assert live_version(registry) == version
    with create_engine(database_url).connect() as connection:
        row = connection.execute(text("SELECT status, is_live FROM model_versions "
                                      "WHERE version = :v"), {"v": version}).one()
    assert (row.status, row.is_live) == ("promoted", True), row
