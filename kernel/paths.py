"""The one project root every default path hangs from.

Defined once so that moving a module never silently changes where reports,
models or fixtures are read and written.
"""

from __future__ import annotations

from pathlib import Path

# The repository root when running from a checkout (editable install).
PROJECT_ROOT = Path(__file__).resolve().parent.parent
