"""Repeated splits: every candidate trained and scored on K splits, so the verdict sees the noise of the split
and of training, not only that of one split's test rows.

Split 0 is the assessment's own split: its models are measured on all five dimensions, stored
and registered. Splits 1..K-1 (fresh stratified or grouped shuffles, or a rolling origin for
time-ordered data, each with its own validation rows for early stopping and its own training
seed) only train and score the primary metric. Each split fits within an equal share of the
fitting time. On tables of 20,000 rows or more, and on other kinds, when a candidate of split 0
was stopped on the clock while still learning, split 0 is refitted with all the time that is left;
the time that refit took is what each later split is then given, as many as the rest affords
(see `runner.py`).
"""

from __future__ import annotations

import time

import numpy as np

from depthgauge.assessment import quality
from depthgauge.assessment.evaluation import outcome_of
from depthgauge.assessment.fitting import fit_candidates
from depthgauge.assessment.plan import BudgetPlan
from depthgauge.assessment.progress import Reporter
from depthgauge.data.split import repeated_split
from depthgauge.zoo import FAMILIES

SMALL_TABLE_ROWS = 20_000  # below this, repeats always run: one split of a small table is too noisy to judge on
MIN_REPEATS = 3  # with two splits the t interval (1 degree of freedom) is too wide to decide anything
MIN_CANDIDATE_S = 2.0  # per trained candidate and split: below it, repeats would starve every candidate


def affordable_repeats(requested: int, fit_s: float, candidates, read_s: float = 0.0) -> tuple[int, str | None]:
    """Return how many splits the fitting time affords, and a note when it is fewer than requested.

    Each split must give every trained candidate at least MIN_CANDIDATE_S on average; more splits
    of starved models would measure the starving, not the models. Each split after the first also
    spends `read_s` on reading its test rows (a text encoder's pass), which no candidate can fit in.
    """
    trained = max(sum(not FAMILIES[c].instant for c in candidates), 1)
    for repeats in range(requested, MIN_REPEATS - 1, -1):
        if (fit_s - (repeats - 1) * read_s) / repeats >= MIN_CANDIDATE_S * trained:
            return repeats, (None if repeats == requested else _fewer(repeats, requested, fit_s, trained, read_s))
    return 1, _fewer(1, requested, fit_s, trained, read_s)


def _fewer(repeats: int, requested: int, fit_s: float, trained: int, read_s: float) -> str:
    needed = requested * MIN_CANDIDATE_S * trained + (requested - 1) * read_s
    reading = f" and {read_s:.0f}s a split to read its test rows" if read_s else ""
    return (f"{repeats} split{'s' if repeats > 1 else ''}, not {requested}: {fit_s:.0f}s of fitting time cannot give "
            f"{trained} candidates {MIN_CANDIDATE_S:g}s each on {requested} splits{reading} (about {needed:.0f}s "
            "needed). A larger --time-budget allows repeated splits.")


class _Quiet(Reporter):
    """Passes stage text on, keeps the per-candidate lines of the extra splits out of the progress display."""

    def __init__(self, reporter: Reporter, text: str):
        self.reporter, self.text = reporter, text

    def candidate_started(self, name: str, budget_s: float) -> None:
        self.reporter.stage(f"{self.text}: training {name} (up to {budget_s:.0f}s)")


def score_repeats(candidates, task, metric, roles, seed, repeats: int, deadline: float, frame, X, y, y_split,
                  time_column, group_column, positive_label, reporter: Reporter, params=None,
                  family_roles=None, first: int = 1, read_s: float = 0.0,
                  test_rows: int | None = None) -> dict[str, list[float | None]]:
    """Train and score every candidate on splits first..repeats-1; return each candidate's primary-metric scores.

    Each split reads at most `test_rows` test rows (as many as split 0 was scored on) and keeps `read_s` of its
    share of the time for reading them."""
    scores: dict[str, list[float | None]] = {name: [] for name in candidates}
    ones = None
    for index in range(first, repeats):
        split = repeated_split(frame, y_split, task, seed, index, time_column, group_column)
        if test_rows is not None and test_rows < len(split.test):
            split.subsample_test(test_rows, seed + index)
        fit_s = (deadline - time.perf_counter()) / (repeats - index) - read_s
        plan = BudgetPlan(fit_s, 0, 0.0, 0.0)
        results, models = fit_candidates(
            candidates, task, roles, seed + index, plan, X.iloc[split.train], y[split.train],
            X.iloc[split.validation], y[split.validation], _Quiet(reporter, f"Split {index + 1} of {repeats}"),
            params, None, family_roles)
        X_test, y_test = X.iloc[split.test], y[split.test]
        ones = np.ones((1, len(split.test)))
        for result in results:
            if result.name not in models:
                scores[result.name].append(None)
                continue
            outcome = outcome_of(models[result.name][0], task, X_test, y_test, positive_label)
            scores[result.name].append(float(quality.weighted_metrics(task, outcome, ones, only=metric)[metric][0]))
    return scores


def settle_with_more_splits(results, metric: str, test_train_ratio: float, decide, one_more_split, split_s: float,
                            deadline: float, done: int, most: int):
    """Return the verdict and how many splits were added: while the call is inconclusive for lack of evidence (not
    because a model was cut), and another split of `split_s` seconds (the share each earlier split was given) ends
    before `deadline`, one more split is
    trained and scored (`one_more_split(index)` gives each candidate's score) and the call is made again. It stops
    as soon as the call is settled, so the budget is spent only where it can change the call."""
    verdict, added = decide(), 0
    while (verdict.call == "inconclusive" and verdict.to_decide is not None and done + added < most
           and time.perf_counter() + split_s < deadline):
        scores = one_more_split(done + added)
        if any(scores.get(name, [None])[0] is None for name in (verdict.best_simple, verdict.deep)):
            break  # the split could not train the two the call compares: more of them would not help
        for result in results:
            if result.split_scores is not None and result.name in scores:
                result.split_scores.append(scores[result.name][0])
                quality.score_over_splits(result, metric, test_train_ratio)
        added += 1
        verdict = decide()
    return verdict, added
