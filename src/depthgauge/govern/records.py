"""Store the buyer's-toolkit results (advice, cost projections, checklist marks, vendor scorecards)."""

from __future__ import annotations

from depthgauge.govern import audit
from depthgauge.store.jsonable import json_ready
from depthgauge.store.tables import (
    AdviceRow,
    ChecklistMarkRow,
    CostProjectionRow,
    VendorScorecardRow,
    actor_of,
    new_id,
)


def save_advice(workspace, advice) -> str:
    row_id = new_id()
    with workspace.transaction() as session:
        session.add(AdviceRow(id=row_id, approach=advice.approach, answers=advice.answers,
                              result=json_ready(advice.to_dict())))
        audit.record(session, actor_of(session), "advice.create", f"advice:{row_id}", {"approach": advice.approach})
    return row_id


def save_cost_projection(workspace, projection, assessment_id: str | None) -> None:
    with workspace.transaction() as session:
        session.add(CostProjectionRow(id=projection.id, assessment_id=assessment_id,
                                      result=json_ready(projection.to_dict()),
                                      report_path=str(projection.report_path) if projection.report_path else None))
        audit.record(session, actor_of(session), "cost_projection.create", f"cost_projection:{projection.id}",
                     {"assessment_id": assessment_id})


def save_vendor_scorecard(workspace, scorecard) -> None:
    with workspace.transaction() as session:
        session.add(VendorScorecardRow(id=scorecard.id, source=scorecard.source, result=json_ready(scorecard.to_dict()),
                                       report_path=str(scorecard.report_path) if scorecard.report_path else None))
        audit.record(session, actor_of(session), "vendor_scorecard.create", f"vendor_scorecard:{scorecard.id}",
                     {"vendors": [v.name for v in scorecard.vendors]})


def add_checklist_mark(workspace, item: str, status: str, evidence: str) -> str:
    row_id = new_id()
    with workspace.transaction() as session:
        session.add(ChecklistMarkRow(id=row_id, item=item, status=status, evidence=evidence))
        audit.record(session, actor_of(session), "checklist.mark", f"checklist:{item}", {"status": status, "evidence": evidence})
    return row_id
