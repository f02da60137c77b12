"""Find the line of a CSV member that a fast reader refused, by re-reading it slowly.

The streaming Arrow reader says *what* is wrong but not *where*. When it fails, the
transforms read the member again here, one physical line at a time (WDS and census
CSVs never put line breaks inside values), and report the first line that breaks a
rule. Only the error path pays for this pass.
"""

from __future__ import annotations

import csv
import re
import zipfile
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass

_NUMBER = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")

INT_RANGES = {"int8": (-(2**7), 2**7 - 1), "int16": (-(2**15), 2**15 - 1), "int32": (-(2**31), 2**31 - 1), "int64": (-(2**63), 2**63 - 1)}


@dataclass(frozen=True)
class BadLine:
    line: int
    reason: str
    text: str

    def describe(self) -> str:
        shown = self.text if len(self.text) <= 160 else self.text[:157] + "..."
        return f"line {self.line}: {self.reason}: {shown!r}"


def value_problem(value: str, type_name: str) -> str | None:
    """Why a CSV field cannot become ``type_name`` (an Arrow type string), or None."""
    if value == "" or type_name == "string":
        return None
    if type_name in ("double", "float"):
        return None if _NUMBER.match(value) else f"not a number: {value!r}"
    if type_name in INT_RANGES:
        low, high = INT_RANGES[type_name]
        if not re.match(r"^[+-]?\d+$", value):
            return f"not an integer: {value!r}"
        return None if low <= int(value) <= high else f"{value} does not fit {type_name}"
    return None


def iter_bad_lines(
    archive: zipfile.ZipFile,
    member: str,
    *,
    encoding: str,
    column_types: Mapping[str, str],
    column_names: list[str],
    extra_check: Callable[[dict[str, str]], str | None] | None = None,
    skip_lines: int = 1,
) -> Iterator[BadLine]:
    """Yield every line that breaks the column count, a column's type or ``extra_check``."""
    python_encoding = "utf-8-sig" if encoding.replace("-", "").lower() == "utf8" else encoding
    expected = len(column_names)
    with archive.open(member) as handle:
        for line_number, raw in enumerate(handle, start=1):
            if line_number <= skip_lines:
                continue
            try:
                text = raw.decode(python_encoding).rstrip("\r\n")
            except UnicodeDecodeError as error:
                yield BadLine(line_number, f"not valid {encoding} ({error.reason} at byte {error.start})", raw[:160].decode("latin-1"))
                continue
            if text == "":
                continue
            fields = next(csv.reader([text]))
            if len(fields) != expected:
                yield BadLine(line_number, f"{len(fields)} fields where the header has {expected}", text)
                continue
            row = dict(zip(column_names, fields))
            for name, type_name in column_types.items():
                if (problem := value_problem(row[name], type_name)) is not None:
                    yield BadLine(line_number, f"column {name}: {problem}", text)
                    break
            else:
                if extra_check is not None and (problem := extra_check(row)) is not None:
                    yield BadLine(line_number, problem, text)
