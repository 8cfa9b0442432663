"""A model release: one self-contained, checksummed folder that travels with the repository.

    finsent models release VERSION [--out release/]   # write it (replaces the folder's contents)
    finsent models ensure                             # empty registry + a release: registers and promotes it

Layout::

    release/
        model.safetensors       the version's weights, float32 tensors stored as float16 (half the size)
        config.json             as in the registry version
        metadata.json           as in the registry version (metrics, data hashes, profile, seed, ...)
        casing.json             where the version has one
        tokenizer.json, ...     the tokenizer files
        MODEL_CARD.md           the version's model card (model.reports.model_card)
        MANIFEST.json           every other file's SHA-256 and size, the version id and the fp16 note

Reading a release (`verify_release`) checks the manifest first: a listed file
that is missing, has another size or another SHA-256, or a file the manifest
does not list, is a ReleaseError naming the file. `register_release` copies a
verified release into a registry as an ordinary version (same version id), the
float16 tensors upcast back to float32, so loading, the int8 ONNX export and
its parity check treat it like any trained version.

Why fp16: the MiniLM joint model is ~92 MB in float32 and a release must stay
under 50 MB; float16 keeps the predictions (the upcast weights differ from the
trained ones by at most float16 rounding, ~1e-3 relative).
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypedDict

MANIFEST_FILE = "MANIFEST.json"
CARD_FILE = "MODEL_CARD.md"
RELEASE_FORMAT = "finsent-release/1"
MAX_RELEASE_BYTES = 50_000_000  # 50 MB, the manifest included
# safetensors header key listing the tensors that were float32 before the release stored them as float16
FP16_FROM_FP32_KEY = "finsent_float16_from_float32"
FP16_NOTE = ("float32 tensors are stored as float16 (half the size); registering the release upcasts them back "
             "to float32, so predictions match the trained weights up to float16 rounding")
REQUIRED_FILES = ("model.safetensors", "config.json", "metadata.json")


class ManifestFile(TypedDict):
    """One file of the release, as the manifest's "files" lists it."""

    sha256: str
    size: int


class ReleaseError(Exception):
    """A release cannot be written (too large, bad weights) or read (a file missing, altered or unexpected)."""


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _megabytes(n_bytes: int) -> str:
    return f"{n_bytes / 1e6:.1f} MB ({n_bytes:,} bytes)"


def _write_fp16_weights(source: Path, target: Path) -> list[str]:
    """Copy the safetensors file with float32 tensors as float16; return the names converted."""
    import torch
    from safetensors.torch import load_file, save_file

    state = load_file(str(source))
    converted = []
    for name in sorted(state):
        tensor = state[name]
        if tensor.dtype != torch.float32:
            continue  # integer buffers (position ids) and other dtypes stay as they are
        half = tensor.to(torch.float16)
        if not torch.isfinite(half[torch.isfinite(tensor)]).all():
            raise ReleaseError(f"{source}: tensor {name} has values beyond float16's range (|x| > 65504)")
        state[name] = half.contiguous()
        converted.append(name)
    save_file(state, str(target), metadata={"format": "pt", FP16_FROM_FP32_KEY: json.dumps(converted)})
    return converted


def _source_files(version_path: Path) -> list[Path]:
    """The version's own files: weights, config, metadata, casing, tokenizer (not onnx/ or hidden files)."""
    return sorted(p for p in version_path.iterdir() if p.is_file() and not p.name.startswith("."))


def _clear_target(out_dir: Path) -> None:
    """Refuse to replace a folder that holds something other than a release (a mistyped --out)."""
    if out_dir.exists() and not out_dir.is_dir():
        raise ReleaseError(f"{out_dir} exists and is not a folder")
    if out_dir.is_dir() and any(out_dir.iterdir()) and not (out_dir / MANIFEST_FILE).is_file():
        raise ReleaseError(f"{out_dir} is not empty and holds no {MANIFEST_FILE}: not replacing a folder that is "
                           "not a release (choose another output folder or empty it)")


