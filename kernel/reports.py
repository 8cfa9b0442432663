"""Benchmark and evaluation reports: JSON files under reports/ (git-ignored).

One writer for every `finsent bench ...` and `finsent evaluate` command, so
reports are written the same way everywhere: atomically (a reader such as the
model card never sees half a file) and pretty-printed for people.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from kernel.paths import PROJECT_ROOT

REPORTS_DIR = PROJECT_ROOT / "reports"


def write_json_report(report: dict[str, Any], path: Path | str) -> Path:
    """Write report to path (a bare file name means REPORTS_DIR/name); return the path."""
    target = Path(path) if Path(path).is_absolute() else REPORTS_DIR / path
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.tmp")
    tmp.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    tmp.replace(target)
    return target
