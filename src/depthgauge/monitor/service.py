"""Run the monitor: reports for the monitored versions, alert rules evaluated, alerts stored and delivered."""

from __future__ import annotations

from sqlalchemy import delete, select

from depthgauge.monitor.alerts import alert_dict, deliver, evaluate, load_rules, rules_path
from depthgauge.monitor.profiles import fold_new_predictions, parse_window
from depthgauge.monitor.report import build_report, monitored_version
from depthgauge.serve.deploy import active_deployments
from depthgauge.store.jsonable import json_ready
from depthgauge.store.tables import AlertRow, MonitorSnapshotRow


def run_monitor(workspace, models: list[str] | None = None, window: str | None = None, rules_file=None,
                prices=None) -> list[dict]:
    """Return one report per model (every deployed model when `models` is empty), over `window`, with its alerts."""
    rules = load_rules(rules_path(workspace.home, rules_file))
    shown = window or "10000"
    specs = {shown: parse_window(shown), **rules.windows()}
    with workspace.session() as session:
        targets = list(models or [d.model_name for d in active_deployments(session)])
    results, outbox = [], []
    for name in targets:
        with workspace.session() as session:
            version_id = monitored_version(session, name).id
        fold_new_predictions(workspace, version_id)
        with workspace.transaction() as session:
            version = monitored_version(session, name)
            reports = {w: build_report(session, version.ref, spec, prices) for w, spec in specs.items()}
            changed = evaluate(session, version.model_name, version.ref, reports, rules)
            outbox += [(alert.id, alert_dict(alert)) for alert in changed]
            report = reports[shown]
            report["alerts"] = [alert_dict(a) for a in session.scalars(
                select(AlertRow).where(AlertRow.model_name == version.model_name, AlertRow.status == "firing")
                .order_by(AlertRow.fired_at))]
            report["rules"] = rules.source
            session.add(MonitorSnapshotRow(model_name=version.model_name, ref=version.ref, report=json_ready(report)))
            _prune_snapshots(session, version.model_name)
        results.append(report)
    if rules.webhook.url:
        for alert_id, payload in outbox:
            status, attempts, error = deliver({"source": "depthgauge", "alert": payload}, rules.webhook)
            with workspace.transaction() as session:
                alert = session.get(AlertRow, alert_id)
                alert.delivery, alert.delivery_attempts, alert.delivery_error = status, attempts, error
            for report in results:
                for shown_alert in report["alerts"]:
                    if shown_alert["id"] == alert_id:
                        shown_alert.update(delivery=status, delivery_attempts=attempts, delivery_error=error)
    return results


KEEP_SNAPSHOTS = 2000  # per model: about a week of five-minute runs, and the dashboard draws the last 30


def _prune_snapshots(session, model: str) -> None:
    session.flush()
    cutoff = session.scalars(select(MonitorSnapshotRow.at).where(MonitorSnapshotRow.model_name == model)
                             .order_by(MonitorSnapshotRow.at.desc()).offset(KEEP_SNAPSHOTS).limit(1)).first()
    if cutoff is not None:
        session.execute(delete(MonitorSnapshotRow).where(MonitorSnapshotRow.model_name == model,
                                                         MonitorSnapshotRow.at <= cutoff))


def current_report(workspace, reference: str, spec) -> dict:
    """Return the report of `reference` over `spec`, its new predictions folded first, with its recent alerts."""
    with workspace.session() as session:
        version_id = monitored_version(session, reference).id
    fold_new_predictions(workspace, version_id)
    with workspace.session() as session:
        report = build_report(session, reference, spec)
        report["alerts"] = recent_alerts(session, report["model"])
        return report


def recent_alerts(session, model: str | None = None, limit: int = 50) -> list[dict]:
    query = select(AlertRow).order_by(AlertRow.fired_at.desc()).limit(limit)
    if model is not None:
        query = query.where(AlertRow.model_name == model)
    return [alert_dict(a) for a in session.scalars(query)]
