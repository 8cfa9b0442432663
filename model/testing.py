"""Helpers for other parts' tests: a real, small model in a registry in seconds.

    from model.testing import make_tiny_model
    version = make_tiny_model(tmp_path / "models")       # promoted: Predictor.load(tmp_path / "models") works

The model is a real JointModel: the bundled MiniLM encoder (pretrained weights,
so tokenisation and shapes are exactly as in production) with randomly
initialised heads. Its predictions are meaningless but well-formed.
"""

from __future__ import annotations

from pathlib import Path

import torch

from model.modeling import JointModel, ModelConfig, default_encoder_path, load_tokenizer
from model.registry import promote as promote_version
from model.registry import save_version


def make_tiny_model(registry_dir: Path, promote: bool = True, encoder_layers: int | None = 2, seed: int = 0) -> str:
    """Write a JointModel with random heads into `registry_dir`; return its version id.

    `encoder_layers=2` keeps only the first two encoder layers: loading and
    inference are then ~3x faster, which is what tests want.
    """
    torch.manual_seed(seed)
    model = JointModel(ModelConfig(encoder_layers=encoder_layers)).eval()
    tokenizer = load_tokenizer(default_encoder_path())
    version = save_version(Path(registry_dir), model, tokenizer,
                           {"profile": "tiny", "metrics": {}, "note": "random heads, for tests"})
    if promote:
        promote_version(Path(registry_dir), version)
    return version
