"""Which package may import which (docs/architecture.md), checked over the source tree.

Why: the split only holds if it is enforced. `kernel` (paths, settings,
reports) is the ground floor: it imports nothing of ours but `kernel`. `model`
is a library (paths and options come in as arguments). The command shell
(`finsent`: the CLI and the command-wiring modules) is the only code that sees
everything, and nothing but the shell, migrations, tests and scripts imports
it. The benchmarks (`benchmarks`) drive the app from outside: no serving
package imports them. The connectors (`monitor.ingest`) and the worker
(`monitor.stream`) meet only through `monitor.wire`. Training does not import
the reports (the reports measure trained models; the event files training
reads load from `model.data`). Imports inside functions count too: a lazy
import is still a dependency. And no code under `model/`, `monitor/` or
`benchmarks/` builds a path into `tests/fixtures`: paths come in as arguments,
their defaults at the edge (`kernel.settings`, the command modules).
Inside `monitor.alerts` the concerns are layered too: a detector imports
only the detectors' shared bases (and a new one is one module plus its line
in the registry); rules and their evaluation import no delivery, silences or
research; silences import only rules; delivery no research; and only the
research package itself, the alerts CLI and the shell import research (replay,
backtest).
Inside `monitor`, the serving parts (stream, storage, ingest, alerts) do not
import `monitor.retrain`: retraining stands beside the app and uses it, and
the model_versions records they share live in `monitor.storage`. No two
modules of ours import each other round a loop (directly or through others,
lazy imports counted): a loop means one of them holds what belongs below
both. And the settings are read at the edge only: `get_settings()` /
`load_settings()` are called in click command functions and the dashboard's
entry file, never in a helper or at a module's top level; helpers take the
values as arguments.
"""

from __future__ import annotations

import ast
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]
CHECKED = ("kernel", "finsent", "benchmarks", "model", "monitor", "dashboards")  # tests, migrations, scripts: anything
SHELL = "finsent"  # the command shell (cli and its command modules): may import anything
SERVING = ("monitor.stream", "monitor.storage", "monitor.alerts", "monitor.ingest", "model.serving", "dashboards")

# source prefix -> the prefixes of ours it may import (the most specific prefix matching a module rules it).
ALLOWED: dict[str, tuple[str, ...]] = {
    "kernel": ("kernel",),
    "kernel.paths": (),
    "kernel.reports": ("kernel.paths",),
    "kernel.settings": ("kernel.paths",),
    "model": ("model", "kernel.paths", "kernel.reports"),
    "monitor": ("monitor", "model", "kernel"),
    "dashboards": ("dashboards", "monitor", "model", "kernel"),
    "benchmarks": ("benchmarks", "dashboards", "monitor", "model", "kernel"),
}
# Pairs that must not meet, even where ALLOWED would let them: (source prefix, target prefix) -> why.
# A pair named here is reported with this reason instead of ALLOWED's.
WIRE_ONLY = "{source} and {target} meet only through monitor.wire"
SHELL_ONLY = "{target} is the command shell: only it, migrations, tests and scripts import it"
OUT_OF_SERVING = "{source} serves and must not import {target} (benchmarks stay out of the serving path)"
NOT_RETRAIN = ("{source} must not import {target}: retraining stands beside the app and uses it "
               "(the model_versions records live in monitor.storage)")
FORBIDDEN: dict[tuple[str, str], str] = {
    ("monitor.ingest", "monitor.stream"): WIRE_ONLY,
    ("monitor.stream", "monitor.ingest"): WIRE_ONLY,
    ("model.training", "model.reports"): "{source} must not import {target}: reports measure trained models "
                                         "(event files load from model.data)",
    **{(package, SHELL): SHELL_ONLY for package in CHECKED if package != SHELL},
    **{(package, "benchmarks"): OUT_OF_SERVING for package in SERVING},
    **{(package, "monitor.retrain"): NOT_RETRAIN for package in SERVING if package.startswith("monitor.")},
}
# Inside monitor.alerts, by concern (docs/architecture.md): source prefix -> the parts of monitor.alerts it may
# import (the most specific prefix rules; a part without a rule, the CLI `monitor.alerts.cli`, may import any).
ALERTS = "monitor.alerts"
DETECTOR_BASES = ("monitor.alerts.detectors.base", "monitor.alerts.detectors.observation",
                  "monitor.alerts.detectors.prior", "monitor.alerts.detectors.windowed")
