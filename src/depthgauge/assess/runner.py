"""`assess`: load, profile, split, train every candidate side by side, score five dimensions, give the verdict.

Every input is validated before the workspace is touched, so bad input writes nothing.
"""

from __future__ import annotations

import os
import tempfile
import time
import traceback
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from depthgauge.assess import business, operations, quality, risk
from depthgauge.assess.options import parse_duration, parse_value, parse_volume
from depthgauge.assess.executors import check_executor, load_trained, train_mlp_data_parallel, train_on_ray
from depthgauge.assess.results import Assessment, CandidateResult
from depthgauge.assess.verdict import decide_verdict, unlabelled_anomaly_verdict
from depthgauge.cost.catalog import DEFAULT_INSTANCE, load_catalog
from depthgauge.cost.estimate import estimate_cost
from depthgauge.data.fingerprint import dataset_fingerprint
from depthgauge.data.kinds import detect_kind, prepare
from depthgauge.data.profile import find_leaky_features, profile_table, profile_unlabeled
from depthgauge.data.split import split_rows
from depthgauge.errors import DepthgaugeError
from depthgauge.monitor.reference import build_reference, prediction_reference
from depthgauge.zoo import CANDIDATES, FAMILIES

MIN_BUDGET_S = 10.0
MIN_FIT_S = 2.0
EVALUATION_SHARE = 0.25  # of the budget, at least, kept for measuring latency, throughput and intervals
MAX_EVALUATION_SHARE = 0.6
MIN_RESAMPLES = 200
FIXED_COSTS_S = 1.5  # report, artifacts and database, measured at about a second on 2 cores


@dataclass
class BudgetPlan:
    """How the time budget is spent: fitting first, then measuring every candidate the same way."""

    fit_s: float
    resamples: int
    latency_s: float
    throughput_s: float


