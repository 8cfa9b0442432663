"""Issue #27, item 4 ("exact to the byte"): Go quoting with Go's Unicode tables, a strict timestamp header,
receiver duplicates remembered across restarts, and an honest Slack cut note."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from monitor.alerts.delivery.alertmanager import go_quote, labelset_string
from monitor.alerts.delivery.go_isprint import is_print
from monitor.alerts.delivery.payload import encode_body, signature_problem, signed_headers, slack_body, verify_signature
from monitor.alerts.delivery.receiver import AlertReceiver, ReceiverConfig, SeenKeys

# --- Go quoting --------------------------------------------------------------------------------

LIGHT_BLUE_HEART = "\U0001fa75"  # emoji 15.0 (Unicode 15): unassigned in Python 3.11's unicodedata (14.0)
CJK_EXT_H = "\U00031350"  # CJK Unified Ideographs Extension H (Unicode 15)
FACE_WITH_BAGS = "\U0001fae9"  # Unicode 16: not yet in Go's tables, so Go escapes it


def test_go_quote_prints_unicode_15_characters_as_go_does() -> None:
    assert go_quote(LIGHT_BLUE_HEART) == f'"{LIGHT_BLUE_HEART}"'
    assert go_quote(CJK_EXT_H) == f'"{CJK_EXT_H}"'
    assert labelset_string({"ticker": f"BA{LIGHT_BLUE_HEART}"}) == f'{{ticker="BA{LIGHT_BLUE_HEART}"}}'


def test_go_quote_escapes_what_go_does_not_know_yet_and_controls() -> None:
    assert go_quote(FACE_WITH_BAGS) == '"\\U0001fae9"'
    assert go_quote("a\x1b[31m\x07\x85\u00ad\u202e") == '"a\\x1b[31m\\a\\u0085\\u00ad\\u202e"'


GO_PROGRAM = """package main
import ("bufio"; "os"; "strconv")
func main() {
    w := bufio.NewWriter(os.Stdout)
    for r := rune(0); r <= 0x10FFFF; r++ {
        if r >= 0xD800 && r <= 0xDFFF { continue }
        if strconv.IsPrint(r) { w.WriteString("1") } else { w.WriteString("0") }
    }
    w.Flush()
}
"""


@pytest.mark.skipif(shutil.which("go") is None, reason="needs the Go toolchain on PATH")
def test_is_print_agrees_with_the_go_toolchain_on_every_code_point(tmp_path: Path) -> None:
    (tmp_path / "main.go").write_text(GO_PROGRAM)
    go = subprocess.run(["go", "run", "main.go"], cwd=tmp_path, capture_output=True, text=True, timeout=300,
                        env={"GOFLAGS": "-mod=mod", "GO111MODULE": "off", "HOME": str(tmp_path),
                             "GOCACHE": str(tmp_path / "cache"), "PATH": "/usr/local/go/bin:/usr/bin:/bin"})
    assert go.returncode == 0, go.stderr
    code_points = [r for r in range(0x110000) if not 0xD800 <= r <= 0xDFFF]
    ours = "".join("1" if is_print(chr(r)) else "0" for r in code_points)
    differing = [hex(r) for r, a, b in zip(code_points, ours, go.stdout, strict=True) if a != b]
    assert differing == []


# --- the signature timestamp ----------------------------------------------------------------------

BODY = b'{"alerts":[]}'
NOW = 1_800_000_000


@pytest.mark.parametrize("stamp", [" 1800000000", "1800000000 ", "+1800000000", "1_800_000_000",
                                   "\u0661\u0668\u0660\u0660\u0660\u0660\u0660\u0660\u0660\u0660", "1800000000.0",
                                   "0x6b49d200", "", "1" * 21])
def test_only_ascii_digits_are_a_timestamp(stamp: str) -> None:
    headers = signed_headers("s3cret", BODY, "key-1", now=NOW)
    headers["X-Finsent-Timestamp"] = stamp
    assert not verify_signature("s3cret", headers, BODY, now=NOW)
    assert signature_problem("s3cret", headers, BODY, now=NOW) == "missing or unreadable X-Finsent-Timestamp"


def test_a_plain_timestamp_still_verifies() -> None:
    assert verify_signature("s3cret", signed_headers("s3cret", BODY, "key-1", now=NOW), BODY, now=NOW)


# --- receiver duplicates across restarts -------------------------------------------------------------


def _message() -> bytes:
    return encode_body({"version": "4", "status": "firing", "alerts": [
        {"status": "firing", "labels": {"alertname": "x"}, "annotations": {}, "fingerprint": "0" * 16}]})


def test_a_restarted_receiver_still_knows_the_keys_it_took(tmp_path: Path) -> None:
    state = tmp_path / "alerts.log.keys"
    config = ReceiverConfig(port=0, secret="s3cret", seen_keys_path=state)
    data = _message()
    headers = signed_headers("s3cret", data, "key-1")
    first: list[str] = []
    receiver = AlertReceiver(config, first.append, lambda _line: None)
    assert receiver.handle("/alerts", headers, data) == (200, "received")
    receiver.close()

    again: list[str] = []
    restarted = AlertReceiver(config, again.append, lambda _line: None)
    try:
        assert restarted.handle("/alerts", headers, data) == (200, "duplicate")  # the same signed request, replayed
        assert again == [] and len(first) == 1
    finally:
        restarted.close()


def test_persisted_keys_are_forgotten_after_the_validity_window(tmp_path: Path) -> None:
    state = tmp_path / "keys"
    clock = [1000.0]
    seen = SeenKeys(10, path=state, window_s=600, clock=lambda: clock[0])
    assert seen.first_time("old")
    clock[0] += 400
    assert seen.first_time("new")
    clock[0] += 300  # "old" is 700 s old, "new" 300 s
    reloaded = SeenKeys(10, path=state, window_s=600, clock=lambda: clock[0])
    assert reloaded.first_time("old") and not reloaded.first_time("new")
    assert "old" in state.read_text()  # remembered again, now as of its second arrival
    lines = state.read_text().splitlines()
    assert len(lines) == 2  # compacted on load: the stale entry was dropped, then "old" appended afresh


# --- the Slack cut note -------------------------------------------------------------------------------


def _alert(summary: str) -> dict[str, object]:
    return {"status": "firing", "labels": {}, "annotations": {"summary": summary}}


def test_a_cut_single_line_says_it_is_truncated_not_zero_more_lines() -> None:
    text = slack_body({"alerts": [_alert("x" * 5000)]}, limit=1000)["text"]
    assert len(text) <= 1000
    assert "0 more lines" not in text
    assert text.splitlines()[-1] == "... message cut at Slack's 1,000-character limit: the line above is truncated"


def test_a_cut_first_line_with_more_lines_says_both() -> None:
    text = slack_body({"alerts": [_alert("x" * 5000), _alert("y"), _alert("z")]}, limit=1000)["text"]
    assert text.splitlines()[-1] == ("... message cut at Slack's 1,000-character limit: the line above is truncated "
                                     "and 2 more lines not shown")


def test_one_whole_line_left_out_is_singular() -> None:
    text = slack_body({"alerts": [_alert("x" * 500), _alert("y" * 500)]}, limit=700)["text"]
    assert text.splitlines()[-1] == "... message cut at Slack's 700-character limit: 1 more line not shown"
