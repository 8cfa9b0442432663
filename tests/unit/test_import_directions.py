"""Which package may import which (docs/architecture.md), checked over the source tree.

Why: the split only holds if it is enforced. `model` is a library (paths and
options come in as arguments), `finsent.cli` and the command-wiring modules
are the only code that sees everything, and the connectors (`monitor.ingest`)
and the worker (`monitor.stream`) meet only through `monitor.wire`. Imports
inside functions count too: a lazy import is still a dependency.
"""

from __future__ import annotations

import ast
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]
CHECKED = ("finsent", "model", "monitor", "dashboards")  # tests, migrations and scripts may import anything
WIRING = ("finsent.cli", "finsent.model_commands", "finsent.data_commands", "finsent.bench_commands")
APP_KERNEL = ("finsent.paths", "finsent.reports", "finsent.settings")

# source prefix -> the prefixes of ours it may import (its own package is always allowed, except where noted).
ALLOWED: dict[str, tuple[str, ...]] = {
    "finsent.paths": (),
    "finsent.reports": ("finsent.paths",),
    "finsent.settings": ("finsent.paths",),
    "model": ("model", "finsent.paths", "finsent.reports"),
    "monitor": ("monitor", "model", *APP_KERNEL),
    "dashboards": ("dashboards", "monitor", "model", *APP_KERNEL),
}
# Pairs that must not meet even inside one allowed package: (source prefix, target prefix).
FORBIDDEN: tuple[tuple[str, str], ...] = (
    ("monitor.ingest", "monitor.stream"),
    ("monitor.stream", "monitor.ingest"),
)
# The end-to-end pipeline benchmark replays a corpus (ingest) into the worker (stream) it measures.
EXCEPTIONS: frozenset[tuple[str, str]] = frozenset({("monitor.stream.bench", "monitor.ingest.replay")})


def _within(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


def module_name(path: Path, root: Path) -> str:
    """Dotted name of a source file under root (package __init__ -> the package)."""
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imported_modules(path: Path, root: Path) -> set[str]:
    """Every module a file imports, at top level or inside functions; relative imports resolved."""
    source = module_name(path, root)
    package = source if path.name == "__init__.py" else source.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                stem = ".".join([*base, node.module] if node.module else base)
            else:
                stem = node.module or ""
            folder = root / stem.replace(".", "/")
            # `from model.serving import registry` imports the submodule model.serving.registry.
            submodules = {alias.name for alias in node.names
                          if (folder / alias.name).is_dir() or (folder / f"{alias.name}.py").is_file()}
            found.update(f"{stem}.{name}" for name in submodules)
            if len(submodules) < len(node.names):
                found.add(stem)
    return found


def rule_for(source: str) -> tuple[str, ...] | None:
    """The allowed prefixes of the most specific rule matching source; None: unrestricted."""
    if any(_within(source, wiring) for wiring in WIRING) or not any(_within(source, p) for p in CHECKED):
        return None
    matches = [prefix for prefix in ALLOWED if _within(source, prefix)]
    if not matches:
        return ()  # e.g. the finsent package itself: imports nothing of ours
    return ALLOWED[max(matches, key=len)]


def violations(root: Path) -> list[str]:
    """One line per import that breaks the rules, naming the importing and the imported module."""
    problems = []
    for path in sorted(p for package in CHECKED if (root / package).is_dir() for p in (root / package).rglob("*.py")):
        source = module_name(path, root)
        allowed = rule_for(source)
        for target in sorted(imported_modules(path, root)):
            if not any(_within(target, p) for p in CHECKED) or (source, target) in EXCEPTIONS:
                continue
            if allowed is not None and not any(_within(target, p) for p in allowed):
                problems.append(f"{source} imports {target}: {source.split('.')[0]} may import only "
                                f"{', '.join(allowed) or 'nothing of ours'} (docs/architecture.md)")
            for source_prefix, target_prefix in FORBIDDEN:
                if _within(source, source_prefix) and _within(target, target_prefix):
                    problems.append(f"{source} imports {target}: {source_prefix} and {target_prefix} meet only "
                                    "through monitor.wire")
    return problems


def test_the_tree_follows_the_allowed_import_directions() -> None:
    problems = violations(PROJECT_ROOT)
    assert not problems, "\n".join(problems)


def _write(root: Path, relative: str, text: str = "") -> None:
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def test_a_wrong_import_is_reported_naming_both_modules(tmp_path: Path) -> None:
    for package in ("model/__init__.py", "monitor/__init__.py", "monitor/stream/__init__.py",
                    "monitor/ingest/__init__.py", "finsent/__init__.py"):
        _write(tmp_path, package)
    _write(tmp_path, "finsent/paths.py")
    _write(tmp_path, "finsent/cli.py", "import monitor.stream.worker\nimport model.scoring\n")
    _write(tmp_path, "monitor/settings_user.py", "from finsent import paths\n")
    _write(tmp_path, "monitor/stream/worker.py", "from ..ingest import replay\n")
    _write(tmp_path, "monitor/ingest/replay.py")
    _write(tmp_path, "model/scoring.py", "from finsent.paths import PROJECT_ROOT\n\n"
                                         "def score():\n    from monitor.stream.worker import run\n")

    problems = violations(tmp_path)

    assert problems == [
        "model.scoring imports monitor.stream.worker: model may import only model, finsent.paths, finsent.reports "
        "(docs/architecture.md)",
        "monitor.stream.worker imports monitor.ingest.replay: monitor.stream and monitor.ingest meet only through "
        "monitor.wire",
    ]
