"""`finsent data fetch`: download the catalogued datasets from their public homes.

Downloads are resumable (an interrupted file stays as ``<name>.part`` and the
next run asks for the rest with an HTTP Range request), verified against the
SHA-256 recorded in ``model/data/checksums.yaml``, and gated by licence: only
datasets whose licence allows commercial use are fetched unless
``--include-noncommercial`` is given, and then each one's licence is printed.

    finsent data fetch                       # permissive licences only
    finsent data fetch --include-noncommercial --only conll
"""

from __future__ import annotations

import zipfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import httpx
from tqdm import tqdm

from model.data.catalogue import Dataset, Download, recorded_checksums
from model.data.splits import file_sha256

CHUNK_BYTES = 1 << 16
Outcome = Literal["downloaded", "resumed", "present", "skipped-licence", "manual"]


class ChecksumMismatchError(RuntimeError):
    """A downloaded file's SHA-256 differs from the recorded one."""


class FetchError(RuntimeError):
    """A download failed (HTTP error or unusable response)."""


@dataclass(frozen=True)
class FetchResult:
    dataset: str
    path: str  # relative to the data dir ("" when nothing was fetched)
    outcome: Outcome
    verified: bool  # the SHA-256 matched a recorded checksum
    detail: str = ""


def download(client: httpx.Client, url: str, destination: Path, expected_sha256: str | None,
             progress: bool = True) -> tuple[Literal["downloaded", "resumed", "present"], bool]:
    """Fetch `url` into `destination`, resuming a ``.part`` file left by an earlier run.

    Returns (what happened, whether the checksum was verified). A checksum
    mismatch deletes the ``.part`` (a bad resume must not be resumed again)
    and raises ChecksumMismatchError naming the file and both digests.
    """
    if destination.is_file():
        if expected_sha256 is None or file_sha256(destination) == expected_sha256:
            return "present", expected_sha256 is not None
        destination.unlink()  # a stale or corrupt copy: fetch it again
    destination.parent.mkdir(parents=True, exist_ok=True)
    partial = destination.with_name(destination.name + ".part")
    offset = partial.stat().st_size if partial.is_file() else 0
    headers = {"Range": f"bytes={offset}-"} if offset else {}
    outcome: Literal["downloaded", "resumed"] = "downloaded"
    try:
        with client.stream("GET", url, headers=headers, follow_redirects=True) as response:
            if offset and response.status_code == 416:  # nothing left to send: the .part is whole
                outcome = "resumed"
            elif response.status_code not in (200, 206):
                raise FetchError(f"{url}: HTTP {response.status_code}")
            else:
                resuming = offset > 0 and response.status_code == 206
                if not resuming:
                    offset = 0  # the server ignored the Range header: start over
                outcome = "resumed" if resuming else "downloaded"
                length = response.headers.get("Content-Length")
                total = offset + int(length) if length and length.isdigit() else None
                with partial.open("ab" if resuming else "wb") as handle, tqdm(
                    total=total, initial=offset, unit="B", unit_scale=True, desc=destination.name,
                    disable=not progress, leave=False,
                ) as bar:
                    for chunk in response.iter_bytes(CHUNK_BYTES):
                        handle.write(chunk)
                        bar.update(len(chunk))
    except httpx.HTTPError as error:
        raise FetchError(f"{url}: {error} (anything received is kept in {partial.name}; "
                         "run again to resume)") from error
    actual = file_sha256(partial)
    if expected_sha256 is not None and actual != expected_sha256:
        partial.unlink()
        raise ChecksumMismatchError(
            f"{destination}: SHA-256 {actual} does not match the recorded {expected_sha256} "
            f"(downloaded from {url}; the partial file was deleted, run again to retry)"
        )
    partial.replace(destination)
    return outcome, expected_sha256 is not None


def unpack(archive: Path, members: Sequence[tuple[str, str]], data_dir: Path) -> None:
    """Extract the named zip members to their catalogue paths (skipping ones already there)."""
    with zipfile.ZipFile(archive) as bundle:
        for member, relative in members:
            target = data_dir / relative
            if target.is_file():
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(bundle.read(member))


def fetch(
    datasets: Sequence[Dataset],
    data_dir: Path,
    include_noncommercial: bool = False,
    checksums: Mapping[str, str | None] | None = None,
    client: httpx.Client | None = None,
    echo: Callable[[str], None] = print,
    progress: bool = True,
) -> list[FetchResult]:
    """Download every file of `datasets` into `data_dir`, respecting licences; one result per file.

    `checksums` maps relative paths to SHA-256 (default: checksums.yaml);
    a file without one is kept but reported as unverified.
    """
    checksums = recorded_checksums() if checksums is None else checksums
    own_client = client is None
    client = client or httpx.Client(timeout=httpx.Timeout(30.0, read=120.0))
    results: list[FetchResult] = []
    try:
        for dataset in datasets:
            if not dataset.commercial_use and not include_noncommercial:
                echo(f"skip {dataset.name}: licence {dataset.licence} (pass --include-noncommercial to fetch it)")
                results.append(FetchResult(dataset.name, "", "skipped-licence", False, dataset.licence))
                continue
            if not dataset.downloads:
                echo(f"manual {dataset.name}: {dataset.manual}")
                results.append(FetchResult(dataset.name, "", "manual", False, dataset.manual))
                continue
            if not dataset.commercial_use:
                echo(f"{dataset.name}: licence {dataset.licence}; you are responsible for using it accordingly")
            for item in dataset.downloads:
                results.append(_fetch_one(client, dataset, item, data_dir, checksums, echo, progress))
    finally:
        if own_client:
            client.close()
    return results


def _fetch_one(client: httpx.Client, dataset: Dataset, item: Download, data_dir: Path,
               checksums: Mapping[str, str | None], echo: Callable[[str], None], progress: bool) -> FetchResult:
    expected = checksums.get(item.relative_path)
    outcome, verified = download(client, item.url, data_dir / item.relative_path, expected, progress)
    if item.unpack:
        unpack(data_dir / item.relative_path, item.unpack, data_dir)
    note = "checksum verified" if verified else "NOT verified: the project has no checksum recorded for this file"
    echo(f"{outcome} {dataset.name}: {item.relative_path} ({note})")
    return FetchResult(dataset.name, item.relative_path, outcome, verified, note)
