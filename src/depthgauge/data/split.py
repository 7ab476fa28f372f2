"""Split rows into train, validation and test: stratified, time-ordered or grouped, with a fixed seed.

`repeated_splits` gives the K splits of a repeated assessment: fresh stratified (or grouped)
shuffles with seeds seed, seed+1, ...; or, for time-ordered data, a rolling origin whose test
window steps back in time, so every split still trains on the past and tests on the future.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.model_selection import GroupShuffleSplit, train_test_split

from depthgauge.data.timeorder import sort_key, time_values
from depthgauge.errors import DepthgaugeError

TRAIN, VALIDATION, TEST = 0.70, 0.15, 0.15
ROLLING_STEP = 0.03  # of the rows: how far each time-ordered repeat moves its end back


@dataclass
class Split:
    method: str
    seed: int
    train: np.ndarray
    validation: np.ndarray
    test: np.ndarray

    test_rows_before_sampling: int | None = None

    def subsample_test(self, n: int, seed: int) -> None:
        """Keep a seeded random `n` of the test rows (when scoring every one would not fit the budget)."""
        self.test_rows_before_sampling = len(self.test)
        self.test = np.sort(np.random.default_rng(seed).choice(self.test, n, replace=False))

    def summary(self) -> dict:
        return {
            "test_rows_before_sampling": self.test_rows_before_sampling,
            "method": self.method,
            "seed": self.seed,
            "sizes": {"train": len(self.train), "validation": len(self.validation), "test": len(self.test)},
        }


def split_rows(
    frame: pd.DataFrame,
    y: pd.Series,
    task: str,
    seed: int = 0,
    time_column: str | None = None,
    group_column: str | None = None,
) -> Split:
    """Return row positions for train / validation / test (70/15/15)."""
    n = len(frame)
    positions = np.arange(n)
    if time_column is not None:
        key = sort_key(time_values(frame[time_column], time_column))
        order = np.argsort(key, kind="stable")
        a, b = int(n * TRAIN), int(n * (TRAIN + VALIDATION))
        return Split("time-ordered", seed, order[:a], order[a:b], order[b:])
    if group_column is not None:
        groups = frame[group_column].astype("string").fillna("<missing>").to_numpy()
        if len(set(groups)) < 3:
            raise DepthgaugeError(
                f"Group column '{group_column}' has fewer than 3 distinct groups; a grouped split needs at least 3. "
                "Pick a column with more groups, or drop --group-column."
            )
        outer = GroupShuffleSplit(n_splits=1, test_size=TEST, random_state=seed)
        rest, test = next(outer.split(positions, groups=groups))
        inner = GroupShuffleSplit(n_splits=1, test_size=VALIDATION / (TRAIN + VALIDATION), random_state=seed)
        train, val = next(inner.split(rest, groups=groups[rest]))
        return Split("grouped", seed, rest[train], rest[val], test)
    stratify = y.to_numpy() if task in ("binary", "multiclass") else None
    rest, test = train_test_split(positions, test_size=TEST, random_state=seed, stratify=stratify)
    stratify_rest = stratify[rest] if stratify is not None else None
    train, val = train_test_split(
        rest, test_size=VALIDATION / (TRAIN + VALIDATION), random_state=seed, stratify=stratify_rest
    )
    return Split("stratified" if stratify is not None else "random", seed, np.sort(train), np.sort(val), np.sort(test))


def repeated_split(frame: pd.DataFrame, y: pd.Series, task: str, seed: int, index: int,
                   time_column: str | None = None, group_column: str | None = None) -> Split:
    """Return split number `index` (0 is `split_rows` itself) of a repeated assessment.

    Time-ordered splits keep 70/15/15 proportions of the rows before their end; split i ends
    i × 3% of the rows earlier than the whole data, so the test windows overlap but differ.
    """
    if index == 0 or time_column is None:
        return split_rows(frame, y, task, seed + index, time_column, group_column)
    key = sort_key(time_values(frame[time_column], time_column))
    order = np.argsort(key, kind="stable")
    end = len(order) - int(len(order) * ROLLING_STEP * index)
    if end < 20:
        raise DepthgaugeError(f"Too few rows for {index + 1} time-ordered splits; pass --repeats 1.")
    order = order[:end]
    a, b = int(end * TRAIN), int(end * (TRAIN + VALIDATION))
    return Split("time-ordered (rolling origin)", seed + index, order[:a], order[a:b], order[b:])

