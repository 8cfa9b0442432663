"""`finsent data fetch` against a loopback HTTP server: download, resume, checksum mismatch, licence gating."""

from __future__ import annotations

import hashlib
import io
import threading
import zipfile
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from model.data.catalogue import Dataset, Download
from model.data.fetch import ChecksumMismatchError, FetchError, fetch

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "data"
TWEETS = (FIXTURES / "twitter_sentiment.csv").read_bytes()
CONLL = (FIXTURES / "conll_iob2.txt").read_bytes()


def zipped(member: str, payload: bytes) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as bundle:
        bundle.writestr(member, payload)
    return buffer.getvalue()


PHRASEBANK_ZIP = zipped("FinancialPhraseBank-v1.0/Sentences_AllAgree.txt",
                        (FIXTURES / "Sentences_AllAgree.txt").read_bytes())
FILES = {"/tweets.csv": TWEETS, "/eng.train": CONLL, "/pb.zip": PHRASEBANK_ZIP}


class Server:
    """A loopback file server that honours Range requests and records what it was asked."""

    def __init__(self) -> None:
        self.ranges: list[str | None] = []
        self.ignore_range = False
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                body = FILES.get(self.path)
                if body is None:
                    self.send_error(404)
                    return
                requested = self.headers.get("Range")
                outer.ranges.append(requested)
                if requested and not outer.ignore_range:
                    start = int(requested.removeprefix("bytes=").rstrip("-"))
                    if start >= len(body):
                        self.send_response(416)
                        self.send_header("Content-Length", "0")
                        self.end_headers()
                        return
                    self.send_response(206)
                    self.send_header("Content-Range", f"bytes {start}-{len(body) - 1}/{len(body)}")
                    body = body[start:]
                else:
                    self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)


@pytest.fixture()
def server() -> Iterator[Server]:
    running = Server()
    running.thread.start()
    yield running
    running.httpd.shutdown()
    running.httpd.server_close()


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def tweets_dataset(server: Server) -> Dataset:
    return Dataset(name="tweets", format="twitter-sentiment", tasks=frozenset({"sentiment"}), licence="MIT",
                   commercial_use=True, train=("sentiment/tweets.csv",),
                   downloads=(Download(f"{server.url}/tweets.csv", "sentiment/tweets.csv"),))


def conll_dataset(server: Server) -> Dataset:
    return Dataset(name="conll", format="conll", tasks=frozenset({"ner"}), licence="research use only",
                   commercial_use=False, train=("ner/eng.train",),
                   downloads=(Download(f"{server.url}/eng.train", "ner/eng.train"),))


def test_download_verifies_checksum_and_second_run_finds_it_present(server: Server, tmp_path: Path) -> None:
    checksums = {"sentiment/tweets.csv": sha(TWEETS)}
    results = fetch([tweets_dataset(server)], tmp_path, checksums=checksums, echo=lambda _: None, progress=False)
    assert [(r.outcome, r.verified) for r in results] == [("downloaded", True)]
    assert (tmp_path / "sentiment/tweets.csv").read_bytes() == TWEETS
    assert not (tmp_path / "sentiment/tweets.csv.part").exists()
    again = fetch([tweets_dataset(server)], tmp_path, checksums=checksums, echo=lambda _: None, progress=False)
    assert again[0].outcome == "present" and len(server.ranges) == 1  # no second request


def test_truncated_part_file_is_resumed_with_a_range_request(server: Server, tmp_path: Path) -> None:
    part = tmp_path / "sentiment/tweets.csv.part"
    part.parent.mkdir(parents=True)
    part.write_bytes(TWEETS[:50])  # what an interrupted run leaves behind
    results = fetch([tweets_dataset(server)], tmp_path, checksums={"sentiment/tweets.csv": sha(TWEETS)},
                    echo=lambda _: None, progress=False)
    assert server.ranges == ["bytes=50-"]
    assert results[0].outcome == "resumed"
    assert (tmp_path / "sentiment/tweets.csv").read_bytes() == TWEETS