ALERT_LAYERS: dict[str, tuple[str, ...]] = {
    "monitor.alerts.durations": (),
    "monitor.alerts.detectors": (*DETECTOR_BASES, "monitor.alerts.durations"),  # a detector: not another one
    "monitor.alerts.detectors.registry": ("monitor.alerts.detectors",),
    "monitor.alerts.rules": ("monitor.alerts.rules", "monitor.alerts.detectors", "monitor.alerts.durations"),
    "monitor.alerts.silences": ("monitor.alerts.silences", "monitor.alerts.rules"),
    "monitor.alerts.delivery": ("monitor.alerts.delivery", "monitor.alerts.silences", "monitor.alerts.rules",
                                "monitor.alerts.durations"),
    "monitor.alerts.runner": ("monitor.alerts.rules", "monitor.alerts.silences", "monitor.alerts.delivery",
                              "monitor.alerts.detectors", "monitor.alerts.durations"),
    "monitor.alerts.research": ("monitor.alerts.research", "monitor.alerts.rules", "monitor.alerts.silences",
                                "monitor.alerts.detectors", "monitor.alerts.durations"),
}
# Packages only some may import: target prefix -> its importers (besides tests, migrations and scripts).
IMPORTED_ONLY_BY: dict[str, tuple[str, ...]] = {
    "monitor.alerts.research": ("monitor.alerts.research", "monitor.alerts.cli", SHELL),
}
# Code that must not build paths into the test fixtures (docstrings and help prose may name them).
NO_FIXTURE_PATHS = ("model", "monitor", "dashboards", "benchmarks")
# Where the settings may be read (get_settings / load_settings): inside click command functions of these packages,
# and at the top of the dashboard's entry file (Streamlit runs it as the app's entry point).
SETTINGS_CHECKED = ("model", "monitor", "dashboards", "benchmarks")
SETTINGS_ENTRY_FILES = ("dashboards.app",)
SETTINGS_READS = ("get_settings", "load_settings")


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
    """The allowed prefixes of the most specific rule matching source; None: unrestricted (the shell, and code
    outside CHECKED)."""
    if _within(source, SHELL) or not any(_within(source, p) for p in CHECKED):
        return None
    matches = [prefix for prefix in ALLOWED if _within(source, prefix)]
    if not matches:
        return ()  # a checked package without a rule: imports nothing of ours
    return ALLOWED[max(matches, key=len)]


def _most_specific(name: str, rules: dict[str, tuple[str, ...]]) -> str | None:
    matches = [prefix for prefix in rules if _within(name, prefix)]
    return max(matches, key=len) if matches else None


def layer_reasons(source: str, target: str) -> list[str]:
    """Why source may not import target by IMPORTED_ONLY_BY or, inside monitor.alerts, by ALERT_LAYERS."""
    for prefix, importers in IMPORTED_ONLY_BY.items():
        if _within(target, prefix) and not any(_within(source, p) for p in importers):
            return [f"only {', '.join(importers)}, tests and scripts import {prefix}"]
    if not (_within(source, ALERTS) and _within(target, ALERTS)):
        return []
    layer = _most_specific(source, ALERT_LAYERS)
    if layer is None or any(_within(target, p) for p in ALERT_LAYERS[layer]):
        return []
    return [f"{layer} may import of {ALERTS} only {', '.join(ALERT_LAYERS[layer]) or 'nothing'} "
            "(docs/architecture.md)"]


