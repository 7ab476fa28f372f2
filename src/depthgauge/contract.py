"""The input contract: one check of inputs against a model version's input schema, for HTTP and Python alike.

The schema decides what is required: a feature with no missing values in training must be
given (a missing one is refused, naming every missing field); a feature that had missing values
is optional. Values of the wrong type are refused. An unseen category is answered, with a
warning that names it, since training mapped rare categories the same way.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from depthgauge.data.values import FALSE_WORDS, TRUE_WORDS, as_bool, as_datetime
from depthgauge.errors import DepthgaugeError

REQUIRED = "missing; it is required (it had no missing values in training)"
SHOWN_ROWS = 3  # a column's problem names this many rows, then counts the rest


@dataclass(frozen=True)
class Problem:
    """One real problem with the input: the column, the rows it is on (None: the column as a whole), the reason."""

    column: str
    rows: tuple[int, ...] | None
    reason: str
    count: int = 0  # how many rows in all, when more than `rows` shows

    def where(self) -> str:
        if self.rows is None:
            return self.column
        more = f" and {self.count - len(self.rows):,} more" if self.count > len(self.rows) else ""
        label = "row" if self.count == 1 else "rows"
        return f"{self.column} ({label} {', '.join(map(str, self.rows))}{more})"


class ContractError(DepthgaugeError):
    """The input breaks the contract; `problems` lists every real problem, nothing else."""

    def __init__(self, problems: list[Problem], ref: str | None):
        self.problems = problems
        listed = "; ".join(f"{p.where()}: {p.reason}" for p in problems)
        super().__init__(f"The input does not match the input schema of {ref or 'this model'}: {listed}.")


class InputContract:
    """A model version's input schema, compiled once: what is required, each column's type, the categories seen."""

    def __init__(self, schema: dict, ref: str | None = None):
        self.ref = ref
        self.columns = schema["columns"]
        self.names = [c["name"] for c in self.columns]
        self.required = {c["name"] for c in self.columns if not c.get("nullable", True)}
        self.seen = {c["name"]: {str(v) for v in (c.get("seen") or c.get("categories") or [])}
                     for c in self.columns if c["type"] == "category" and (c.get("seen") or c.get("categories"))}

    def check_records(self, records: list[dict]) -> tuple[list[dict], list[list[tuple[str, str]]]]:
        """Check JSON records (unknown fields refused); return the typed records and each record's warnings
        as (column, text) pairs.

        Record by record in plain Python: a request of one row is checked in microseconds, where a
        DataFrame would take milliseconds. `check_frame` finds the same problems, in the same words.
        """
        problems = [Problem(name, None, f"unknown field; this model reads: {', '.join(self.names)}")
                    for name in sorted({k for r in records for k in r} - set(self.names))]
        rows = [{} for _ in records]
        warnings: list[list[tuple[str, str]]] = [[] for _ in records]
        for column in self.columns:
            name, kind = column["name"], column["type"]
            absent, bad, first_bad = [], [], None
            for i, record in enumerate(records):
                value = record.get(name)
                if value is None or (isinstance(value, float) and math.isnan(value)):
                    rows[i][name] = None
                    absent.append(i)
                    continue
                typed, ok = _typed_value(kind, value)
                rows[i][name] = typed
                if not ok:
                    bad.append(i)
                    first_bad = value if first_bad is None else first_bad
                elif name in self.seen and typed not in self.seen[name]:
                    warnings[i].append(_unseen(name, typed))
            if name in self.required and absent:
                problems.append(_listed(name, absent, REQUIRED))
            if bad:
                problems.append(_listed(name, bad, _REASONS[kind].format(value=_short(first_bad))))
        if problems:
            raise ContractError(problems, self.ref)
        return rows, warnings

    def check_frame(self, frame: pd.DataFrame) -> tuple[pd.DataFrame, list[list[tuple[str, str]]]]:
        """Check a DataFrame (columns the model does not read are ignored); return the typed frame and warnings."""
        absent = [name for name in self.names if name not in frame.columns]
        problems = [Problem(name, None, REQUIRED) for name in absent if name in self.required]
        if absent:
            frame = frame.assign(**{name: None for name in absent})
        return self._check(frame[self.names], problems)

    def _check(self, frame: pd.DataFrame, problems: list[Problem]) -> tuple[pd.DataFrame, list[list[tuple[str, str]]]]:
        typed, warnings = {}, [[] for _ in range(len(frame))]
        whole = {p.column for p in problems}
        for column in self.columns:
            name, kind = column["name"], column["type"]
            values = frame[name]
            missing = values.isna().to_numpy()
            if name in self.required and name not in whole and missing.any():
                problems.append(_at(name, missing, REQUIRED))
            typed[name], bad = _typed(kind, values, missing)
            if bad is not None and bad.any():
                problems.append(_at(name, bad, _REASONS[kind].format(value=_short(values[bad].iloc[0]))))
            if name in self.seen:
                text = typed[name]
                unseen = ~missing & ~text.isin(self.seen[name]).to_numpy()
                for row in np.flatnonzero(unseen):
                    warnings[row].append(_unseen(name, text.iloc[row]))
        if problems:
            raise ContractError(problems, self.ref)
        return pd.DataFrame(typed, index=frame.index), warnings


_REASONS = {"number": "{value} is not a number", "boolean": "{value} is not true or false",
            "datetime": "{value} is not a date or time", "category": "{value} is not a category (send a string)",
            "text": "{value} is not a string",
            "image": "{value} is not an image: send base64-encoded PNG or JPEG bytes"}


def _typed_value(kind: str, value) -> tuple[object, bool]:
    """Return one JSON value in the type the model reads, and whether it is of that type."""
    if kind == "number":
        if isinstance(value, bool):
            return value, False
        if isinstance(value, (int, float)):
            return float(value), True
        try:
            number = float(value)
        except (TypeError, ValueError):
            return value, False
        return number, not math.isnan(number)
    if kind == "boolean":
        return value, isinstance(value, bool) or str(value).strip().lower() in TRUE_WORDS | FALSE_WORDS
    if kind == "datetime":
        return value, not pd.isna(as_datetime(pd.Series([value])).iloc[0])
    if kind == "category":
        return (value if isinstance(value, str) else str(value)), not isinstance(value, (bool, list, dict))
    if kind == "image":  # a JSON record carries an image as base64 text (a DataFrame may hold pixel arrays)
        return value, isinstance(value, str)
    return value, isinstance(value, str)


def _typed(kind: str, values: pd.Series, missing: np.ndarray) -> tuple[pd.Series, np.ndarray | None]:
    """Return the column in the type the model reads, and the rows whose value is not of that type."""
    if kind == "number":
        if pd.api.types.is_bool_dtype(values):
            return values.astype(float), np.ones(len(values), bool)
        numbers = pd.to_numeric(values, errors="coerce")
        flags = _flag(values, missing, lambda v: isinstance(v, (bool, np.bool_))) if values.dtype == object else False
        return numbers.astype(float), (numbers.isna().to_numpy() & ~missing) | flags
    if kind == "boolean":  # read as the encoder reads it, so "valid" means "the model understands it"
        return values, np.isnan(as_bool(values).to_numpy(float)) & ~missing
    if kind == "datetime":
        return values, as_datetime(values).isna().to_numpy() & ~missing
    if kind == "category":
        strings = values.map(lambda v: v if isinstance(v, str) else str(v), na_action="ignore")
        return strings, _flag(values, missing, lambda v: isinstance(v, (bool, list, dict)))
    if kind == "image":
        # base64 text, bytes or an array: the family's decoder says what is wrong with one that is not readable
        return values, _flag(values, missing, lambda v: isinstance(v, (bool, int, float, dict)))
    return values, _flag(values, missing, lambda v: not isinstance(v, str))


def _flag(values: pd.Series, missing: np.ndarray, predicate) -> np.ndarray:
    return np.fromiter((not m and predicate(v) for v, m in zip(values, missing)), bool, len(values))


def _at(column: str, rows: np.ndarray, reason: str) -> Problem:
    return _listed(column, np.flatnonzero(rows).tolist(), reason)


def _listed(column: str, rows: list[int], reason: str) -> Problem:
    return Problem(column, tuple(rows[:SHOWN_ROWS]), reason, len(rows))


def _unseen(column: str, value) -> tuple[str, str]:
    return column, f"{column}: {_short(value)} was never seen in training"


def _short(value) -> str:
    text = repr(value.item() if isinstance(value, np.generic) else value)
    return text if len(text) <= 40 else text[:37] + "...'"


def http_problems(error: ContractError, single: bool) -> list[dict]:
    """The problems as a 422's detail: one entry per field and row, as `inputs.COL` or `inputs[ROW].COL`."""
    detail = []
    for p in error.problems:
        if p.rows is None or single:
            detail.append({"field": f"inputs.{p.column}", "reason": p.reason})
        else:
            detail += [{"field": f"inputs[{row}].{p.column}", "reason": p.reason} for row in p.rows]
            if p.count > len(p.rows):
                detail.append({"field": f"inputs[...].{p.column}",
                               "reason": f"{p.reason} ({p.count - len(p.rows):,} more records)"})
    return detail