def test_server_ignoring_range_restarts_from_zero(server: Server, tmp_path: Path) -> None:
    server.ignore_range = True
    part = tmp_path / "sentiment/tweets.csv.part"
    part.parent.mkdir(parents=True)
    part.write_bytes(TWEETS[:50])
    results = fetch([tweets_dataset(server)], tmp_path, checksums={"sentiment/tweets.csv": sha(TWEETS)},
                    echo=lambda _: None, progress=False)
    assert results[0].outcome == "downloaded"
    assert (tmp_path / "sentiment/tweets.csv").read_bytes() == TWEETS


def test_checksum_mismatch_fails_and_discards_the_part(server: Server, tmp_path: Path) -> None:
    with pytest.raises(ChecksumMismatchError,
                       match=r"tweets\.csv: SHA-256 [0-9a-f]{64} does not match the recorded 0{64}"):
        fetch([tweets_dataset(server)], tmp_path, checksums={"sentiment/tweets.csv": "0" * 64},
              echo=lambda _: None, progress=False)
    assert not (tmp_path / "sentiment/tweets.csv").exists()
    assert not (tmp_path / "sentiment/tweets.csv.part").exists()


def test_noncommercial_needs_the_flag_and_prints_the_licence(server: Server, tmp_path: Path) -> None:
    said: list[str] = []
    results = fetch([conll_dataset(server)], tmp_path, checksums={}, echo=said.append, progress=False)
    assert results[0].outcome == "skipped-licence" and server.ranges == []
    assert "research use only" in said[0] and "--include-noncommercial" in said[0]
    said.clear()
    results = fetch([conll_dataset(server)], tmp_path, include_noncommercial=True, checksums={},
                    echo=said.append, progress=False)
    assert [(r.outcome, r.verified) for r in results] == [("downloaded", False)]
    assert any("research use only" in line for line in said)
    assert any("NOT verified" in line for line in said)


def test_archive_members_are_unpacked(server: Server, tmp_path: Path) -> None:
    dataset = Dataset(name="pb", format="phrasebank", tasks=frozenset({"sentiment"}), licence="CC BY-NC-SA 3.0",
                      commercial_use=False, train=("sentiment/pb/Sentences_AllAgree.txt",),
                      downloads=(Download(f"{server.url}/pb.zip", "sentiment/pb.zip",
                                          unpack=(("FinancialPhraseBank-v1.0/Sentences_AllAgree.txt",
                                                   "sentiment/pb/Sentences_AllAgree.txt"),)),))
    fetch([dataset], tmp_path, include_noncommercial=True, checksums={"sentiment/pb.zip": sha(PHRASEBANK_ZIP)},
          echo=lambda _: None, progress=False)
    assert ((tmp_path / "sentiment/pb/Sentences_AllAgree.txt").read_bytes()
            == (FIXTURES / "Sentences_AllAgree.txt").read_bytes())


def test_http_error_is_reported_with_the_url(server: Server, tmp_path: Path) -> None:
    dataset = Dataset(name="gone", format="csv", tasks=frozenset({"sentiment"}), licence="MIT", commercial_use=True,
                      train=("x.csv",), downloads=(Download(f"{server.url}/missing.csv", "x.csv"),))
    with pytest.raises(FetchError, match=r"/missing\.csv: HTTP 404"):
        fetch([dataset], tmp_path, checksums={}, echo=lambda _: None, progress=False, client=httpx.Client())


def test_cli_only_skips_noncommercial_without_the_flag(tmp_path: Path) -> None:
    from finsent.data_commands import data

    result = CliRunner().invoke(data, ["fetch", "--data-dir", str(tmp_path), "--only", "finer_ord"])
    assert result.exit_code == 0, result.output
    assert "skip finer_ord: licence CC BY-NC 4.0" in result.output
    bad = CliRunner().invoke(data, ["fetch", "--data-dir", str(tmp_path), "--only", "reddit"])
    assert bad.exit_code == 2 and "unknown dataset 'reddit'" in bad.output
