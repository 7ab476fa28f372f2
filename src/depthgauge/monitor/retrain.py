"""Retrain a challenger on new data and promote it only on evidence; roll production back.

`retrain` reruns the champion's recipe (its family, parameters, inputs, target and seed) on new
data, optionally with the labeled production traffic, and scores challenger and champion on one
fresh holdout with the same paired bootstrap as `assess`. The challenger is registered either
way; it becomes `production` (and is deployed where the model is served) only when it is
measurably better, or not measurably worse and cheaper per prediction.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import pandas as pd
from sqlalchemy import select

from depthgauge.assessment import quality
from depthgauge.assessment.evaluation import evaluate, monitoring_reference, record_training
from depthgauge.assessment.options import ValueMatrix
from depthgauge.assessment.plan import BudgetPlan
from depthgauge.assessment.results import CandidateResult
from depthgauge.assessment.verdict import promotion
from depthgauge.cost.catalog import DEFAULT_INSTANCE, load_catalog
from depthgauge.cost.ownership import terms_from_stated
from depthgauge.data.fingerprint import dataset_fingerprint
from depthgauge.data.load import load_table
from depthgauge.data.reference import build_reference
from depthgauge.data.split import split_rows
from depthgauge.errors import DepthgaugeError
from depthgauge.govern import audit
from depthgauge.monitor.replay import Side, load_policy, logged_traffic, policy_path, replay_models
from depthgauge.registry import service as registry
from depthgauge.registry.predictor import Predictor, load_model
from depthgauge.serve import deploy as deployments
from depthgauge.store.jsonable import json_ready
from depthgauge.store.tables import (
    AssessmentRow,
    AuditEventRow,
    FeedbackRow,
    ModelVersionRow,
    PredictionLogRow,
    actor_of,
)
from depthgauge.units import parse_duration
from depthgauge.zoo import FAMILIES
from depthgauge.zoo import load_model as load_folder
from depthgauge.zoo.model import TRAINING_OUTCOME

_ROLES = {"number": "numeric", "boolean": "boolean", "datetime": "datetime", "category": "categorical", "text": "text"}


def champion_of(session, name: str) -> ModelVersionRow:
    """Return the version in production, else the deployed one."""
    try:
        return registry.resolve(session, f"{name}@production")
    except DepthgaugeError:
        deployed = deployments.active_deployment(session, name)
        if deployed is None:
            raise DepthgaugeError(f"'{name}' has no production version and is not deployed, so there is no champion "
                                  f"to retrain. Promote one: depthgauge models promote {name}:VERSION") from None
        return session.get(ModelVersionRow, deployed.version_id)


def _labeled_traffic(session, name: str, columns: list[str], target: str) -> pd.DataFrame:
    """Return the logged inputs of `name` that have a label (the latest feedback or review decision) as rows."""
    log = PredictionLogRow
    rows = session.execute(select(log.request_id, log.inputs, FeedbackRow.label)
                           .join(FeedbackRow, FeedbackRow.request_id == log.request_id)
                           .where(log.model_name == name).order_by(FeedbackRow.created_at)).all()
    latest = {request_id: (inputs, label) for request_id, inputs, label in rows}  # the later label wins
    records = [{**{c: inputs.get(c) for c in columns}, target: label} for inputs, label in latest.values()]
    return pd.DataFrame(records, columns=columns + [target])


def _load(workspace, version: ModelVersionRow, scratch: Path):
    return load_folder(workspace.artifacts.get_dir(version.artifact_digest, scratch / version.ref.replace(":", "-")))


def retrain(workspace, name: str, data, include_feedback: bool = False, time_budget: str | float = "2m",
            seed: int | None = None, encoding: str | None = None) -> dict:
    """Return the comparison and the decision; the challenger is registered, and promoted only on evidence."""
    budget_s = parse_duration(time_budget)
    frame = data if isinstance(data, pd.DataFrame) else load_table(data, encoding=encoding)
    with workspace.session() as session:
        champion = champion_of(session, name)
        assessment = session.get(AssessmentRow, champion.assessment_id) if champion.assessment_id else None
        options = dict(assessment.options) if assessment is not None else {}
        task, target = champion.lineage["task"], champion.lineage["target"]
        schema = champion.input_schema
        columns = [c["name"] for c in schema["columns"]]
        missing = [c for c in columns + [target] if c not in frame.columns]
        if missing:
            raise DepthgaugeError(f"The new data lacks column(s) {', '.join(missing)} that {champion.ref} was trained on. "
                                  f"Give data with the same columns (target '{target}').")
        traffic = _labeled_traffic(session, name, columns, target) if include_feedback else None
    source = "<DataFrame>" if isinstance(data, pd.DataFrame) else str(Path(data).resolve())
    time_column = options.get("time_column")
    if time_column and time_column not in frame.columns:
        raise DepthgaugeError(f"{champion.ref} was assessed with a time-ordered split on '{time_column}'; the new data "
                              "needs that column too, so the challenger is held out on the latest rows as well.")
    kept = columns + [target] + ([time_column] if time_column else [])
    frame = frame[kept].dropna(subset=[target]).reset_index(drop=True)
    if traffic is not None and len(traffic):
        if time_column:
            traffic[time_column] = pd.Timestamp.now(tz="UTC").strftime("%Y-%m-%d %H:%M:%S")  # labeled traffic is newest
        frame = pd.concat([frame, traffic], ignore_index=True)
    if len(frame) < 50:
        raise DepthgaugeError(f"Only {len(frame)} labeled rows to retrain on; give at least 50.")
    seed = champion.lineage.get("seed", 0) if seed is None else seed
    roles = {role: [c["name"] for c in schema["columns"] if _ROLES.get(c["type"]) == role]
             for role in ("numeric", "categorical", "boolean", "datetime", "text")}
    y_all = frame[target].astype(str).to_numpy() if task != "regression" else frame[target].to_numpy(float)
    split = split_rows(frame, frame[target].astype(str) if task != "regression" else frame[target], task, seed,
                       time_column)
    X = frame[columns]
    X_train, X_val, X_test = X.iloc[split.train], X.iloc[split.validation], X.iloc[split.test]
    y_train, y_val, y_test = y_all[split.train], y_all[split.validation], y_all[split.test]
    family = champion.lineage["candidate"]
    if family not in FAMILIES:
        raise DepthgaugeError(f"{champion.ref} was made by '{family}', which this version of depthgauge cannot retrain.")
    # the recipe, not what its fit found (epochs_run: in records of older versions)
    params = {k: v for k, v in champion.lineage.get("params", {}).items()
              if k not in ("seed", "epochs_run", "best_iteration", "traceback", *TRAINING_OUTCOME)}
    challenger_model = FAMILIES[family](task, roles, seed=seed, time_limit_s=budget_s * 0.6, **params)
    started = time.perf_counter()
    challenger_model.fit(X_train, y_train, validation=(X_val, y_val))
    fit_seconds = time.perf_counter() - started

    catalog = load_catalog(None)
    terms = terms_from_stated(options.get("cost_terms"), catalog, options.get("instance") or DEFAULT_INSTANCE,
                              int(options.get("monthly_volume", 1_000_000)))
    positive = options.get("positive_class")
    matrix = ValueMatrix(options["value"]) if options.get("value") else None
    plan = BudgetPlan(fit_s=0.0, resamples=int(options.get("bootstrap_resamples", quality.BOOTSTRAP_RESAMPLES)),
                      latency_s=1.0, throughput_s=1.0)
    metric = options.get("metric") or quality.PRIMARY[task]
    with tempfile.TemporaryDirectory(prefix="depthgauge-retrain-") as scratch:
        champion_model = _load(workspace, champion, Path(scratch))
        results = {}
        for role, model, fit_s in (("challenger", challenger_model, fit_seconds), ("champion", champion_model, 0.0)):
            result = CandidateResult(family, model.display_name, model.family, model.is_deep, "ok", model.get_params(),
                                     fit_seconds=fit_s)
            evaluate(result, model, task, X_test, y_test, positive if positive is not None else None, plan, 0.0,
                     terms, matrix, float(options.get("review_threshold", 0.6)), None, seed,
                     validation=(X_val, y_val))
            if role == "challenger":
                record_training(result, model)
            results[role] = result
        delta = quality.paired_bootstrap_delta(task, metric, results["challenger"].outcome,
                                               results["champion"].outcome, plan.resamples, seed)
        cost = {role: r.cost.monthly_total_usd for role, r in results.items()}
        decision, why = promotion(metric, delta, cost["challenger"], cost["champion"])
        folder = challenger_model.save(Path(scratch) / "challenger")
        digest = workspace.artifacts.put_dir(folder)
    challenger = results["challenger"]
    reference = monitoring_reference(task, challenger, build_reference(X_train, roles, {}, seed=seed), X_test, seed)
    replayed = None
    if decision == "promote":
        replayed = _replay_gate(workspace, champion, challenger_model, reference, challenger, task, metric)
        if replayed is not None and replayed["gate"]["outcome"] != "pass":
            decision, why = "keep", (f"the replay gate says {replayed['gate']['outcome']} on production's traffic: "
                                     + "; ".join(replayed["gate"]["reasons"]))
    comparison = {"metric": metric, "delta": delta.as_dict(), "holdout_rows": len(split.test),
                  "challenger": challenger.quality[metric].as_dict(), "champion": results["champion"].quality[metric].as_dict(),
                  "monthly_cost_usd": cost}
    with workspace.transaction() as session:
        champion = session.get(ModelVersionRow, champion.id)
        version = registry.register_version(
            session, name, family=champion.family, is_deep=champion.is_deep, digest=digest, assessment_id=champion.assessment_id,
            lineage={"dataset_fingerprint": dataset_fingerprint(frame), "dataset_source": source, "split": split.summary(),
                     "target": target, "task": task, "candidate": family, "params": json_ready(challenger_model.get_params()),
                     "seed": seed, "primary_metric": metric, "retrained_from": champion.ref, "included_feedback": bool(include_feedback),
                     "feedback_rows": 0 if traffic is None else len(traffic), "comparison": comparison},
            scorecard=json_ready(challenger.scorecard_dict()), input_schema=challenger_model.input_schema(),
            reference=json_ready(reference))
        audit.record(session, actor_of(session), "model.retrain", f"model:{name}:{version.version}",
                     {"champion": champion.ref, "decision": decision, "why": why, "comparison": comparison,
                      "replay": None if replayed is None else replayed["gate"]})
        deployed = False
        if decision == "promote":
            if registry.approval_required(session):
                registry.approve(session, version.ref, f"retrain: {why} (delta {delta.value:+.4f}, 95% CI "
                                                       f"{delta.low:+.4f} to {delta.high:+.4f} on {len(split.test)} rows)")
            registry.promote(session, version.ref, "production")
            if deployments.active_deployment(session, name) is not None:
                deployments.deploy(session, name, version.ref, action="deploy")
                deployed = True
        else:
            registry.promote(session, version.ref, "candidate")
        return {"model": name, "champion": champion.ref, "challenger": version.ref, "decision": decision, "why": why,
                "deployed": deployed, "comparison": comparison,
                "replay": None if replayed is None else {k: v for k, v in replayed.items() if k != "task"}, "rows": {"new_data": len(frame) - (0 if traffic is None
                                                                                                   else len(traffic)),
                                                                          "labeled_traffic": 0 if traffic is None else len(traffic)}}


def _replay_gate(workspace, champion: ModelVersionRow, model, reference: dict, result, task: str,
                 metric: str) -> dict | None:
    """The challenger replayed on the champion's logged traffic, when the workspace's replay policy requires the gate
    before production (`replay.gate_promotion` does the same for a promotion by hand); None when it does not."""
    policy = load_policy(policy_path(workspace.home))
    if not policy.required_for_production:
        return None
    with workspace.session() as session:
        traffic = logged_traffic(session, champion, policy.window)
    challenger = Side("the retrained challenger", Predictor(model, None, Path(workspace.home)), json_ready(reference),
                      json_ready(result.scorecard_dict()))
    production = Side(champion.ref, load_model(champion.ref, workspace=workspace), champion.reference,
                      champion.scorecard, logged=True)
    return replay_models(challenger, production, traffic, task, metric, policy, champion.ref)


def rollback(session, name: str) -> dict:
    """Move `production` back to the version that held it before, and serve it where the model is deployed."""
    current = registry.resolve(session, f"{name}@production")
    events = session.scalars(select(AuditEventRow).where(AuditEventRow.action == "model.alias:production",
                                                         AuditEventRow.object.like(f"model:{name}:%"))
                             .order_by(AuditEventRow.seq.desc()))
    previous = None
    for event in events:
        version = event.details.get("version")
        if version is not None and version != current.version:
            candidate = session.scalars(select(ModelVersionRow).where(ModelVersionRow.model_name == name,
                                                                      ModelVersionRow.version == version)).first()
            if candidate is not None and candidate.status != "archived":
                previous = candidate
                break
    if previous is None:
        raise DepthgaugeError(f"{name} has had no other production version than {current.ref}, so there is nothing to "
                              "roll back to.")
    registry.promote(session, previous.ref, "production")
    audit.record(session, actor_of(session), "model.rollback", f"model:{name}", {"from": current.ref, "to": previous.ref})
    active = deployments.active_deployment(session, name)
    if active is not None and active.version_id != previous.id:
        deployments.deploy(session, name, previous.ref, action="rollback")
    return {"model": name, "from": current.ref, "to": previous.ref, "deployed": active is not None}