def _plan_budget(budget_s: float, spent_s: float, task: str, n_test: int, n_classes: int, n_candidates: int,
                 resamples: int) -> BudgetPlan:
    """Return the split of the budget, sizing the evaluation reserve from a timed bootstrap probe."""
    latency_s, throughput_s = min(2.0, 0.04 * budget_s), min(0.5, 0.01 * budget_s)
    per_candidate = quality.estimate_bootstrap_seconds(task, n_test, n_classes, resamples)

    def reserve(per_bootstrap: float) -> float:
        # each candidate: intervals + latency + throughput (+ its warm-up); the verdict: two paired bootstraps
        return n_candidates * (per_bootstrap + latency_s + throughput_s + 0.2) + per_bootstrap + FIXED_COSTS_S

    needed = reserve(per_candidate)
    ceiling = MAX_EVALUATION_SHARE * budget_s
    if needed > ceiling and resamples > MIN_RESAMPLES:
        # Fewer resamples rather than a blown budget; the count used is recorded with the assessment.
        affordable = max(ceiling - reserve(0.0), 0.0) / (n_candidates + 1)
        requested = resamples
        resamples = max(MIN_RESAMPLES, min(requested, int(requested * affordable / per_candidate) // 100 * 100))
        needed = reserve(per_candidate * resamples / requested)
    evaluation_s = max(EVALUATION_SHARE * budget_s, min(needed, ceiling))
    return BudgetPlan(budget_s - spent_s - evaluation_s, resamples, latency_s, throughput_s)


class Reporter:
    """Receives progress; the CLI renders it with rich. The default says nothing."""

    def stage(self, text: str) -> None: ...
    def candidate_started(self, name: str, budget_s: float) -> None: ...
    def candidate_finished(self, result: CandidateResult) -> None: ...


def _positive_class(classes: list[str], balance: dict, positive: str | None) -> str | None:
    if len(classes) != 2:
        return None
    if positive is not None:
        if str(positive) not in classes:
            raise DepthgaugeError(f"--positive '{positive}' is not a class of the target. Classes: {', '.join(classes)}.")
        return str(positive)
    return min(classes, key=lambda c: (balance[c], c == classes[0]))


def assess(
    data: pd.DataFrame | str | os.PathLike,
    target: str | None = None,
    *,
    task: str | None = None,
    time_budget: str | float = "5m",
    volume: str | int = "1000000/month",
    instance: str = DEFAULT_INSTANCE,
    prices: str | os.PathLike | None = None,
    value: str | None = None,
    sensitive: str | None = None,
    time_column: str | None = None,
    group_column: str | None = None,
    drop: tuple[str, ...] | list[str] = (),
    positive: str | None = None,
    metric: str | None = None,
    max_cost_ratio: float = 3.0,
    review_threshold: float = 0.6,
    seed: int = 0,
    encoding: str | None = None,
    home: str | os.PathLike | None = None,
    db_url: str | None = None,
    candidates: tuple[str, ...] | None = None,
    resamples: int = quality.BOOTSTRAP_RESAMPLES,
    reporter: Reporter | None = None,
    name: str | None = None,
    executor: str = "local",
    ray_address: str | None = None,
    tune: int = 0,
    workers: int = 1,
    kind: str | None = None,
    edges: str | os.PathLike | None = None,
    node_column: str | None = None,
    horizon: int | None = None,
    season: int | None = None,
    contamination: float | None = None,
    endpoints: tuple[str | os.PathLike, ...] | list = (),
) -> Assessment:
    """Return an `Assessment` of simple and deep candidates on `data`, stored in the workspace at `home`."""
    started = time.perf_counter()
    reporter = reporter or Reporter()
    if name is not None:
        from depthgauge.registry.refs import check_name

        check_name(name)
    budget_s = parse_duration(time_budget)
    if budget_s < MIN_BUDGET_S:
        raise DepthgaugeError(
            f"A time budget of {budget_s:g}s is too small to train anything: the candidates and their measurements "
            f"need at least {MIN_BUDGET_S:g}s. Pass --time-budget 1m or more (the default is 5m)."
        )
    monthly_volume = parse_volume(volume)
    catalog = load_catalog(prices)
    chosen_instance = catalog.get(instance)
    if max_cost_ratio <= 0:
        raise DepthgaugeError(f"--max-cost-ratio must be positive, not {max_cost_ratio}. The default is 3.")
    if not 0 < review_threshold < 1:
        raise DepthgaugeError(f"--review-threshold must be between 0 and 1, not {review_threshold}. The default is 0.6.")
    check_executor(executor)
    if tune < 0:
        raise DepthgaugeError(f"--tune takes a number of trials (0 for none), not {tune}.")
    if workers < 1:
        raise DepthgaugeError(f"--workers takes a number of training processes of at least 1, not {workers}.")
    if tune or workers > 1:
        check_executor("ray")

    reporter.stage("Loading data")
    kind = detect_kind(data, target, kind, edges, horizon)
    if kind != "table" and (executor != "local" or tune or workers > 1):
        raise DepthgaugeError(f"--executor ray, --tune and --workers apply to tables; {kind} data trains locally. "
                              "Leave those options out.")
    prepared = prepare(kind, data, target, encoding=encoding, edges=edges, node_column=node_column, horizon=horizon,
                       season=season, time_column=time_column, contamination=contamination)
    kind, frame, source, target = prepared.kind, prepared.frame, prepared.source, prepared.target
    time_column = prepared.time_column
    candidates = tuple(candidates or CANDIDATES[kind])
    unknown = [c for c in candidates if c not in FAMILIES]
    if unknown:
        raise DepthgaugeError(f"Unknown candidate {unknown[0]!r}. Known: {', '.join(FAMILIES)}.")

    reporter.stage("Profiling")
    if kind == "anomaly":
        frame, target, positive = _anomaly_labels(frame, target, positive)
    if target is None:
        profile, frame = profile_unlabeled(frame, tuple(drop), time_column, group_column)
    else:
        profile, frame = profile_table(frame, target, "binary" if kind == "anomaly" else task, tuple(drop), sensitive,
                                       time_column, group_column, prepared.assigned)
    if kind == "series" and profile.task != "regression":
        raise DepthgaugeError(f"A forecast needs a numeric target; '{target}' is {profile.task}.")
    if kind == "anomaly":
        profile.task = "anomaly"
    profile.notes += prepared.notes
    task = profile.task
    scored = "binary" if task == "anomaly" else task  # labelled anomalies are scored as a binary task
    labelled = target is not None
    if labelled:
        metric = metric or quality.PRIMARY[scored]
        if metric not in quality.METRICS[scored]:
            raise DepthgaugeError(f"--metric {metric} does not apply to a {task} task. "
                                  f"Use one of: {', '.join(quality.METRICS[scored])}.")
    else:
        metric = "flagged_share"
    specs = _endpoint_specs(endpoints, kind, frame, target)
    matrix = parse_value(value, scored) if value and labelled else None
    positive_label = _positive_class(profile.classes or [], profile.class_balance or {}, positive)

    features, roles = _inputs(profile, prepared)
    X = frame[features]
    if labelled:
        y_raw = frame[target]
        y = y_raw.astype(str).to_numpy() if task != "regression" else y_raw.to_numpy(float)
        split = split_rows(frame, y_raw.astype(str) if task != "regression" else y_raw, scored, seed, time_column,
                           group_column)
    else:
        y = np.full(len(frame), None, dtype=object)
        split = split_rows(frame, pd.Series(np.zeros(len(frame))), "regression", seed, time_column, group_column)
    warnings = list(profile.warnings)
    if kind in ("table", "graph"):
        warnings += find_leaky_features(X.iloc[split.train], y[split.train], X.iloc[split.validation],
                                        y[split.validation], profile.features(), task)
    groups = frame[sensitive].astype(str).to_numpy()[split.test] if sensitive else None
    fingerprint = dataset_fingerprint(frame)

    plan = _plan_budget(budget_s, time.perf_counter() - started, scored if labelled else "binary", len(split.test),
                        len(profile.classes or []), len(candidates) + len(specs), resamples)
    if plan.fit_s < MIN_FIT_S:
        needed = budget_s - plan.fit_s + 4 * MIN_FIT_S
        raise DepthgaugeError(
            f"A time budget of {budget_s:g}s is too small to train anything on {profile.n_rows:,} rows: preparing the "
            f"data and measuring {len(split.test):,} test rows need about {budget_s - plan.fit_s:.0f}s of it. "
            f"Pass --time-budget {max(60, int(needed // 30 + 1) * 30)}s or more (the default is 5m)."
        )

    # Everything is validated: from here on the workspace is written.
    from depthgauge.workspace import Workspace

    with Workspace.open(home, db_url) as workspace:
        X_train, X_val, X_test = X.iloc[split.train], X.iloc[split.validation], X.iloc[split.test]
        y_test = y[split.test]
        data = (X_train, y[split.train], X_val, y[split.validation])
        vendors = [_call_endpoint(spec, workspace, frame.iloc[split.test], scored, y[split.train], y_test,
                                  positive_label, monthly_volume, plan.resamples, seed, review_threshold, groups,
                                  matrix, reporter) for spec in specs]
        tuning, params = {}, {}
        if tune:
            from dataclasses import replace

            from depthgauge.assess.tuning import tune_families

            reporter.stage(f"Tuning with {tune} Ray Tune trial(s) per tuned family")
            tuning = tune_families(list(candidates), task, roles, seed, tune, plan.fit_s / 2, data, ray_address)
            params = {family: found["params"] for family, found in tuning.items()}
            plan = replace(plan, fit_s=plan.fit_s / 2)
        data_parallel = {"workers": workers, "address": ray_address} if workers > 1 else None
        if executor == "ray":
            results, models = _fit_on_ray(candidates, task, roles, seed, plan, data, reporter, ray_address, params,
                                          data_parallel)
        else:
            params = {name: {**prepared.params.get(name, {}), **params.get(name, {})} for name in candidates}
            results, models = _fit_candidates(candidates, task, roles, seed, plan, *data, reporter, params,
                                              data_parallel, prepared.roles)
        reporter.stage(f"Measuring on {len(split.test):,} test rows")
        features_reference = build_reference(X_train, roles, {}, seed=seed)
        with tempfile.TemporaryDirectory(prefix="depthgauge-") as scratch:
            for result in results:
                if result.name in models:
                    model, peak_mb = models[result.name]
                    if labelled:
                        _evaluate(result, model, task, X_test, y_test, positive_label, plan, peak_mb,
                                  chosen_instance, monthly_volume, matrix, review_threshold, groups, seed)
                    else:
                        _evaluate_unlabelled(result, model, X_test, plan, peak_mb, chosen_instance, monthly_volume)
                    result.reference = {**features_reference, "predictions": _prediction_reference(scored, result, seed),
                                        "importance": model.input_importance()}
                    folder = model.save(Path(scratch) / result.name)
                    result.artifact_digest = workspace.artifacts.put_dir(folder)
                    result.operations.artifact_bytes = workspace.artifacts.size_bytes(result.artifact_digest)

        reporter.stage("Verdict")
        results += vendors
        if labelled:
            verdict = decide_verdict(scored, metric, results, matrix is not None, max_cost_ratio, plan.resamples, seed)
        else:
            verdict = unlabelled_anomaly_verdict(results, max_cost_ratio)
        options = {
            "kind": kind, **{f"{kind}_{k}": v for k, v in prepared.settings.items()},
            "time_budget_s": budget_s, "monthly_volume": monthly_volume, "instance": chosen_instance.name,
            "price_catalog": {"as_of": catalog.as_of, "source": catalog.source}, "value": matrix.values if matrix else None,
            "sensitive": sensitive, "time_column": time_column, "group_column": group_column, "drop": list(drop),
            "positive_class": positive_label, "metric": metric, "max_cost_ratio": max_cost_ratio,
            "review_threshold": review_threshold, "seed": seed, "source": source,
            "bootstrap_resamples": plan.resamples, "executor": executor, "tuning": tuning or None,
            "workers": workers, "endpoints": [spec.public() for spec in specs],
        }
        from depthgauge.assess.report import write_report
        from depthgauge.store.tables import new_id

        assessment = Assessment(
            id=new_id(), verdict=verdict, candidates=results, profile=profile.to_dict(), split=split.summary(),
            options=options, dataset_fingerprint=fingerprint, report_path=Path(), duration_s=0.0, warnings=warnings,
        )
        reporter.stage("Writing report")
        assessment.report_path = workspace.reports_dir / f"assessment-{assessment.id}.html"
        assessment.duration_s = time.perf_counter() - started
        write_report(assessment, chosen_instance, assessment.report_path)
        try:
            assessment.registered = _store(workspace, assessment, frame, source, name)
        except BaseException:
            assessment.report_path.unlink(missing_ok=True)  # no report without its database record
            raise
        return assessment


def _fit_candidates(candidates, task, roles, seed, plan: BudgetPlan, X_train, y_train, X_val, y_val,
                    reporter: Reporter, params: dict | None = None, data_parallel: dict | None = None,
                    family_roles: dict | None = None) -> tuple[list[CandidateResult], dict]:
    """Fit every candidate in turn, each within a fair share of the fitting time still left.

    Returns the results (failed and skipped ones included, never hidden) and the fitted models
    with the peak memory each fit took.
    """
    fit_deadline = time.perf_counter() + plan.fit_s
    results: list[CandidateResult] = []
    models = {}
    for index, name in enumerate(candidates):
        slice_s = (fit_deadline - time.perf_counter()) / (len(candidates) - index)
        cls = FAMILIES[name]
        model = cls(task, (family_roles or {}).get(name, roles), seed=seed, time_limit_s=max(slice_s, 0.0),
                    **(params or {}).get(name, {}))
        result = CandidateResult(name, cls.display_name, cls.family, cls.is_deep, "ok", model.get_params())
        results.append(result)
        if slice_s < 0.5 and name != "dummy":  # the majority baseline takes no time and is the verdict's floor
            result.status, result.error = "skipped", "the time budget ran out before this candidate's turn"
            reporter.candidate_finished(result)
            continue
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
    else:
        result.error = outcome["error"]
        result.params["traceback"] = outcome["traceback"]


def _fit_on_ray(candidates, task, roles, seed, plan: BudgetPlan, data: tuple, reporter: Reporter,
                address: str | None, params: dict | None = None,
                data_parallel: dict | None = None) -> tuple[list[CandidateResult], dict]:
    """Fit every candidate as a Ray task (see executors.py); results and models as `_fit_candidates` returns them."""
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


def _evaluate(result, model, task, X_test, y_test, positive_label, plan: "BudgetPlan", peak_mb, instance,
              monthly_volume, matrix, review_threshold, groups, seed) -> None:
    if model.is_classifier:
        proba = model.predict_proba(X_test)
        index = {c: i for i, c in enumerate(model.classes_)}
        codes = np.array([index[v] for v in y_test])
        # anomaly detectors flag at their own threshold (the expected contamination), not at the larger probability
        predicted = np.array([index[v] for v in model.predict(X_test)]) if task == "anomaly" else proba.argmax(axis=1)
        outcome = quality.Outcome(codes, predicted, proba, index[positive_label] if positive_label is not None else 1)
    else:
        outcome = quality.Outcome(y_test.astype(float), model.predict(X_test))
    result.outcome, result.model = outcome, model
    task = "binary" if task == "anomaly" else task
    result.quality = quality.quality_with_intervals(task, outcome, plan.resamples, seed)
    _measure_operations(result, model, X_test, plan, peak_mb, instance, monthly_volume)
    result.risk = risk.risk_metrics(task, outcome, review_threshold, groups, model.explainability)
    result.business = business.business_impact(task, outcome, matrix, result.cost.cost_per_1k_predictions_usd)
    history = getattr(model, "history_", None)
    if history is not None:
        result.learning_curve = {"train_loss": history.train_loss, "val_loss": history.val_loss,
                                 "best_epoch": history.best_epoch, "stopped_because": history.stopped_because}
        result.params["epochs_run"] = len(history.train_loss)
    if hasattr(model, "rules_text"):
        result.rules = model.rules_text()
    if hasattr(model, "best_iteration_"):
        result.params["best_iteration"] = model.best_iteration_


def _measure_operations(result, model, X_test, plan: BudgetPlan, peak_mb, instance, monthly_volume) -> None:
    latencies = operations.measure_latency_ms(model, X_test, max_seconds=plan.latency_s)
    throughput = operations.measure_throughput(model, X_test, min_seconds=plan.throughput_s)
    result.operations = operations.Operations(
        latency_p50_ms=operations.percentile(latencies, 50), latency_p99_ms=operations.percentile(latencies, 99),
        throughput_rows_per_s=throughput, fit_seconds=result.fit_seconds, peak_memory_mb=peak_mb, artifact_bytes=0,
        latencies_ms=latencies,
    )
    result.cost = estimate_cost(result.fit_seconds, throughput, instance, monthly_volume)


def _evaluate_unlabelled(result, model, X_test, plan: BudgetPlan, peak_mb, instance, monthly_volume) -> None:
    """Without labels: the share of test rows flagged (with a Wilson interval) and the spread of the raw scores."""
    share = model.predict_proba(X_test)[:, 0]
    flagged = share >= 1.0 - model.contamination
    codes = np.where(flagged, 0, 1)
    result.outcome = quality.Outcome(codes, codes, np.column_stack([share, 1.0 - share]), positive=0)
    result.model = model
    result.quality = {"flagged_share": quality.wilson_interval(int(flagged.sum()), len(flagged))}
    scores = model.anomaly_scores(X_test)
    result.params["test_scores"] = {f"p{q}": float(np.percentile(scores, q)) for q in (50, 90, 95, 99)}
    result.params["expected_share"] = model.contamination
    result.risk = {"false_positive_rate": None, "false_negative_rate": None, "calibration_error": None,
                   "review_share": None, "explainability": model.explainability}  # error rates need labels
    _measure_operations(result, model, X_test, plan, peak_mb, instance, monthly_volume)


def _endpoint_specs(paths, kind: str, frame: pd.DataFrame, target: str | None) -> list:
    """Return the checked endpoint specs: their files, the columns they read, and their keys in the environment."""
    if not paths:
        return []
    from depthgauge.endpoint.spec import check_columns, load_spec

    if kind not in ("table", "text"):
        raise DepthgaugeError(f"--endpoint compares a vendor's endpoint on table or text rows; this is {kind} data. "
                              "Leave --endpoint out.")
    if target is None:
        raise DepthgaugeError("--endpoint is measured against the right answers: pass --target with the column the "
                              "endpoint predicts.")
    specs = [load_spec(path) for path in paths]
    names = [spec.name for spec in specs]
    if len(set(names)) != len(names):
        raise DepthgaugeError(f"Two endpoint specs are named '{max(names, key=names.count)}'; give each its own name.")
    for spec in specs:
        check_columns(spec, [str(c) for c in frame.columns], target)
        spec.auth_headers()  # a missing key is found now, before anything is trained or called
    return specs


def _call_endpoint(spec, workspace, rows, task, y_train, y_test, positive_label, monthly_volume, resamples, seed,
                   review_threshold, groups, matrix, reporter: Reporter):
    from depthgauge.endpoint.candidate import evaluate_endpoint

    reporter.stage(f"Calling {spec.name} on {len(rows):,} test rows")
    result = evaluate_endpoint(spec, workspace, rows, task, y_train, y_test, positive_label, monthly_volume, resamples,
                               seed, review_threshold, groups, matrix,
                               on_progress=lambda done, total: reporter.stage(f"Calling {spec.name}: {done:,}/{total:,}"))
    reporter.candidate_finished(result)
    return result


def _anomaly_labels(frame: pd.DataFrame, target: str | None, positive: str | None):
    """Return the frame with the label column (when given) read as anomaly/normal, the label column and the class."""
    if target is None:
        return frame, None, None
    from depthgauge.data.profile import require_column
    from depthgauge.zoo.anomaly import ANOMALY, NORMAL

    require_column(frame, target, "Label column (--target)")
    labels = frame[target].dropna().astype(str)
    counts = labels.value_counts()
    if len(counts) != 2:
        raise DepthgaugeError(f"An anomaly label column needs two values (anomaly or not); '{target}' has {len(counts)}. "
                              "Leave --target out to look for anomalies without labels.")
    if positive is not None and str(positive) not in counts.index:
        raise DepthgaugeError(f"--positive '{positive}' is not a value of '{target}'. Values: {', '.join(counts.index)}.")
    anomaly = str(positive) if positive is not None else counts.index[-1]  # the rarer value, unless told
    frame = frame.copy()
    frame[target] = frame[target].map(lambda v: None if pd.isna(v) else (ANOMALY if str(v) == anomaly else NORMAL))
    return frame, target, ANOMALY


def _inputs(profile, prepared) -> tuple[list[str], dict[str, list[str]]]:
    """Return the columns the candidates read and the roles tabular families use."""
    roles = {role: profile.features(role) for role in ("numeric", "categorical", "boolean", "datetime")}
    if prepared.kind in ("text", "image"):
        column, role = next(iter(prepared.assigned.items()))
        return [column], {role: [column]}
    if prepared.kind == "graph":
        return profile.features() + list(prepared.assigned), roles
    return profile.features(), roles


def _prediction_reference(task: str, result, seed: int) -> dict:
    outcome = result.outcome
    if outcome.proba is None:
        return prediction_reference(task, outcome.pred, None, seed)
    labels = np.asarray(result.model.classes_, dtype=object)[outcome.pred]
    return prediction_reference(task, labels, outcome.proba.max(axis=1), seed)


def _store(workspace, assessment: Assessment, frame: pd.DataFrame, source: str, name: str | None) -> list[str]:
    """Store the assessment, its runs and (with `name`) their model versions in one transaction; return the refs."""
    from sqlalchemy import select

    from depthgauge.store.jsonable import json_ready
    from depthgauge.store.tables import AssessmentRow, DatasetRow, RunRow

    with workspace.transaction() as session:
        dataset = session.scalars(select(DatasetRow).where(DatasetRow.fingerprint == assessment.dataset_fingerprint)).first()
        if dataset is None:
            dataset = DatasetRow(fingerprint=assessment.dataset_fingerprint, source=source, n_rows=len(frame),
                                 n_columns=frame.shape[1], columns=[str(c) for c in frame.columns])
            session.add(dataset)
            session.flush()
        runs = []
        for c in assessment.candidates:
            params = {k: v for k, v in c.params.items() if k != "traceback"}
            runs.append(RunRow(candidate=c.name, family=c.family, is_deep=c.is_deep, status=c.status, error=c.error,
                               params=json_ready(params), scorecard=json_ready(c.to_dict()),
                               artifact_digest=c.artifact_digest,
                               fit_seconds=c.fit_seconds))
        row = AssessmentRow(
            id=assessment.id, dataset_id=dataset.id, target=assessment.profile["target"], task=assessment.profile["task"],
            primary_metric=assessment.verdict.primary_metric, options=json_ready(assessment.options),
            profile=json_ready(assessment.profile), split=json_ready(assessment.split),
            verdict=json_ready(assessment.verdict.to_dict()), report_path=str(assessment.report_path),
            duration_s=assessment.duration_s, runs=runs,
        )
        session.add(row)
        session.flush()
        from depthgauge.govern import audit
        from depthgauge.store.tables import current_user

        audit.record(session, current_user(), "assessment.create", f"assessment:{assessment.id}",
                     {"target": row.target, "recommended": assessment.verdict.recommended})
        recommended = next(r for r, c in zip(runs, assessment.candidates, strict=True) if c.name == assessment.verdict.recommended)
        row.recommended_run_id = recommended.id
        if name is None:
            return []
        from depthgauge.registry.service import register_assessment

        own = [c for c in assessment.candidates if c.ok and c.model is not None]  # endpoints have no artifact
        schemas = {c.name: c.model.input_schema() for c in own}
        references = {c.name: json_ready(c.reference) for c in own}
        return [v.ref for v in register_assessment(session, row, name, schemas, references)]
