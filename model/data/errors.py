"""Errors raised by the dataset loaders, splits and fetcher.

A malformed file must fail at load time with a message a person can act on:
the file, the 1-based line number and what was wrong, e.g.
``data/x.csv:12: unknown label 'bullishh' (expected one of: ...)``.
"""

from __future__ import annotations

from pathlib import Path


class DataFormatError(ValueError):
    """A dataset file does not have the format its loader expects."""

    def __init__(self, path: Path | str, line: int | None, problem: str) -> None:
        self.path = Path(path)
        self.line = line
        self.problem = problem
        where = f"{self.path}:{line}" if line is not None else str(self.path)
        super().__init__(f"{where}: {problem}")


class DatasetMissingError(FileNotFoundError):
    """A catalogued dataset file is not in the data directory."""
