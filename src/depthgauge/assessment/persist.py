"""Storing an assessment: its dataset, one run per candidate, the audit record and (when named) model versions."""

from __future__ import annotations

import pandas as pd

from depthgauge.assessment.results import Assessment


def store_assessment(workspace, assessment: Assessment, frame: pd.DataFrame, source: str, name: str | None) -> list[str]:
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
        from depthgauge.store.tables import actor_of

        audit.record(session, actor_of(session), "assessment.create", f"assessment:{assessment.id}",
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
