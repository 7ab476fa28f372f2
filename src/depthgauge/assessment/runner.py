"""`assess`: load, profile, split, train every candidate side by side, score five dimensions, give the verdict.

Every input is validated before the workspace is touched, so bad input writes nothing.
"""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Sequence
from dataclasses import fields, replace
from pathlib import Path

import numpy as np
import pandas as pd

from depthgauge.assessment import quality
from depthgauge.assessment.evaluation import evaluate, evaluate_unlabelled, monitoring_reference
from depthgauge.assessment.fitting import fit_candidates, fit_on_ray
from depthgauge.assessment.importance import dominant_column, permutation_importance_of, sample_rows
from depthgauge.assessment.operations import THROUGHPUT_BATCH
from depthgauge.assessment.options import (
    DEFAULT_VOLUME,
    MAX_REPEATS,
    DataOptions,
    DecisionOptions,
    RunOptions,
    command_line,
    parse_value,
)
from depthgauge.assessment.persist import store_assessment
from depthgauge.assessment.plan import IMPORTANCE_SHARE, MIN_BUDGET_S, MIN_FIT_S, plan_budget
from depthgauge.assessment.progress import Reporter
from depthgauge.assessment.repeats import (
    MIN_REPEATS,
    SMALL_TABLE_ROWS,
    affordable_repeats,
    score_repeats,
    settle_with_more_splits,
)
from depthgauge.assessment.results import Assessment
from depthgauge.assessment.verdict import Circumstances, decide_verdict, still_improving, unlabelled_anomaly_verdict
from depthgauge.cost.catalog import load_catalog
from depthgauge.data.fingerprint import dataset_fingerprint
from depthgauge.data.kinds import detect_kind, prepare
from depthgauge.data.profile import (
    LEAKAGE_SCORE,
    SUSPECT_SCORE,
    leak_warnings,
    profile_table,
    profile_unlabeled,
    single_feature_scores,
)
from depthgauge.data.reference import build_reference
from depthgauge.data.split import split_rows
from depthgauge.errors import DepthgaugeError
from depthgauge.units import parse_volume
from depthgauge.zoo import CANDIDATES, FAMILIES
from depthgauge.zoo.model import TABLE_ROLES

__all__ = ["DataOptions", "DecisionOptions", "Reporter", "RunOptions", "assess", "run_assessment"]

# Every labelled kind is judged over repeated splits. A text encoder's pass over each split's test rows is reserved
# from the fitting time (`read_s`), so the repeats keep the budget.
REPEATED_KINDS = ("table", "image", "series", "text", "graph")
SETTLE_RESERVE, SETTLE_RESERVE_S = 0.03, 5.0  # of the budget, kept for the report and the registry after more splits
MAX_CALIBRATION_ROWS = 2000  # validation rows each classifier is calibrated on: enough for isotonic, cheap to read
ENCODER_SAVE_S = 3.0  # writing and hashing a fine-tuned encoder's 90 MB of weights
ENCODER_SHARE = 0.3  # of the budget, at most, for the text encoders to read the test rows
MIN_TEST_TEXTS = 1000


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
    home: str | os.PathLike | None = None,
    db_url: str | None = None,
    name: str | None = None,
    reporter: Reporter | None = None,
    external: Sequence = (),
    **options,
) -> Assessment:
    """Return an `Assessment` of simple and deep candidates on `data`, stored in the workspace at `home`.

    `options` are the fields of `DataOptions`, `RunOptions` and `DecisionOptions` (the flags of
    `depthgauge assess`, e.g. `time_budget="2m"`, `time_column="date"`, `value="tp=40,fp=-5"`).
    `external` are outside candidates measured beside the models (`endpoint.candidate.endpoint_candidates`).
    """
    groups = {}
    for cls in (DataOptions, RunOptions, DecisionOptions):
        names = {f.name for f in fields(cls)}
        groups[cls] = cls(**{k: options.pop(k) for k in list(options) if k in names})
    if options:
        known = sorted(f.name for cls in groups for f in fields(cls))
        raise TypeError(f"assess() got unknown option(s) {', '.join(sorted(options))}; known: {', '.join(known)}")
    data_options = replace(groups[DataOptions], target=target, drop=tuple(groups[DataOptions].drop),
                           keep=tuple(groups[DataOptions].keep))
    decision = replace(groups[DecisionOptions], endpoints=tuple(groups[DecisionOptions].endpoints))
    return run_assessment(data, data_options, groups[RunOptions], decision, home=home, db_url=db_url, name=name,
                          reporter=reporter, external=external)


