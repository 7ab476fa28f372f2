"""What each dashboard page shows, read from the workspace: plain data for the templates."""

from __future__ import annotations

from sqlalchemy import select

from depthgauge.govern.audit import verify
from depthgauge.monitor.service import recent_alerts
from depthgauge.registry import service as registry
from depthgauge.serve import deploy as deployments
from depthgauge.serve.reviews import pending_count
from depthgauge.store.tables import AssessmentRow, AuditEventRow, CostProjectionRow, ModelVersionRow, MonitorSnapshotRow
from depthgauge.web.charts import line_chart

TREND_POINTS = 30


def _snapshots(session, name: str, limit: int = TREND_POINTS) -> list[dict]:
    """Return the model's latest monitor reports, oldest first (an index on (model, time) keeps this cheap)."""
    rows = session.scalars(select(MonitorSnapshotRow).where(MonitorSnapshotRow.model_name == name)
                           .order_by(MonitorSnapshotRow.at.desc()).limit(limit)).all()
    return [row.report for row in reversed(rows)]


def _get(report: dict | None, *path):
    node = report
    for part in path:
        if not isinstance(node, dict):
            return None
        node = node.get(part)
    return node


def model_tiles(session) -> list[dict]:
    tiles = []
    for deployment in deployments.active_deployments(session):
        version = session.get(ModelVersionRow, deployment.version_id)
        assessment = session.get(AssessmentRow, version.assessment_id) if version.assessment_id else None
        history = _snapshots(session, deployment.model_name)
        latest = history[-1] if history else None
        metric = (assessment.options.get("metric") if assessment else None) or _get(latest, "quality", "metric")
        tiles.append({
            "name": deployment.model_name, "ref": deployment.ref, "family": version.family, "deep": version.is_deep,
            "deployed_at": deployment.deployed_at, "verdict": assessment.verdict.get("headline") if assessment else None,
            "summary": assessment.verdict.get("summary") if assessment else None,
            "assessment_id": version.assessment_id, "monitored_at": _get(latest, "at"),
            "metric": metric, "holdout": version.scorecard["quality"].get(metric) if metric else None,
            "live": _get(latest, "quality", "live"), "labeled": _get(latest, "quality", "labeled"),
            "estimated": _get(latest, "quality", "estimated"),
            "latency_p50": _get(latest, "operations", "latency_p50_ms"),
            "latency_p99": _get(latest, "operations", "latency_p99_ms"),
            "throughput": _get(latest, "operations", "throughput_per_s"),
            "cost_per_1k": _get(latest, "cost", "cost_per_1k_at_observed_traffic_usd"),
            "cost_per_1k_capacity": _get(latest, "cost", "cost_per_1k_at_capacity_usd"),
            "monthly": _get(latest, "cost", "monthly_run_rate_usd"),
            "drift_score": _get(latest, "drift", "score"), "drifted": _get(latest, "drift", "drifted_features") or [],
            "whole_input": _get(latest, "drift", "whole_input"),
            "net_value": _get(latest, "business", "net_value_per_1k"),
            "latency_chart": line_chart({"p50": [_get(r, "operations", "latency_p50_ms") for r in history],
                                         "p99": [_get(r, "operations", "latency_p99_ms") for r in history]},
                                        f"Latency of {deployment.model_name} over the last monitor runs", " ms"),
            "throughput_chart": line_chart({"predictions/s": [_get(r, "operations", "throughput_per_s") for r in history]},
                                           f"Throughput of {deployment.model_name}", "/s"),
            "drift_chart": line_chart({"drift score": [_get(r, "drift", "score") for r in history]},
                                      f"Drift score of {deployment.model_name}"),
            "value_chart": line_chart({"net value per 1,000": [_get(r, "business", "net_value_per_1k") for r in history]},
                                      f"Net value per 1,000 predictions of {deployment.model_name}"),
        })
    return tiles


def overview(session) -> dict:
    from depthgauge.genai.service import latest_per_feature

    return {"tiles": model_tiles(session), "alerts": recent_alerts(session, limit=8),
            "pending_reviews": pending_count(session), "generative": latest_per_feature(session)}


def review_queues(session) -> list[tuple[str, int]]:
    """Return (model or generative feature, pending reviews) for every queue with something pending."""
    from sqlalchemy import func

    from depthgauge.store.tables import ReviewRow

    return [tuple(row) for row in session.execute(
        select(ReviewRow.model_name, func.count()).where(ReviewRow.status == "pending")
        .group_by(ReviewRow.model_name).order_by(ReviewRow.model_name)).all()]


def models(session) -> list[dict]:
    return registry.list_models(session)


def model_detail(session, name: str) -> dict:
    listing = [m for m in registry.list_models(session) if m["name"] == name]
    if not listing:
        from depthgauge.errors import NotFound

        raise NotFound(f"Unknown model '{name}'.")
    return {**listing[0], "deployments": deployments.history(session, name),
            "approval_required": registry.approval_required(session)}


def assessments(session) -> list[AssessmentRow]:
    return list(session.scalars(select(AssessmentRow).order_by(AssessmentRow.created_at.desc()).limit(100)))


def monitoring(session, name: str) -> dict:
    history = _snapshots(session, name)
    latest = history[-1] if history else None
    return {"name": name, "latest": latest, "alerts": recent_alerts(session, name, limit=20),
            "quality_chart": line_chart({"live": [_get(r, "quality", "live", "value") for r in history],
                                         "live low": [_get(r, "quality", "live", "low") for r in history],
                                         "live high": [_get(r, "quality", "live", "high") for r in history],
                                         "estimated (no labels)": [_get(r, "quality", "estimated", "value")
                                                                   for r in history]},
                                        f"Live quality of {name} over the last monitor runs"),
            "drift_chart": line_chart({"drift score": [_get(r, "drift", "score") for r in history]},
                                      f"Drift score of {name}")}


def cost_projections(session) -> list[CostProjectionRow]:
    return list(session.scalars(select(CostProjectionRow).order_by(CostProjectionRow.created_at.desc()).limit(50)))


def audit_page(session, limit: int = 200) -> dict:
    events = session.scalars(select(AuditEventRow).order_by(AuditEventRow.seq.desc()).limit(limit)).all()
    return {"events": events}


def audit_verification(session):
    return verify(session)


def deployed_names(session) -> list[str]:
    return [d.model_name for d in deployments.active_deployments(session)]
