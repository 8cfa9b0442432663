"""`--help` of every `finsent` command matches a committed snapshot.

Why: moving code between packages must not change what users type or read.
The snapshot (tests/fixtures/cli_help.txt) is the contract; regenerate it only
on purpose with `FINSENT_UPDATE_SNAPSHOT=1 pytest tests/unit/test_cli_help.py`.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import click
from click.testing import CliRunner

PROJECT_ROOT = Path(__file__).resolve().parents[2]
SNAPSHOT = PROJECT_ROOT / "tests" / "fixtures" / "cli_help.txt"
WIDTH = 100


def _main_group() -> click.Group:
    from finsent.cli import main

    return main


def _walk(group: click.Command, path: tuple[str, ...], ctx: click.Context | None) -> list[tuple[str, ...]]:
    """Every command path under `group`, depth first, sorted by name."""
    paths = [path]
    if isinstance(group, click.Group):
        sub_ctx = click.Context(group, info_name=path[-1], parent=ctx)
        for name in sorted(group.list_commands(sub_ctx)):
            command = group.get_command(sub_ctx, name)
            if command is not None and not command.hidden:
                paths.extend(_walk(command, (*path, name), sub_ctx))
    return paths


def render_help() -> str:
    """The help text of every command, in a fixed width and a clean environment."""
    main = _main_group()
    env = {key: None for key in os.environ if key.startswith("FINSENT_") or key in {"COLUMNS", "LINES"}}
    runner = CliRunner(env=env)
    chunks = []
    for path in _walk(main, ("finsent",), None):
        result = runner.invoke(
            main, [*path[1:], "--help"], prog_name="finsent", terminal_width=WIDTH,
            catch_exceptions=False,
        )
        assert result.exit_code == 0, f"{' '.join(path)} --help failed:\n{result.output}"
        chunks.append(f"=== {' '.join(path)}\n{result.output}")
    # Defaults under the checkout print as absolute paths; keep the snapshot portable.
    return "\n".join(chunks).replace(str(PROJECT_ROOT), "<root>")


def test_help_of_every_command_matches_snapshot() -> None:
    # A fresh interpreter: click caches each command's help option on first use, so a
    # subcommand another test invoked on its own would lose the group's `-h` here.
    env = {key: value for key, value in os.environ.items() if not key.startswith("FINSENT_")}
    env["COLUMNS"] = str(WIDTH)
    code = "import sys; from tests.unit.test_cli_help import render_help; sys.stdout.write(render_help())"
    done = subprocess.run([sys.executable, "-c", code], cwd=PROJECT_ROOT, env=env, capture_output=True,
                          text=True, encoding="utf-8", check=False)
    assert done.returncode == 0, done.stderr
    text = done.stdout
    if os.environ.get("FINSENT_UPDATE_SNAPSHOT") == "1":
        SNAPSHOT.write_text(text, encoding="utf-8")
    expected = SNAPSHOT.read_text(encoding="utf-8")
    assert text == expected, "finsent --help changed; if intended, regenerate with FINSENT_UPDATE_SNAPSHOT=1"
