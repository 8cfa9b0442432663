"""Print the bytes a Python environment built from the lock's cached wheels will take on disk.

Why: torch's CUDA wheels unpack to several GB, and a disk that fills half-way
through `pip install` leaves a broken environment and an error that reads like a
missing package. The bootstrap checks this figure against the free space first.
Usage: python scripts/env_space.py requirements.lock WHEEL_DIR  (standard library only).
"""

from __future__ import annotations

import re
import sys
import zipfile
from pathlib import Path


def _normalised(name: str) -> str:
    return re.sub(r"[-_.]+", "_", name).lower()


def pinned(lock: Path) -> set[tuple[str, str]]:
    """The (name, version) pairs of a pip lock's `name==version` lines."""
    pins = set()
    for line in lock.read_text().splitlines():
        match = re.match(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;#\\]+)", line.strip())
        if match:
            pins.add((_normalised(match[1]), match[2]))
    return pins


def unpacked_bytes(lock: Path, wheels: Path) -> int:
    """The sum of the uncompressed sizes of the cached wheels that the lock pins."""
    pins = pinned(lock)
    total = 0
    for wheel in wheels.glob("*.whl"):
        name, version = wheel.name.split("-")[:2]
        if (_normalised(name), version) in pins:
            with zipfile.ZipFile(wheel) as archive:
                total += sum(member.file_size for member in archive.infolist())
    return total


if __name__ == "__main__":
    print(unpacked_bytes(Path(sys.argv[1]), Path(sys.argv[2])))