def violations(root: Path) -> list[str]:
    """One line per import that breaks the rules, naming the importing and the imported module."""
    problems = []
    for path in sorted(p for package in CHECKED if (root / package).is_dir() for p in (root / package).rglob("*.py")):
        source = module_name(path, root)
        allowed = rule_for(source)
        for target in sorted(imported_modules(path, root)):
            if not any(_within(target, p) for p in CHECKED):
                continue
            reasons = [why.format(source=source_prefix, target=target_prefix)
                       for (source_prefix, target_prefix), why in FORBIDDEN.items()
                       if _within(source, source_prefix) and _within(target, target_prefix)]
            if not reasons and allowed is not None and not any(_within(target, p) for p in allowed):
                reasons.append(f"{source.split('.')[0]} may import only "
                               f"{', '.join(allowed) or 'nothing of ours'} (docs/architecture.md)")
            if not reasons:
                reasons = layer_reasons(source, target)
            problems.extend(f"{source} imports {target}: {why}" for why in reasons)
    return problems


def _is_fixture_path(parts: list[object]) -> bool:
    """Constants that spell a path under tests/fixtures: one string, or "tests" then "fixtures"."""
    texts = [p for p in parts if isinstance(p, str)]
    if any(t.strip().lstrip("./").replace("\\", "/").startswith("tests/fixtures") for t in texts):
        return True
    return any(a == "tests" and b == "fixtures" for a, b in zip(parts, parts[1:]))


def _div_operands(node: ast.expr) -> list[ast.expr]:
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div):
        return [*_div_operands(node.left), *_div_operands(node.right)]
    if isinstance(node, ast.Call) and len(node.args) == 1 and isinstance(node.args[0], ast.Constant):
        return [node.args[0]]  # Path("tests") / "fixtures"
    return [node]


def fixture_paths(root: Path) -> list[str]:
    """`file:line` of every path into tests/fixtures built by code under NO_FIXTURE_PATHS.

    A path is a string constant that starts with tests/fixtures, or "tests" and
    "fixtures" side by side in a `/` chain or a call's arguments (Path(...),
    joinpath); prose that names a fixture (a docstring, a help text's example)
    is not a path.
    """
    found = []
    for package in NO_FIXTURE_PATHS:
        for path in sorted((root / package).rglob("*.py")) if (root / package).is_dir() else []:
            tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
            for node in ast.walk(tree):
                if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div):
                    operands = _div_operands(node)
                elif isinstance(node, ast.Call):
                    operands = list(node.args)
                elif isinstance(node, ast.Constant):
                    operands = [node]
                else:
                    continue
                parts = [o.value if isinstance(o, ast.Constant) else None for o in operands]
                if _is_fixture_path(parts):
                    found.append(f"{path.relative_to(root)}:{node.lineno}")
    return sorted(set(found))


