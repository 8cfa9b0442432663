"""Reading CSV dataset files row by row with the line number each row starts on.

Every CSV loader goes through `read_rows`, so a missing column or an
undecodable byte is reported the same way everywhere: file, line, problem.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator, Sequence
from pathlib import Path

from model.data.errors import DataFormatError


def read_rows(path: Path, required: Sequence[str], encoding: str = "utf-8-sig") -> Iterator[tuple[int, dict[str, str]]]:
    """Yield (1-based line number where the row starts, row) for each data row of a headed CSV.

    Raises DataFormatError naming the file and line for a missing column, a
    row with too few fields, or bytes that are not valid in `encoding`.
    """
    try:
        with path.open(newline="", encoding=encoding) as handle:
            reader = csv.DictReader(handle)
            columns = reader.fieldnames or []
            missing = [name for name in required if name not in columns]
            if missing:
                raise DataFormatError(
                    path, 1, f"missing column {missing[0]!r} (header has: {', '.join(columns) or 'nothing'})"
                )
            row_start = reader.line_num + 1
            for row in reader:
                if None in row.values() or None in row:
                    raise DataFormatError(path, row_start, f"expected {len(columns)} fields, got a different number")
                yield row_start, row
                row_start = reader.line_num + 1
    except UnicodeDecodeError as error:
        raise DataFormatError(path, None, f"not valid {encoding} text ({error.reason} at byte {error.start})") from None
    except csv.Error as error:
        raise DataFormatError(path, None, f"malformed CSV: {error}") from None
