"""Fitting the candidates: one after another in this process, on Ray, or the MLP data-parallel; each within its slice.

Every candidate's slice comes from the plan's `FitClock`, so the deep ones together get at least
half of the fitting time. What a candidate's training ended on (converged, early stopping, the
clock) is kept in its params, because a verdict must know which models were cut off.
"""

from __future__ import annotations

import time
import traceback

from depthgauge.assessment import operations
from depthgauge.assessment.evaluation import record_training
from depthgauge.assessment.executors import load_trained, train_mlp_data_parallel, train_on_ray
from depthgauge.assessment.plan import SKIP_BELOW_S, BudgetPlan, FitClock
from depthgauge.assessment.progress import Reporter
from depthgauge.assessment.results import CandidateResult
from depthgauge.errors import DepthgaugeError
from depthgauge.zoo import FAMILIES


def fit_candidates(candidates, task, roles, seed, plan: BudgetPlan, X_train, y_train, X_val, y_val,
                   reporter: Reporter, params: dict | None = None, data_parallel: dict | None = None,
                   family_roles: dict | None = None) -> tuple[list[CandidateResult], dict]:
    """Fit every candidate in turn, each within its slice of the fitting time.

    Returns the results (failed and skipped ones included, never hidden) and the fitted models
    with the peak memory each fit took.
    """
    clock = FitClock(plan.fit_s, [(FAMILIES[c].is_deep, FAMILIES[c].instant) for c in candidates])
    results: list[CandidateResult] = []
    models = {}
    for name in candidates:
        cls = FAMILIES[name]
        slice_s = clock.next_slice(cls.is_deep, cls.instant)
        model = cls(task, (family_roles or {}).get(name, roles), seed=seed, time_limit_s=max(slice_s, 0.0),
                    **(params or {}).get(name, {}))
        result = CandidateResult(name, cls.display_name, cls.family, cls.is_deep, "ok", model.get_params())
        results.append(result)
        if slice_s < SKIP_BELOW_S and not cls.instant:
            result.status, result.error = "skipped", "the time budget ran out before this candidate's turn"
            reporter.candidate_finished(result)
            continue
        if not cls.instant:
            result.params["time_slice_s"] = round(slice_s, 1)
        reporter.candidate_started(name, slice_s)
        if name == "mlp" and data_parallel:
            _fit_data_parallel(result, models, task, roles, seed, slice_s, (X_train, y_train, X_val, y_val),
                               (params or {}).get(name, {}), data_parallel)
            reporter.candidate_finished(result)
            continue
        try:
            with operations.PeakMemory() as memory:
                fit_started = time.perf_counter()
                model.fit(X_train, y_train, validation=(X_val, y_val))
                result.fit_seconds = time.perf_counter() - fit_started
            models[name] = (model, memory.peak_mb)
            result.params.update(model.training_summary())
            record_training(result, model)
        except DepthgaugeError:
            raise
        except Exception as exc:  # a candidate that crashes is reported, not hidden, and the others go on
            result.status, result.error = "failed", f"{type(exc).__name__}: {exc}"
            result.params["traceback"] = traceback.format_exc(limit=5)
        reporter.candidate_finished(result)
    return results, models


def _fit_data_parallel(result, models, task, roles, seed, time_limit_s, data, params, data_parallel) -> None:
    """Fit the MLP with Ray Train across `data_parallel["workers"]` processes; fill `result` and `models`."""
    outcome = train_mlp_data_parallel(task, roles, seed, time_limit_s, data, data_parallel["workers"], params,
                                      data_parallel["address"])
    _take(result, models, "mlp", outcome)
    if outcome["status"] == "ok":
        result.params["data_parallel_workers"] = outcome["workers"]
        result.params["train_rows_per_s"] = outcome["rows_seen"] / max(outcome["train_seconds"], 1e-9)


def _take(result, models, name: str, outcome: dict) -> None:
    result.status = outcome["status"]
    if outcome["status"] == "ok":
        result.fit_seconds = outcome["fit_seconds"]
        models[name] = (load_trained(name, outcome), outcome["peak_mb"])
        result.params.update(outcome.get("training", {}))
        record_training(result, models[name][0])
    else:
        result.error = outcome["error"]
        result.params["traceback"] = outcome["traceback"]


def fit_on_ray(candidates, task, roles, seed, plan: BudgetPlan, data: tuple, reporter: Reporter,
               address: str | None, params: dict | None = None,
               data_parallel: dict | None = None) -> tuple[list[CandidateResult], dict]:
    """Fit every candidate as a Ray task (see executors.py); results and models as `fit_candidates` returns them."""
    reporter.stage(f"Training {len(candidates)} candidates on Ray")
    params = params or {}
    tasks = [c for c in candidates if not (c == "mlp" and data_parallel)]
    outcomes = train_on_ray(tasks, task, roles, seed, plan.fit_s, data, address, params)
    results, models = [], {}
    for name in candidates:
        cls = FAMILIES[name]
        result = CandidateResult(name, cls.display_name, cls.family, cls.is_deep, "ok",
                                 cls(task, roles, seed=seed, **params.get(name, {})).get_params())
        if name in outcomes:
            _take(result, models, name, outcomes[name])
        else:
            _fit_data_parallel(result, models, task, roles, seed, plan.fit_s / 2, data, params.get(name, {}),
                               data_parallel)
        results.append(result)
        reporter.candidate_finished(result)
    return results, models