def write_release(registry_dir: Path, version: str, out_dir: Path, reports_dir: Path | None = None,
                  max_bytes: int = MAX_RELEASE_BYTES) -> dict[str, Any]:
    """Write `version` of the registry as a release into `out_dir`, replacing what was there; return the manifest.

    Everything is written into a hidden sibling folder first and renamed into
    place only once it is complete and within `max_bytes`, so a failed or
    interrupted run leaves the previous release as it was. With `reports_dir`
    the model card is written from it (model.reports.model_card); without it the
    release has no card.
    """
    from model.serving.registry import WEIGHTS_FILE, version_dir

    registry_dir, out_dir = Path(registry_dir), Path(out_dir)
    source = version_dir(registry_dir, version)
    _clear_target(out_dir)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = out_dir.parent / f".{out_dir.name}.tmp-{secrets.token_hex(4)}"
    tmp.mkdir(mode=0o755)
    try:
        converted: list[str] = []
        for path in _source_files(source):
            if path.name in (MANIFEST_FILE, CARD_FILE):
                continue
            if path.name == WEIGHTS_FILE:
                converted = _write_fp16_weights(path, tmp / WEIGHTS_FILE)
            else:
                shutil.copyfile(path, tmp / path.name)
        missing = [name for name in REQUIRED_FILES if not (tmp / name).is_file()]
        if missing:
            raise ReleaseError(f"{source}: no {', '.join(missing)}: not a complete version")
        if reports_dir is not None:
            from model.reports.model_card import write_model_card

            write_model_card(registry_dir, version, Path(reports_dir), tmp / CARD_FILE)
        for path in tmp.iterdir():
            path.chmod(0o644)  # readable by everyone who clones the repository (the weights were 0600)
        files: dict[str, ManifestFile] = {p.name: {"sha256": sha256_file(p), "size": p.stat().st_size}
                                          for p in sorted(tmp.iterdir())}
        manifest: dict[str, Any] = {
            "format": RELEASE_FORMAT,
            "version": version,
            "created_at": datetime.now(UTC).isoformat(),
            "weights": {"file": WEIGHTS_FILE, "dtype": "float16", "float16_from_float32": len(converted),
                        "note": FP16_NOTE},
            "files": files,
        }
        files_bytes = sum(f["size"] for f in files.values())
        while True:  # total_bytes counts the manifest itself: write it until the figure is stable
            text = json.dumps(manifest, indent=2) + "\n"
            total = files_bytes + len(text.encode("utf-8"))
            if manifest.get("total_bytes") == total:
                break
            manifest["total_bytes"] = total
        (tmp / MANIFEST_FILE).write_text(text, encoding="utf-8")
        (tmp / MANIFEST_FILE).chmod(0o644)
        total = sum(p.stat().st_size for p in tmp.iterdir())
        if total > max_bytes:
            biggest = max(files, key=lambda n: files[n]["size"])
            raise ReleaseError(f"release of {version} would be {_megabytes(total)}, over the limit of "
                               f"{_megabytes(max_bytes)} (largest file: {biggest}, "
                               f"{_megabytes(files[biggest]['size'])})")
        _replace_folder(tmp, out_dir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return manifest


def _replace_folder(new: Path, target: Path) -> None:
    """Put `new` at `target`: the old folder is moved aside, the new one renamed in, the old one deleted."""
    old = None
    if target.exists():
        old = target.parent / f".{target.name}.old-{secrets.token_hex(4)}"
        os.rename(target, old)
    try:
        os.rename(new, target)
    except BaseException:
        if old is not None:
            os.rename(old, target)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def read_manifest(release_dir: Path) -> dict[str, Any]:
    """The release's MANIFEST.json, its shape checked (not the files: see verify_release)."""
    release_dir = Path(release_dir)
    path = release_dir / MANIFEST_FILE
    if not release_dir.is_dir():
        raise ReleaseError(f"{release_dir}: no such release folder")
    if not path.is_file():
        raise ReleaseError(f"{path}: missing (a release lists its files and their SHA-256 there)")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise ReleaseError(f"{path}: not valid JSON ({error})") from None
    files = manifest.get("files") if isinstance(manifest, dict) else None
    if (not isinstance(files, dict) or not isinstance(manifest.get("version"), str)
            or manifest.get("format") != RELEASE_FORMAT):
        raise ReleaseError(f"{path}: not a {RELEASE_FORMAT} manifest (needs format, version and files)")
    for name, entry in files.items():
        if (Path(name).name != name or name in ("", ".", "..", MANIFEST_FILE) or not isinstance(entry, dict)
                or not isinstance(entry.get("sha256"), str) or not isinstance(entry.get("size"), int)):
            raise ReleaseError(f"{path}: bad entry {name!r} (expected a plain file name with sha256 and size)")
    absent = [name for name in REQUIRED_FILES if name not in files]
    if absent:
        raise ReleaseError(f"{path}: lists no {', '.join(absent)}")
    return manifest


def verify_release(release_dir: Path) -> dict[str, Any]:
    """Check every file of the release against its manifest; return the manifest.

    Raises ReleaseError naming the first file that is missing, altered (size or
    SHA-256) or not listed in the manifest.
    """
    release_dir = Path(release_dir)
    manifest = read_manifest(release_dir)
    files: dict[str, dict[str, Any]] = manifest["files"]
    present = {p.relative_to(release_dir).as_posix() for p in release_dir.rglob("*")
               if p.is_file() or p.is_symlink()}
    unexpected = sorted(present - set(files) - {MANIFEST_FILE})
    if unexpected:
        raise ReleaseError(f"{release_dir / unexpected[0]}: unexpected file, not listed in {MANIFEST_FILE}")
    for name, entry in sorted(files.items()):
        path = release_dir / name
        if not path.is_file():
            raise ReleaseError(f"{path}: missing (listed in {MANIFEST_FILE})")
        size = path.stat().st_size
        if size != entry["size"]:
            raise ReleaseError(f"{path}: size mismatch (manifest {entry['size']:,} bytes, file {size:,} bytes)")
        digest = sha256_file(path)
        if digest != entry["sha256"]:
            raise ReleaseError(f"{path}: SHA-256 mismatch (manifest {entry['sha256'][:12]}..., "
                               f"file {digest[:12]}...)")
    return manifest


def has_release(release_dir: Path) -> bool:
    """Whether there is a release to use: the folder exists and holds anything but hidden files.

    A folder with files but a broken manifest counts (verify_release then says what is wrong) so that
    a damaged release is reported instead of silently ignored.
    """
    release_dir = Path(release_dir)
    return release_dir.is_dir() and any(not p.name.startswith(".") for p in release_dir.iterdir())


def _write_fp32_weights(source: Path, target: Path) -> None:
    """The release weights with the tensors it stored as float16 back in float32."""
    import torch
    from safetensors import safe_open
    from safetensors.torch import load_file, save_file

    with safe_open(str(source), framework="pt") as handle:
        header = handle.metadata() or {}
    state = load_file(str(source))
    names = json.loads(header[FP16_FROM_FP32_KEY]) if FP16_FROM_FP32_KEY in header else \
        [n for n, t in state.items() if t.dtype == torch.float16]
    for name in names:
        state[name] = state[name].to(torch.float32).contiguous()
    save_file(state, str(target), metadata={"format": "pt"})


def register_release(release_dir: Path, registry_dir: Path) -> str:
    """Verify the release and add it to the registry as a version with its own id; return the id.

    The weights are upcast to float32 and metadata.json notes where the version
    came from. Nothing is promoted. A registry that already holds the version id
    keeps its copy (the trained float32 weights, where it is the machine that made
    the release) and the id is returned.
    """
    from model.serving.registry import METADATA_FILE, WEIGHTS_FILE

    release_dir, registry_dir = Path(release_dir), Path(registry_dir)
    manifest = verify_release(release_dir)
    version = manifest["version"]
    if (registry_dir / version / METADATA_FILE).is_file():
        return version
    registry_dir.mkdir(parents=True, exist_ok=True)
    tmp = registry_dir / f".tmp-{version}"
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir()
    try:
        for name in sorted(manifest["files"]):
            if name == CARD_FILE:
                continue
            if name == WEIGHTS_FILE:
                _write_fp32_weights(release_dir / name, tmp / name)
            elif name == METADATA_FILE:
                metadata = json.loads((release_dir / name).read_text(encoding="utf-8"))
                metadata["release"] = {
                    "registered_at": datetime.now(UTC).isoformat(),
                    "from": str(release_dir),
                    "manifest_sha256": sha256_file(release_dir / MANIFEST_FILE),
                    "weights": "float16 in the release, upcast to float32 here",
                }
                (tmp / name).write_text(json.dumps(metadata, indent=2, default=str), encoding="utf-8")
            else:
                shutil.copyfile(release_dir / name, tmp / name)
        os.rename(tmp, registry_dir / version)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return version
