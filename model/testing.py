"""Helpers for other parts' tests: a real, small model in a registry in seconds.

    from model.testing import make_tiny_model
    version = make_tiny_model(tmp_path / "models")       # promoted: Predictor.load(tmp_path / "models") works
    version = make_fitted_model(tmp_path / "models", examples)  # heads fitted: predictions you can rely on

The model is a real JointModel: the bundled MiniLM encoder (pretrained weights,
so tokenisation and shapes are exactly as in production) with randomly
initialised heads. Its predictions are meaningless but well-formed, which is
enough to test plumbing. Tests whose outcome depends on what the model says
(an alert must fire on a burst of negative headlines) fit the heads to their
own labelled examples first: the encoder stays frozen, so that takes seconds.
"""

from __future__ import annotations

import random
from pathlib import Path

import torch

from model.data.examples import Example
from model.network.collate import collate, encode_example
from model.network.modeling import JointModel, ModelConfig, default_encoder_path, load_tokenizer
from model.serving.registry import promote as promote_version
from model.serving.registry import save_version


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


def make_fitted_model(registry_dir: Path, examples: list[Example], promote: bool = True,
                      encoder_layers: int | None = 2, steps: int = 200, batch_size: int = 64, seed: int = 0) -> str:
    """Like make_tiny_model, with the heads trained on `examples` (encoder frozen); the version is saved only
    if it then labels every example's sentiment right.

    Examples with `entities=[]` teach the tagger to find nothing, so such a
    model links no entity by accident. Raises AssertionError when the heads
    cannot fit the examples (texts too alike for a frozen encoder).
    """
    torch.manual_seed(seed)
    rng = random.Random(seed)
    model = JointModel(ModelConfig(encoder_layers=encoder_layers))
    tokenizer = load_tokenizer(default_encoder_path())
    for parameter in [*model.encoder.parameters(), *model.sentiment_head.source_offset.parameters()]:
        parameter.requires_grad_(False)  # source row 0 ("shared") is what inference uses: keep it zero
    encoded = [encode_example(tokenizer, example, source_id=0) for example in examples]
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=3e-3)
    model.train()
    model.encoder.eval()  # frozen and without dropout: the heads see exactly what inference will give them
    for _ in range(steps):
        batch, labels = collate(rng.sample(encoded, min(batch_size, len(encoded))))
        output = model(batch, labels)
        assert output.loss is not None, "the examples label no task"
        output.loss.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
    model.eval()
    wrong = []
    with torch.no_grad():
        for start in range(0, len(encoded), 256):
            batch, labels = collate(encoded[start:start + 256])
            predicted = model(batch).sentiment_logits.argmax(-1)
            wrong += [examples[start + i].text for i, (got, wanted) in enumerate(zip(predicted, labels.sentiment))
                      if wanted >= 0 and got != wanted]
    assert not wrong, f"the fitted heads still get {len(wrong)} sentiment labels wrong, e.g. {wrong[:3]}"
    version = save_version(Path(registry_dir), model, tokenizer,
                           {"profile": "fitted", "metrics": {},
                            "note": f"heads fitted to {len(examples)} test examples"})
    if promote:
        promote_version(Path(registry_dir), version)
    return version
