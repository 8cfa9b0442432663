"""The bootstrap's disk check: the unpacked size of exactly the wheels the lock pins."""

import importlib.util
import zipfile
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "env_space.py"
spec = importlib.util.spec_from_file_location("env_space", SCRIPT)
env_space = importlib.util.module_from_spec(spec)
spec.loader.exec_module(env_space)


def _wheel(folder: Path, name: str, payload_bytes: int) -> None:
    with zipfile.ZipFile(folder / name, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("pkg/data.bin", b"\0" * payload_bytes)


def test_counts_the_unpacked_size_of_pinned_wheels_only(tmp_path: Path) -> None:
    lock = tmp_path / "requirements.lock"
    lock.write_text("# a comment\nSentence.Transformers==5.7.0\ntorch==2.9.1 ; python_version >= '3.11'\n")
    _wheel(tmp_path, "sentence_transformers-5.7.0-py3-none-any.whl", 1_000)
    _wheel(tmp_path, "torch-2.9.1-cp311-cp311-manylinux_2_28_x86_64.whl", 50_000)
    _wheel(tmp_path, "torch-2.8.0-cp311-cp311-manylinux_2_28_x86_64.whl", 70_000)  # another lock's version
    _wheel(tmp_path, "click-8.3.1-py3-none-any.whl", 9_000)  # not in this lock

    assert env_space.pinned(lock) == {("sentence_transformers", "5.7.0"), ("torch", "2.9.1")}
    assert env_space.unpacked_bytes(lock, tmp_path) == 51_000