def run_assessment(data, data_options: DataOptions, run: RunOptions, decision: DecisionOptions, *,
                   home: str | os.PathLike | None = None, db_url: str | None = None, name: str | None = None,
                   reporter: Reporter | None = None, external: Sequence = ()) -> Assessment:
    """Run the assessment with options already grouped and checked (what the CLI calls); `external` are outside
    candidates, such as vendor endpoints, each with `name`, `path`, `check`, `public` and `evaluate`.

    Within the run the sentence encoder reads each distinct text once (every candidate, split and measurement
    shares it); latency and throughput are measured without that cache, as serving would see them."""
    from depthgauge.zoo import sentence

    with sentence.cached_embeddings():
        return _assess(data, data_options, run, decision, home, db_url, name, reporter, external)


def _assess(data, data_options: DataOptions, run: RunOptions, decision: DecisionOptions, home, db_url, name,
            reporter: Reporter | None, external: Sequence) -> Assessment:
    started = time.perf_counter()
    reporter = reporter or Reporter()
    if decision.endpoints and not external:
        raise TypeError("assess() takes vendor endpoints as candidates: external=endpoint_candidates(paths)")
    decision = replace(decision, endpoints=tuple(candidate.path for candidate in external))
    if name is not None:
        from depthgauge.registry.refs import check_name

        check_name(name)
    d = data_options
    target, task, kind, time_column, group_column = d.target, d.task, d.kind, d.time_column, d.group_column
    drop, positive, sensitive, encoding, edges = d.drop, d.positive, d.sensitive, d.encoding, d.edges
    node_column, horizon, season, contamination = d.node_column, d.horizon, d.season, d.contamination
    seed, executor, ray_address, tune, workers = run.seed, run.executor, run.ray_address, run.tune, run.workers
    resamples, candidates = run.resamples, run.candidates
    metric, value, review_threshold = decision.metric, decision.value, decision.threshold_for_review
    allow_leaky = decision.allow_leaky
    budget_s = run.budget_s
    if budget_s < MIN_BUDGET_S:
        raise DepthgaugeError(
            f"A time budget of {budget_s:g}s is too small to train anything: the candidates and their measurements "
            f"need at least {MIN_BUDGET_S:g}s. Pass --time-budget 1m or more (the default is 5m)."
        )
    monthly_volume = parse_volume(decision.volume)
    catalog = load_catalog(decision.prices)
    chosen_instance = catalog.get(decision.instance)
    terms = decision.cost_terms(catalog, monthly_volume)

    reporter.stage("Loading data")
    kind = detect_kind(data, target, kind, edges, horizon)
    if kind != "table" and (executor != "local" or tune or workers > 1):
        raise DepthgaugeError(f"--executor ray, --tune and --workers apply to tables; {kind} data trains locally. "
                              "Leave those options out.")
    prepared = prepare(kind, data, target, encoding=encoding, edges=edges, node_column=node_column, horizon=horizon,
                       season=season, time_column=time_column, contamination=contamination, image_size=d.image_size)
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
                                       time_column, group_column, prepared.assigned, tuple(d.keep))
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
    specs = _external(external, kind, frame, target)
    matrix = parse_value(value, scored) if value and labelled else None
    positive_label = _positive_class(profile.classes or [], profile.class_balance or {}, positive)

    features, roles = _inputs(profile, prepared)
    X = frame[features]
    if labelled:
        y_raw = frame[target]
        y = y_raw.astype(str).to_numpy() if task != "regression" else y_raw.to_numpy(float)
        split_labels = y_raw.astype(str) if task != "regression" else y_raw
        split = split_rows(frame, split_labels, scored, seed, time_column, group_column)
    else:
        y = np.full(len(frame), None, dtype=object)
        split = split_rows(frame, pd.Series(np.zeros(len(frame))), "regression", seed, time_column, group_column)
    warnings = prepared.warnings + list(profile.warnings)
    leaks: dict[str, float] = {}
    if kind in ("table", "graph") and labelled:
        scores = single_feature_scores(X.iloc[split.train], y[split.train], X.iloc[split.validation],
                                       y[split.validation], profile.features(*TABLE_ROLES[:4]), scored)
        warnings += leak_warnings(scores, scored)
        leaks = {name: score for name, score in scores.items() if score >= SUSPECT_SCORE}
    for warning in warnings:
        reporter.warn(warning)
    original_time_column = prepared.settings.get("time_column") if kind == "series" else time_column
    circumstances = Circumstances(
        budget_s, lambda changes: command_line(source, replace(data_options, time_column=original_time_column),
                                               run, decision, name=name, **changes),
        leaks, any(score >= LEAKAGE_SCORE for score in leaks.values()), allow_leaky)
    fingerprint = dataset_fingerprint(frame)

    predict_s, rate = _encoder_seconds(candidates, X, split.test, seed)
    text_params, text_warnings, text_s = _read_table_text(candidates, roles, X, len(split.test), seed, budget_s,
                                                          executor, reporter)
    predict_s += text_s
    for warning in text_warnings:
        reporter.warn(warning)
    warnings += text_warnings
    if rate and predict_s > ENCODER_SHARE * budget_s:
        # Scoring 6,000 test texts with each encoder could take most of the budget: every candidate is scored on
        # the same smaller random sample of the test rows instead (wider intervals, said in the split summary).
        encoders = sum(FAMILIES[c].embeds_text for c in candidates)
        keep = max(MIN_TEST_TEXTS, int((ENCODER_SHARE * budget_s - ENCODER_SAVE_S) / encoders * rate) - THROUGHPUT_BATCH)
        if keep < len(split.test):
            split.subsample_test(keep, seed)
            predict_s = _encoder_reads(encoders, len(split.test), rate)
    groups = frame[sensitive].astype(str).to_numpy()[split.test] if sensitive else None
    importance_s = IMPORTANCE_SHARE * budget_s if kind == "table" and labelled else 0.0
    plan = plan_budget(budget_s, time.perf_counter() - started, scored if labelled else "binary", len(split.test),
                       len(profile.classes or []), len(candidates) + len(specs), resamples, predict_s, importance_s)
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
        kept = sample_rows(len(X_val), seed, MAX_CALIBRATION_ROWS)  # each classifier is calibrated on these
        calibration_rows = (X_val.iloc[kept], y[split.validation][kept])
        data = (X_train, y[split.train], X_val, y[split.validation])
        vendors = [_call_external(spec, workspace, frame.iloc[split.test], scored, y[split.train], y_test,
                                  positive_label, terms, plan.resamples, seed, review_threshold, groups,
                                  matrix, reporter) for spec in specs]
        tuning, params = {}, {}
        if tune:
            from depthgauge.assessment.tuning import tune_families

            reporter.stage(f"Tuning with {tune} Ray Tune trial(s) per tuned family")
            tuning = tune_families(list(candidates), task, roles, seed, tune, plan.fit_s / 2, data, ray_address)
            params = {family: found["params"] for family, found in tuning.items()}
            plan = replace(plan, fit_s=plan.fit_s / 2)
        data_parallel = {"workers": workers, "address": ray_address} if workers > 1 else None
        repeatable = labelled and kind in REPEATED_KINDS and executor == "local" and not tune and workers == 1
        repeats = run.repeats if repeatable else 1
        fit_started, split_s = time.perf_counter(), None
        read_s = _encoder_reads(sum(FAMILIES[c].embeds_text for c in candidates), len(split.test), rate, False)
        repeats, repeat_note = (affordable_repeats(repeats, plan.fit_s, candidates, read_s) if repeats > 1
                                else (1, None))
        if executor == "ray":
            params = {name: {**text_params.get(name, {}), **params.get(name, {})} for name in candidates}
            results, models = fit_on_ray(candidates, task, roles, seed, plan, data, reporter, ray_address, params,
                                          data_parallel)
        else:
            params = {name: {**prepared.params.get(name, {}), **text_params.get(name, {}), **params.get(name, {})}
                      for name in candidates}
            fold = replace(plan, fit_s=(plan.fit_s - (repeats - 1) * read_s) / repeats)
            if repeats > 1:
                reporter.stage(f"Split 1 of {repeats}")
            results, models = fit_candidates(candidates, task, roles, seed, fold, *data, reporter, params,
                                             data_parallel, prepared.roles)
            cut = [r.display_name for r in results if still_improving(r)]
            deadline = fit_started + plan.fit_s

            def more_splits(count: int, first: int = 1, until: float = deadline) -> dict:
                return score_repeats(candidates, scored, metric, roles, seed, count, until, frame, X, y,
                                     split_labels, time_column, group_column, positive_label, reporter, params,
                                     prepared.roles, first=first, read_s=read_s, test_rows=len(split.test))

            if repeats > 1 and cut and (profile.n_rows >= SMALL_TABLE_ROWS or kind != "table"):
                # Split 1 shows a split needs more than its share: split 1 is refitted with all the time that is
                # left, and the time that took is what each later split gets, as many as the rest affords.
                requested, refit_started = repeats, time.perf_counter()
                results, models = fit_candidates(candidates, task, roles, seed,
                                                 replace(plan, fit_s=deadline - refit_started), *data, reporter,
                                                 params, data_parallel, prepared.roles)
                needed_s = time.perf_counter() - refit_started + read_s
                repeats = min(requested, 1 + int((deadline - time.perf_counter()) // needed_s))
                repeats = repeats if repeats >= MIN_REPEATS else 1
                repeat_note = (f"On split 1, with a {requested}th of the fitting time, {', '.join(cut)} stopped on "
                               f"the clock while still improving, so split 1 was refitted with the time left "
                               f"({needed_s:.0f}s); ")
                if repeats > 1:
                    repeat_note += f"the rest of the budget afforded {repeats - 1} more splits of that length."
                    split_s = needed_s - read_s
                    extra = more_splits(repeats)
                else:
                    repeat_note += "nothing was left for more splits. A larger --time-budget allows repeated splits."
            elif repeats > 1:
                split_s = fold.fit_s  # what each split is given: an added split gets the same
                extra = more_splits(repeats)
        reporter.stage(f"Measuring on {len(split.test):,} test rows")
        features_reference = build_reference(X_train, roles, {}, seed=seed)
        importance_left = plan.importance_s  # seconds, spent candidate by candidate
        dominant: dict[str, dict] = {}  # candidate -> the column that carries most of its score
        with tempfile.TemporaryDirectory(prefix="depthgauge-") as scratch:
            for result in results:
                if result.name in models:
                    model, peak_mb = models[result.name]
                    if labelled:
                        evaluate(result, model, task, X_test, y_test, positive_label, plan, peak_mb, terms, matrix,
                                 review_threshold, groups, seed, validation=calibration_rows)
                    else:
                        evaluate_unlabelled(result, model, X_test, plan, peak_mb, terms)
                    result.reference = monitoring_reference(scored, result, features_reference, X_test, seed)
                    if repeats > 1:
                        result.split_scores = [result.quality[metric].value] + extra[result.name]
                        quality.score_over_splits(result, metric, len(split.test) / len(split.train))
                    if importance_left > 0 and result.family != "dummy":
                        left = sum(r.name in models and r.family != "dummy" for r in results[results.index(result):])
                        rows = sample_rows(len(X_test), seed)
                        reporter.stage(f"Permutation importance of {result.display_name}")
                        importance_started = time.perf_counter()
                        result.importance = permutation_importance_of(
                            model, scored, metric, X_test.iloc[rows], y_test[rows], positive_label, seed,
                            importance_left / max(left, 1))
                        importance_left -= time.perf_counter() - importance_started
                        found = dominant_column(result.display_name, result.importance, result.quality[metric].value)
                        if found:
                            dominant[result.name] = found
                    folder = model.save(Path(scratch) / result.name)
                    result.artifact_digest = workspace.artifacts.put_dir(folder)
                    result.operations.artifact_bytes = workspace.artifacts.size_bytes(result.artifact_digest)

        reporter.stage("Verdict")
        results += vendors
        if labelled:
            circumstances = replace(circumstances, test_train_ratio=len(split.test) / len(split.train),
                                    min_effect=decision.min_effect, monthly_volume=monthly_volume, terms=terms,
                                    volume_assumed=decision.volume == DEFAULT_VOLUME)
            def decide():
                return decide_verdict(scored, metric, results, matrix is not None, decision.max_extra_cost,
                                      plan.resamples, seed, circumstances)

            if split_s is not None:
                def one_more_split(index: int) -> dict:
                    reporter.stage(f"Split {index + 1}: one more, to settle an inconclusive call")
                    return more_splits(index + 1, index, time.perf_counter() + split_s + read_s)

                verdict, added = settle_with_more_splits(
                    results, metric, len(split.test) / len(split.train), decide, one_more_split, split_s + read_s,
                    started + budget_s - max(SETTLE_RESERVE_S, SETTLE_RESERVE * budget_s), repeats, MAX_REPEATS)
                if added:
                    repeat_note = (f"{repeats} splits left the call inconclusive, so {added} more were run with the "
                                   "time left in the budget.")
                    repeats += added
            else:
                verdict = decide()
        else:
            verdict = unlabelled_anomaly_verdict(results, decision.max_extra_cost)
        verdict.dominant = _weighed_dominant(verdict, dominant)
        for found in verdict.dominant:
            reporter.warn(found["message"])
        warnings += [d["message"] for d in verdict.dominant]
        options = {
            "kind": kind, **{f"{kind}_{k}": v for k, v in prepared.settings.items()},
            "time_budget_s": budget_s, "monthly_volume": monthly_volume, "instance": chosen_instance.name,
            "price_catalog": {"as_of": catalog.as_of, "source": catalog.source}, "value": matrix.values if matrix else None,
            "sensitive": sensitive, "time_column": time_column, "group_column": group_column, "drop": list(drop),
            "positive_class": positive_label, "metric": metric, "max_extra_cost": decision.max_extra_cost,
            "cost_terms": terms.stated(),
            "review_threshold": review_threshold, "review_priced": decision.review_priced,
            "assumed": decision.assumed(terms), "seed": seed, "source": source, "name": name,
            "bootstrap_resamples": plan.resamples, "executor": executor, "tuning": tuning or None,
            "workers": workers, "endpoints": [spec.public() for spec in specs], "allow_leaky": allow_leaky,
            "repeats": repeats, "min_effect": decision.min_effect,
        }
        from depthgauge.assessment.report import write_report
        from depthgauge.store.tables import new_id

        assessment = Assessment(
            id=new_id(), verdict=verdict, candidates=results, profile=profile.to_dict(),
            split={**split.summary(), "repeats": repeats, "repeats_note": repeat_note},
            options=options, dataset_fingerprint=fingerprint, report_path=Path(), duration_s=0.0, warnings=warnings,
        )
        reporter.stage("Writing report")
        assessment.report_path = workspace.reports_dir / f"assessment-{assessment.id}.html"
        assessment.duration_s = time.perf_counter() - started
        write_report(assessment, chosen_instance, assessment.report_path)
        try:
            assessment.registered = store_assessment(workspace, assessment, frame, source, name)
        except BaseException:
            assessment.report_path.unlink(missing_ok=True)  # no report without its database record
            raise
        return assessment


def _weighed_dominant(verdict, found: dict[str, dict]) -> list[dict]:
    """Return the dominant-column warnings of the models the verdict weighs (a shallow rule list leans on one column
    by design), one per column."""
    out: list[dict] = []
    for name in dict.fromkeys(n for n in (verdict.best_simple, verdict.deep, verdict.recommended) if n):
        if name in found and found[name]["column"] not in {d["column"] for d in out}:
            out.append(found[name])
    return out


def _external(candidates, kind: str, frame: pd.DataFrame, target: str | None) -> list:
    """Return the outside candidates (vendor endpoints), each checked against the rows it will be called on."""
    if not candidates:
        return []
    if kind not in ("table", "text"):
        raise DepthgaugeError(f"--endpoint compares a vendor's endpoint on table or text rows; this is {kind} data. "
                              "Leave --endpoint out.")
    if target is None:
        raise DepthgaugeError("--endpoint is measured against the right answers: pass --target with the column the "
                              "endpoint predicts.")
    names = [candidate.name for candidate in candidates]
    if len(set(names)) != len(names):
        raise DepthgaugeError(f"Two endpoint specs are named '{max(names, key=names.count)}'; give each its own name.")
    for candidate in candidates:
        candidate.check([str(c) for c in frame.columns], target)
    return list(candidates)


def _call_external(candidate, workspace, rows, task, y_train, y_test, positive_label, terms, resamples, seed,
                   review_threshold, groups, matrix, reporter: Reporter):
    reporter.stage(f"Calling {candidate.name} on {len(rows):,} test rows")
    result = candidate.evaluate(workspace, rows, task, y_train, y_test, positive_label, terms, resamples, seed,
                                review_threshold, groups, matrix,
                                on_progress=lambda done, total: reporter.stage(f"Calling {candidate.name}: "
                                                                               f"{done:,}/{total:,}"))
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


def _encoder_seconds(candidates, X: pd.DataFrame, test: np.ndarray, seed: int) -> float:
    """Return the seconds the text-encoder candidates need to predict the test rows, from the encoder's measured speed.

    A pass of MiniLM over 6,000 test texts takes tens of seconds on 2 cores: that is part of the
    budget, so it is reserved before any fitting time is handed out.
    """
    encoders = [c for c in candidates if FAMILIES[c].embeds_text]
    if not encoders:
        return 0.0, None
    from depthgauge.zoo import sentence

    column = X.columns[0]
    sample = np.random.default_rng(seed).permutation(test)[:128]
    rate = sentence.rows_per_second(X[column].iloc[sample].fillna("").astype(str).tolist())
    return _encoder_reads(len(encoders), len(test), rate), rate


def _encoder_reads(encoders: int, n_test: int, rate: float | None, measured: bool = True) -> float:
    """Seconds for each encoder to read the test rows and (when `measured`, as split 0 is) a throughput batch, plus
    saving one fine-tuned encoder."""
    if not encoders or not rate:
        return 0.0
    if not measured:
        return encoders * n_test / rate
    return encoders * (n_test + min(n_test, THROUGHPUT_BATCH)) / rate + ENCODER_SAVE_S


def _read_table_text(candidates, roles: dict, X: pd.DataFrame, n_test: int, seed: int, budget_s: float,
                     executor: str, reporter: Reporter) -> tuple[dict, list[str], float]:
    """Have the sentence encoder read a table's free-text columns for the deep candidates, once, before fitting.

    Return the params that make them read TF-IDF instead (when the encoder would take more than ENCODER_SHARE of
    the budget, or runs on Ray workers), the warning that says so with the flag that changes it, and the seconds
    to reserve for measuring their latency and throughput (uncached, with the encoder in every prediction).
    """
    readers = [c for c in candidates if FAMILIES[c].text_reader == "sentence"]
    columns = roles.get("text", [])
    if not (readers and columns):
        return {}, [], 0.0
    from depthgauge.zoo import sentence

    names = ", ".join(FAMILIES[c].display_name for c in readers)
    fallback = {c: {"text_reader": "tfidf"} for c in readers}
    if executor != "local":
        return fallback, [f"{names} read the text of {', '.join(columns)} as TF-IDF, like the simple candidates: the "
                          "sentence encoder reads text only with --executor local."], 0.0
    texts = list(dict.fromkeys(t for c in columns for t in X[c].fillna("").astype(str).tolist()))
    sample = [texts[i] for i in np.random.default_rng(seed).permutation(len(texts))[:128]]
    rate = sentence.rows_per_second(sample)
    read_s = len(texts) / rate
    measure_s = len(readers) * len(columns) * min(n_test, THROUGHPUT_BATCH) / rate
    if read_s + measure_s > ENCODER_SHARE * budget_s:
        needed = int((read_s + measure_s) / ENCODER_SHARE // 60 + 1)
        return fallback, [f"{names} read the text of {', '.join(columns)} as TF-IDF, like the simple candidates: the "
                          f"sentence encoder would need about {read_s + measure_s:.0f}s for {len(texts):,} distinct "
                          f"texts, more than {ENCODER_SHARE:.0%} of the budget. Pass --time-budget {needed}m or more "
                          "to have it read them."], 0.0
    reporter.stage(f"Reading {len(texts):,} texts with the sentence encoder (about {read_s:.0f}s)")
    sentence.embed(texts)  # kept for the whole run: every deep candidate and split reads these
    return {}, [], measure_s


def _inputs(profile, prepared) -> tuple[list[str], dict[str, list[str]]]:
    """Return the columns the candidates read and the roles tabular families use."""
    roles = {role: profile.features(role) for role in TABLE_ROLES}
    if prepared.kind in ("text", "image"):
        column, role = next(iter(prepared.assigned.items()))
        return [column], {role: [column]}
    if prepared.kind == "graph":
        return profile.features() + list(prepared.assigned), roles
    return profile.features(), roles