def import_graph(root: Path) -> dict[str, set[str]]:
    """Module -> the modules of ours it imports (top level or inside functions), over CHECKED.

    An imported name is resolved to the longest module of ours it names (`from
    model.data.events import load_events` -> model.data.events); a module's
    import of itself is left out.
    """
    paths = {module_name(path, root): path for package in CHECKED if (root / package).is_dir()
             for path in (root / package).rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for source, path in paths.items():
        targets = set()
        for target in imported_modules(path, root):
            while target and target not in paths:
                target = target.rpartition(".")[0]
            if target and target != source:
                targets.add(target)
        graph[source] = targets
    return graph


def _shortest_loop(graph: dict[str, set[str]], start: str, within: set[str]) -> list[str]:
    """The shortest path start -> ... -> start through modules of `within` (one strongly connected set)."""
    paths = {start: [start]}
    frontier = [start]
    while frontier:
        following = []
        for module in frontier:
            for target in sorted(graph[module] & within):
                if target == start:
                    return [*paths[module], start]
                if target not in paths:
                    paths[target] = [*paths[module], target]
                    following.append(target)
        frontier = following
    raise AssertionError(f"{start} is on no loop")  # pragma: no cover - callers pass a strongly connected set


def import_cycles(root: Path) -> list[str]:
    """One line per set of modules that import each other round a loop: a loop through all of them is shown
    from the first module (by name), e.g. `model.training.a -> model.training.b -> model.training.a`."""
    graph = import_graph(root)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    loops: list[str] = []

    def visit(module: str) -> None:  # Tarjan's strongly connected components
        index[module] = low[module] = len(index)
        stack.append(module)
        on_stack.add(module)
        for target in sorted(graph[module]):
            if target not in index:
                visit(target)
                low[module] = min(low[module], low[target])
            elif target in on_stack:
                low[module] = min(low[module], index[target])
        if low[module] == index[module]:
            members = set()
            while True:
                member = stack.pop()
                on_stack.discard(member)
                members.add(member)
                if member == module:
                    break
            if len(members) > 1:
                first = min(members)
                loop = _shortest_loop(graph, first, members)
                rest = sorted(members - set(loop))
                loops.append(" -> ".join(loop) + (f" (with {', '.join(rest)})" if rest else ""))

    for module in sorted(graph):
        if module not in index:
            visit(module)
    return sorted(loops)


def _is_click_command(function: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    """Decorated as a click command or group: `@click.command()`, `@group.command("name")`, `@click.group`."""
    for decorator in function.decorator_list:
        target = decorator.func if isinstance(decorator, ast.Call) else decorator
        name = target.attr if isinstance(target, ast.Attribute) else getattr(target, "id", "")
        if name in ("command", "group"):
            return True
    return False


def _settings_read_lines(tree: ast.AST, module: str) -> list[int]:
    """Line of every settings read of `module` (parsed as `tree`) outside the edge, as `settings_reads` defines it."""
    lines: list[int] = []

    def walk(node: ast.AST, in_command: bool, in_function: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                walk(child, in_command or _is_click_command(child), True)
                continue
            if isinstance(child, ast.Call):
                func = child.func
                name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
                at_entry = module in SETTINGS_ENTRY_FILES and not in_function
                if name in SETTINGS_READS and not in_command and not at_entry:
                    lines.append(child.lineno)
            walk(child, in_command, in_function)

    walk(tree, False, False)
    return lines


def settings_reads(root: Path) -> list[str]:
    """`file:line` of every settings read (a call of get_settings / load_settings) outside the edge: not inside a
    click command function, nor at the top of a SETTINGS_ENTRY_FILES module."""
    found = []
    for package in SETTINGS_CHECKED:
        for path in sorted((root / package).rglob("*.py")) if (root / package).is_dir() else []:
            module = module_name(path, root)
            tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
            found.extend(f"{path.relative_to(root)}:{line}" for line in _settings_read_lines(tree, module))
    return sorted(found)


def test_the_tree_follows_the_allowed_import_directions() -> None:
    problems = violations(PROJECT_ROOT)
    assert not problems, "\n".join(problems)


def test_no_library_or_app_code_builds_a_path_into_the_test_fixtures() -> None:
    found = fixture_paths(PROJECT_ROOT)
    assert not found, ("paths come in as arguments; their defaults live in kernel.settings or the command "
                       "modules:\n" + "\n".join(found))


def test_no_modules_of_ours_import_each_other_round_a_loop() -> None:
    loops = import_cycles(PROJECT_ROOT)
    assert not loops, ("modules that import each other (lazy imports count): move what both need below them\n"
                       + "\n".join(loops))


def test_settings_are_read_only_at_the_edge() -> None:
    found = settings_reads(PROJECT_ROOT)
    assert not found, ("read the settings in the command function (or the dashboard's entry file) and pass the "
                       "values in:\n" + "\n".join(found))


def _write(root: Path, relative: str, text: str = "") -> None:
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def test_a_wrong_import_is_reported_naming_both_modules(tmp_path: Path) -> None:
    for package in ("model/__init__.py", "monitor/__init__.py", "monitor/stream/__init__.py",
                    "monitor/ingest/__init__.py", "finsent/__init__.py", "kernel/__init__.py"):
        _write(tmp_path, package)
    _write(tmp_path, "kernel/paths.py")
    _write(tmp_path, "finsent/cli.py", "import monitor.stream.worker\nimport model.scoring\n")
    _write(tmp_path, "monitor/settings_user.py", "from kernel import paths\n")
    _write(tmp_path, "monitor/stream/worker.py", "from ..ingest import replay\n")
    _write(tmp_path, "monitor/ingest/replay.py")
    _write(tmp_path, "model/scoring.py", "from kernel.paths import PROJECT_ROOT\n\n"
                                         "def score():\n    from monitor.stream.worker import run\n")

    problems = violations(tmp_path)

    assert problems == [
        "model.scoring imports monitor.stream.worker: model may import only model, kernel.paths, kernel.reports "
        "(docs/architecture.md)",
        "monitor.stream.worker imports monitor.ingest.replay: monitor.stream and monitor.ingest meet only through "
        "monitor.wire",
    ]


def test_the_kernel_imports_nothing_of_ours_but_the_kernel(tmp_path: Path) -> None:
    for package in ("kernel/__init__.py", "monitor/__init__.py", "finsent/__init__.py"):
        _write(tmp_path, package)
    _write(tmp_path, "kernel/paths.py")
    _write(tmp_path, "kernel/reports.py", "from kernel.paths import PROJECT_ROOT\n")
    _write(tmp_path, "kernel/settings.py", "from .paths import PROJECT_ROOT\n\n"
                                           "def reports():\n    from kernel import reports\n")
    _write(tmp_path, "kernel/units.py", "from kernel import settings\nimport monitor.wire\n")
    _write(tmp_path, "kernel/help.py", "def main():\n    from finsent.cli import main\n")
    _write(tmp_path, "monitor/wire.py")
    _write(tmp_path, "finsent/cli.py")

    assert violations(tmp_path) == [
        "kernel.help imports finsent.cli: finsent is the command shell: only it, migrations, tests and scripts "
        "import it",
        "kernel.settings imports kernel.reports: kernel may import only kernel.paths (docs/architecture.md)",
        "kernel.units imports monitor.wire: kernel may import only kernel (docs/architecture.md)",
    ]


def test_only_the_shell_imports_the_shell(tmp_path: Path) -> None:
    for package in ("finsent/__init__.py", "model/__init__.py", "monitor/__init__.py", "dashboards/__init__.py",
                    "benchmarks/__init__.py", "kernel/__init__.py"):
        _write(tmp_path, package)
    _write(tmp_path, "finsent/cli.py", "def bench():\n    from finsent import model_commands\n")
    _write(tmp_path, "finsent/model_commands.py", "from benchmarks.pipeline import pipeline\n"
                                                  "from kernel.settings import get_settings\n")
    _write(tmp_path, "kernel/settings.py")
    _write(tmp_path, "benchmarks/pipeline.py", "from finsent.cli import main\n")
    _write(tmp_path, "dashboards/cli.py", "import finsent\n")
    _write(tmp_path, "model/card.py", "from finsent.model_commands import bench\n")
    _write(tmp_path, "monitor/config_cli.py", "def show():\n    from finsent import cli\n")

    assert violations(tmp_path) == [
        "benchmarks.pipeline imports finsent.cli: finsent is the command shell: only it, migrations, tests and "
        "scripts import it",
        "dashboards.cli imports finsent: finsent is the command shell: only it, migrations, tests and scripts "
        "import it",
        "model.card imports finsent.model_commands: finsent is the command shell: only it, migrations, tests and "
        "scripts import it",
        "monitor.config_cli imports finsent.cli: finsent is the command shell: only it, migrations, tests and "
        "scripts import it",
    ]


def test_no_serving_package_imports_the_benchmarks(tmp_path: Path) -> None:
    for package in ("benchmarks/__init__.py", "monitor/__init__.py", "monitor/stream/__init__.py",
                    "monitor/ingest/__init__.py", "monitor/retrain/__init__.py", "model/__init__.py",
                    "model/serving/__init__.py", "dashboards/__init__.py", "finsent/__init__.py"):
        _write(tmp_path, package)
    _write(tmp_path, "benchmarks/pipeline.py", "from monitor.ingest import replay\nfrom monitor.stream import worker\n"
                                               "from dashboards import queries\nfrom model.serving import predictor\n")
    _write(tmp_path, "benchmarks/dashboard.py", "from dashboards.cli import APP_PATH\n")
    _write(tmp_path, "finsent/bench_commands.py", "from benchmarks.pipeline import pipeline\n")
    _write(tmp_path, "monitor/ingest/replay.py")
    _write(tmp_path, "monitor/stream/worker.py", "def bench():\n    from benchmarks import pipeline\n")
    _write(tmp_path, "monitor/retrain/gate.py", "from benchmarks.pipeline import percentile\n")
    _write(tmp_path, "model/serving/predictor.py", "from benchmarks.pipeline import model_only_rate\n")
    _write(tmp_path, "dashboards/queries.py")
    _write(tmp_path, "dashboards/cli.py", "def bench():\n    from benchmarks.dashboard import run_benchmark\n")

    assert violations(tmp_path) == [
        "dashboards.cli imports benchmarks.dashboard: dashboards serves and must not import benchmarks "
        "(benchmarks stay out of the serving path)",
        "model.serving.predictor imports benchmarks.pipeline: model.serving serves and must not import benchmarks "
        "(benchmarks stay out of the serving path)",
        "monitor.retrain.gate imports benchmarks.pipeline: monitor may import only monitor, model, kernel "
        "(docs/architecture.md)",
        "monitor.stream.worker imports benchmarks.pipeline: monitor.stream serves and must not import benchmarks "
        "(benchmarks stay out of the serving path)",
    ]


def test_training_importing_reports_is_reported(tmp_path: Path) -> None:
    for package in ("model/__init__.py", "model/training/__init__.py", "model/reports/__init__.py"):
        _write(tmp_path, package)
    _write(tmp_path, "model/reports/event_bench.py", "def guard():\n    from model.training import loop\n")
    _write(tmp_path, "model/training/loop.py", "def data():\n    from model.reports.event_bench import rows\n")

    assert violations(tmp_path) == [
        "model.training.loop imports model.reports.event_bench: model.training must not import model.reports: "
        "reports measure trained models (event files load from model.data)",
    ]


def test_a_fixture_path_in_code_is_reported_and_prose_is_not(tmp_path: Path) -> None:
    _write(tmp_path, "model/a.py", '''"""Reads tests/fixtures/events/dev_events.yaml."""
from pathlib import Path
ROOT = Path(".")
A = ROOT / "tests" / "fixtures" / "events"
B = Path("tests/fixtures/linking/sample.jsonl")
C = ROOT.joinpath("tests", "fixtures")
HELP = "e.g. tests/fixtures/events/dev_events.yaml"
''')
    _write(tmp_path, "monitor/b.py", "D = './tests/fixtures/x.csv'\n")
    _write(tmp_path, "finsent/c.py", "E = 'tests/fixtures/x.csv'\n")  # the edge may

    assert fixture_paths(tmp_path) == ["model/a.py:4", "model/a.py:5", "model/a.py:6", "monitor/b.py:1"]


def test_the_alert_layers_stay_apart(tmp_path: Path) -> None:
    for package in ("monitor/__init__.py", "monitor/alerts/__init__.py", "monitor/alerts/detectors/__init__.py",
                    "monitor/alerts/rules/__init__.py", "monitor/alerts/silences/__init__.py",
                    "monitor/alerts/delivery/__init__.py", "monitor/alerts/research/__init__.py",
                    "dashboards/__init__.py", "finsent/__init__.py"):
        _write(tmp_path, package)
    _write(tmp_path, "monitor/alerts/durations.py")
    _write(tmp_path, "monitor/alerts/detectors/base.py", "from monitor.alerts.durations import Duration\n")
    _write(tmp_path, "monitor/alerts/detectors/zscore.py", "from .base import DetectorConfig\n"
                                                           "from monitor.alerts.rules.config import RuleSpec\n")
    _write(tmp_path, "monitor/alerts/detectors/cusum.py", "from monitor.alerts.detectors.zscore import level\n")
    _write(tmp_path, "monitor/alerts/detectors/registry.py", "from monitor.alerts.detectors import cusum, zscore\n")
    _write(tmp_path, "monitor/alerts/rules/config.py", "from monitor.alerts.detectors.registry import DetectorSpec\n")
    _write(tmp_path, "monitor/alerts/rules/evaluation.py", "def evidence():\n"
                                                           "    from monitor.alerts.delivery.payload import body\n")
    _write(tmp_path, "monitor/alerts/silences/matching.py", "from monitor.alerts.rules.config import InhibitRuleSpec\n"
                                                            "from monitor.alerts.delivery import routing\n")
    _write(tmp_path, "monitor/alerts/delivery/routing.py", "from monitor.alerts.silences.matching import matches\n")
    _write(tmp_path, "monitor/alerts/delivery/payload.py", "from monitor.alerts.research.replay import replay\n")
    _write(tmp_path, "monitor/alerts/research/replay.py", "from monitor.alerts.rules import config\n"
                                                          "from monitor.alerts.silences.matching import inhibiting\n")
    _write(tmp_path, "monitor/alerts/cli.py", "from monitor.alerts.research.replay import replay\n"
                                              "from monitor.alerts.delivery import payload\n")
    _write(tmp_path, "dashboards/backtests.py", "from monitor.alerts.research import replay\n")
    _write(tmp_path, "finsent/cli.py", "from monitor.alerts.research.replay import replay\n")

    assert violations(tmp_path) == [
        "dashboards.backtests imports monitor.alerts.research.replay: only monitor.alerts.research, "
        "monitor.alerts.cli, finsent, tests and scripts import monitor.alerts.research",
        "monitor.alerts.delivery.payload imports monitor.alerts.research.replay: only monitor.alerts.research, "
        "monitor.alerts.cli, finsent, tests and scripts import monitor.alerts.research",
        "monitor.alerts.detectors.cusum imports monitor.alerts.detectors.zscore: monitor.alerts.detectors may import "
        "of monitor.alerts only monitor.alerts.detectors.base, monitor.alerts.detectors.observation, "
        "monitor.alerts.detectors.prior, monitor.alerts.detectors.windowed, monitor.alerts.durations "
        "(docs/architecture.md)",
        "monitor.alerts.detectors.zscore imports monitor.alerts.rules.config: monitor.alerts.detectors may import "
        "of monitor.alerts only monitor.alerts.detectors.base, monitor.alerts.detectors.observation, "
        "monitor.alerts.detectors.prior, monitor.alerts.detectors.windowed, monitor.alerts.durations "
        "(docs/architecture.md)",
        "monitor.alerts.rules.evaluation imports monitor.alerts.delivery.payload: monitor.alerts.rules may import "
        "of monitor.alerts only monitor.alerts.rules, monitor.alerts.detectors, monitor.alerts.durations "
        "(docs/architecture.md)",
        "monitor.alerts.silences.matching imports monitor.alerts.delivery.routing: monitor.alerts.silences may "
        "import of monitor.alerts only monitor.alerts.silences, monitor.alerts.rules (docs/architecture.md)",
    ]


def test_a_path_object_into_the_fixtures_is_reported(tmp_path: Path) -> None:
    _write(tmp_path, "dashboards/a.py", 'from pathlib import Path\nSAMPLE = Path("tests") / "fixtures" / "x.csv"\n')
    _write(tmp_path, "benchmarks/b.py", 'from pathlib import Path\nOK = Path("reports") / "fixtures.json"\n')

    assert fixture_paths(tmp_path) == ["dashboards/a.py:2"]


def test_an_import_loop_is_reported_naming_its_modules(tmp_path: Path) -> None:
    for package in ("model/__init__.py", "model/training/__init__.py", "model/data/__init__.py",
                    "monitor/__init__.py"):
        _write(tmp_path, package)
    # the loop of issue #29: the loop's recipe lived beside a command that trains with the loop
    _write(tmp_path, "model/training/loop.py", "def train():\n    from model.training.event_finetune import recipe\n")
    _write(tmp_path, "model/training/event_finetune.py", "from model.data.events import load\n\n"
                                                        "def finetune():\n    from model.training import loop\n")
    _write(tmp_path, "model/data/events.py", "from model.data import splits\n")
    _write(tmp_path, "model/data/splits.py", "import model.data.events\n")
    _write(tmp_path, "monitor/a.py", "from monitor import b\n")
    _write(tmp_path, "monitor/b.py", "from monitor.c import f\n")
    _write(tmp_path, "monitor/c.py", "from monitor.a import g\nfrom monitor.d import h\n")
    _write(tmp_path, "monitor/d.py", "import monitor.c\n")

    assert import_cycles(tmp_path) == [
        "model.data.events -> model.data.splits -> model.data.events",
        "model.training.event_finetune -> model.training.loop -> model.training.event_finetune",
        "monitor.a -> monitor.b -> monitor.c -> monitor.a (with monitor.d)",
    ]


def test_a_settings_read_outside_the_edge_is_reported(tmp_path: Path) -> None:
    _write(tmp_path, "monitor/storage/db.py", "from kernel.settings import get_settings\n\n"
                                              "def make_engine(url=None):\n"
                                              "    return url or get_settings().database_url\n")
    _write(tmp_path, "monitor/stream/worker.py", "from kernel import settings as s\nSETTINGS = s.get_settings()\n")
    _write(tmp_path, "monitor/stream/cli.py", """import click
from kernel.settings import get_settings

@click.command()
def worker():
    settings = get_settings()

    def nested():
        return get_settings()

def _helper():
    return get_settings()
""")
    _write(tmp_path, "dashboards/app.py", "from kernel.settings import load_settings\nsettings = load_settings()\n")
    _write(tmp_path, "dashboards/app_pages/alerts.py", "from kernel.settings import get_settings\n"
                                                       "url = get_settings().alertmanager_url\n")
    _write(tmp_path, "model/a.py",
           "def f():\n    from kernel.settings import load_settings\n    return load_settings()\n")

    assert settings_reads(tmp_path) == [
        "dashboards/app_pages/alerts.py:2",
        "model/a.py:3",
        "monitor/storage/db.py:4",
        "monitor/stream/cli.py:12",
        "monitor/stream/worker.py:2",
    ]


def test_serving_parts_of_the_monitor_do_not_import_retraining(tmp_path: Path) -> None:
    for package in ("monitor/__init__.py", "monitor/stream/__init__.py", "monitor/storage/__init__.py",
                    "monitor/retrain/__init__.py", "dashboards/__init__.py", "finsent/__init__.py"):
        _write(tmp_path, package)
    _write(tmp_path, "monitor/retrain/evaluate.py", "from monitor.storage.models import ModelVersion\n")
    _write(tmp_path, "monitor/storage/models.py")
    _write(tmp_path, "monitor/stream/worker.py", "def build():\n    from monitor.retrain.evaluate import score\n")
    _write(tmp_path, "dashboards/model.py", "from monitor.retrain.evaluate import slices\n")
    _write(tmp_path, "finsent/model_commands.py", "from monitor.retrain.evaluate import slices\n")

    assert violations(tmp_path) == [
        "monitor.stream.worker imports monitor.retrain.evaluate: monitor.stream must not import monitor.retrain: "
        "retraining stands beside the app and uses it (the model_versions records live in monitor.storage)",
    ]
