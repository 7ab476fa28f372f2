"""How an assessment spends its time budget: a reserve for measuring, and fair fitting slices for the rest.

The budget is the user's wall-clock promise. What runs before fitting (loading, profiling,
leak checks, probes) is subtracted as spent; measuring every candidate the same way is
reserved from a timed bootstrap probe and, for text encoders, from their measured speed;
fitting gets the rest. Within fitting the deep candidates together get at least half:
a verdict about deep learning is only fair when the model under test had the time to learn.
Simple candidates fit first, and whatever they leave unused goes to the deep ones.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from depthgauge.assessment import quality

MIN_BUDGET_S = 10.0
MIN_FIT_S = 2.0
EVALUATION_SHARE = 0.15  # of the budget, at least, kept for measuring latency, throughput and intervals
MAX_EVALUATION_SHARE = 0.6
MIN_RESAMPLES = 200
FIXED_COSTS_S = 2.0  # report, artifacts and database, measured at one to two seconds on 2 cores
DEEP_SHARE = 0.5  # of the fitting time, at least, for the deep candidates together
SKIP_BELOW_S = 0.5  # a candidate whose slice is shorter is reported as skipped, not trained badly
IMPORTANCE_SHARE = 0.05  # of the budget, for permutation importance of the tabular candidates


@dataclass
class BudgetPlan:
    """How the time budget is spent: fitting first, then measuring every candidate the same way."""

    fit_s: float
    resamples: int
    latency_s: float
    throughput_s: float
    importance_s: float = 0.0


def plan_budget(budget_s: float, spent_s: float, task: str, n_test: int, n_classes: int, n_candidates: int,
                resamples: int, predict_s: float = 0.0, importance_s: float = 0.0) -> BudgetPlan:
    """Return the split of the budget, sizing the evaluation reserve from a timed bootstrap probe.

    `predict_s` is the measured time the slow candidates need to predict the test rows; it is
    reserved on top of the measuring, since no candidate can be scored without it. `importance_s`
    is reserved for permutation importance, and kept in the plan for it.
    """
    latency_s, throughput_s = min(2.0, 0.02 * budget_s), min(0.5, 0.005 * budget_s)
    per_candidate = quality.estimate_bootstrap_seconds(task, n_test, n_classes, resamples)

    def reserve(per_bootstrap: float) -> float:
        # each candidate: intervals + latency + throughput (+ its warm-up); the verdict: two paired bootstraps
        return n_candidates * (per_bootstrap + latency_s + throughput_s + 0.2) + 2 * per_bootstrap + FIXED_COSTS_S

    needed = reserve(per_candidate)
    ceiling = MAX_EVALUATION_SHARE * budget_s - predict_s
    if needed > ceiling and resamples > MIN_RESAMPLES:
        # Fewer resamples rather than a blown budget; the count used is recorded with the assessment.
        affordable = max(ceiling - reserve(0.0), 0.0) / (n_candidates + 2)
        requested = resamples
        resamples = max(MIN_RESAMPLES, min(requested, int(requested * affordable / per_candidate) // 100 * 100))
        needed = reserve(per_candidate * resamples / requested)
    evaluation_s = max(EVALUATION_SHARE * budget_s, min(needed, max(ceiling, 0.0))) + predict_s + importance_s
    return BudgetPlan(budget_s - spent_s - evaluation_s, resamples, latency_s, throughput_s, importance_s)


class FitClock:
    """Hands each candidate its slice of the fitting time, in the order they fit (simple ones first).

    Simple candidates share (1 - deep share) of the time, each taking an equal part of what is
    left of their pool; deep candidates share everything that is left of the fitting time. The
    deep share is DEEP_SHARE, or the deep candidates' head count share when that is larger.
    Baselines that take no time (`instant`) are not counted.
    """

    def __init__(self, fit_s: float, kinds: list[tuple[bool, bool]], clock=time.perf_counter):
        """`kinds` holds (is_deep, instant) for every candidate."""
        self.clock = clock
        start = clock()
        self.deadline = start + fit_s
        counted = [deep for deep, instant in kinds if not instant]
        n_deep, n_simple = sum(counted), len(counted) - sum(counted)
        share = max(DEEP_SHARE, n_deep / max(len(counted), 1)) if n_deep else 0.0
        self.simple_deadline = start + fit_s * (1.0 - share)
        self.left = {True: n_deep, False: n_simple}

    def next_slice(self, is_deep: bool, instant: bool = False) -> float:
        """Return the seconds the next candidate may fit for (0 or less: the budget ran out)."""
        now = self.clock()
        if instant:
            return max(self.deadline - now, 0.0)
        if self.left[is_deep] <= 0:
            raise ValueError("more candidates asked for time than the clock was planned for")
        end = self.deadline if is_deep else min(self.simple_deadline, self.deadline)
        slice_s = (end - now) / self.left[is_deep]
        self.left[is_deep] -= 1
        return slice_s
