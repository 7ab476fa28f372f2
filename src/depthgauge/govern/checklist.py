"""The 12-item implementation checklist, filled from the workspace's evidence and from people's marks."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from depthgauge.errors import DepthgaugeError, NotFound
from depthgauge.store.tables import (
    AdviceRow,
    AssessmentRow,
    ChecklistMarkRow,
    CostProjectionRow,
    DeploymentRow,
    MonitorSnapshotRow,
    VendorScorecardRow,
)

ITEMS = {
    "business_task": "Business task is measurable",
    "deep_learning_confirmed": "Deep learning confirmed necessary",
    "data_inventoried": "Data inventoried (volume, quality, labels, permissions, privacy, bias)",
    "approach_selected": "Approach selected",
    "architecture_chosen": "Architecture chosen",
    "baseline_established": "Baseline established",
    "metrics_defined": "Metrics defined across quality, operations, cost, risk and business impact",
    "deployment_plan": "Deployment plan with monitoring, drift detection and rollback",
    "governance": "Governance: access, audit, human-review thresholds, compliance",
    "retraining_and_lineage": "Retraining schedule and data lineage documented",
    "cost_projection": "Cost projection completed",
    "vendor_questions": "Vendor questions asked",
}
STATUSES = ("done", "partial", "open")


@dataclass
class ChecklistItem:
    key: str
    title: str
    status: str = "open"
    evidence: list[str] = field(default_factory=list)
    marked_by: str | None = None
    marked_at: str | None = None


def check_item(item: str) -> str:
    if item not in ITEMS:
        import difflib

        close = difflib.get_close_matches(item, ITEMS, n=1)
        hint = f" Did you mean '{close[0]}'?" if close else ""
        raise DepthgaugeError(f"Unknown checklist item '{item}'.{hint} Items: {', '.join(ITEMS)}.")
    return item


def _latest(session: Session, row_class):
    return session.scalars(select(row_class).order_by(row_class.created_at.desc()).limit(1)).first()


def build_checklist(session: Session, assessment_id: str | None = None) -> list[ChecklistItem]:
    """Return the 12 items with their status and evidence; a person's latest mark decides an item's status."""
    items = {key: ChecklistItem(key, title) for key, title in ITEMS.items()}

    def found(key: str, status: str, evidence: str) -> None:
        items[key].status = status if items[key].status != "done" else "done"
        items[key].evidence.append(evidence)

    if assessment_id is not None:
        assessment = session.get(AssessmentRow, assessment_id)
        if assessment is None:
            raise NotFound(f"No assessment '{assessment_id}'. List them with: depthgauge assessments list")
    else:
        assessment = _latest(session, AssessmentRow)
    if assessment is not None:
        verdict, ref = assessment.verdict, f"assessment {assessment.id}"
        report = f" (report: {assessment.report_path})" if assessment.report_path else ""
        # The item is a question; a verdict that deep learning is or is not needed answers it either way.
        call = verdict.get("call")
        if verdict["deep_recommended"]:
            found("deep_learning_confirmed", "done", f"{ref} found deep learning necessary: {verdict['headline']}")
        elif call in ("deep_worse", "equivalent") or (call is None and verdict.get("deep")):
            found("deep_learning_confirmed", "done", f"{ref} found deep learning not necessary: {verdict['headline']}")
        else:  # inconclusive, no verdict, or no deep candidate: the question stays open, with what was found
            found("deep_learning_confirmed", "partial", f"{ref} could not tell yet: {verdict['headline']}")
        profile = assessment.profile
        found("data_inventoried", "partial",
              f"{ref}: {profile['n_rows']:,} rows, {profile['n_columns']} columns profiled, "
              f"{len(profile['warnings'])} warning(s); permissions, privacy and bias need a person's review.")
        simple = {r.candidate for r in assessment.runs if r.status == "ok" and not r.is_deep}
        if "dummy" in simple and simple - {"dummy"}:
            found("baseline_established", "done", f"{ref}: baselines {', '.join(sorted(simple))} "
                                                  f"on the same holdout{report}")
        found("metrics_defined", "done", f"{ref}: quality, operations, cost, risk and business impact measured "
                                         f"(primary metric {assessment.primary_metric})")
        found("approach_selected", "done", f"{ref}: use {verdict['recommended']}")
        found("architecture_chosen", "done", f"{ref}: {verdict['recommended']} recommended")
        found("retraining_and_lineage", "partial",
              f"{ref}: lineage stored (dataset SHA-256, split {assessment.split['method']} seed {assessment.split['seed']}); "
              "the retraining schedule needs a person.")
    advice = _latest(session, AdviceRow)
    if advice is not None:
        found("approach_selected", "done", f"advice {advice.id}: {advice.result['title']}")
        if advice.result.get("architecture"):
            found("architecture_chosen", "done", f"advice {advice.id}: {advice.result['architecture']['family']}")
    projection = _latest(session, CostProjectionRow)
    if projection is not None:
        names = ", ".join(o["option"]["name"] for o in projection.result["options"])
        found("cost_projection", "done", f"cost projection {projection.id}: {names}")
    scorecard = _latest(session, VendorScorecardRow)
    if scorecard is not None:
        ranked = ", ".join(v["name"] for v in scorecard.result["vendors"])
        found("vendor_questions", "done", f"vendor scorecard {scorecard.id}: {ranked}")

    deployed = session.scalars(select(DeploymentRow).where(DeploymentRow.active)).all()
    for deployment in deployed:
        watched = session.scalars(select(MonitorSnapshotRow).where(MonitorSnapshotRow.model_name == deployment.model_name)
                                  .order_by(MonitorSnapshotRow.at.desc()).limit(1)).first()
        if watched is not None:
            found("deployment_plan", "done", f"{deployment.ref} deployed (rollback ready: depthgauge serve keeps its "
                                             f"history) and monitored for drift, last at {watched.at:%Y-%m-%d %H:%M}")
        else:
            found("deployment_plan", "partial", f"{deployment.ref} deployed; no monitoring run yet "
                                                f"(depthgauge monitor {deployment.model_name})")

    marks = session.scalars(select(ChecklistMarkRow).order_by(ChecklistMarkRow.created_at)).all()
    for mark in marks:  # oldest first, so the latest mark is the one that stands
        item = items[mark.item]
        item.status, item.marked_by, item.marked_at = mark.status, mark.created_by, mark.created_at.isoformat()
        item.evidence.append(f"marked {mark.status} by {mark.created_by}: {mark.evidence}")
    return list(items.values())


def checklist_dict(items: list[ChecklistItem]) -> dict:
    done = sum(i.status == "done" for i in items)
    return {"done": done, "total": len(items), "items": [asdict(i) for i in items]}
