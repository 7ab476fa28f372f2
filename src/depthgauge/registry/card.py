"""Model cards: one structure rendered as Markdown and as HTML, so the two never disagree."""

from __future__ import annotations

import html
import math
from pathlib import Path

from sqlalchemy.orm import Session

from depthgauge.metrics import LABELS
from depthgauge.money import usd
from depthgauge.store.tables import AssessmentRow, ModelVersionRow

TOP_FEATURES = 5


def _num(value, digits: int = 4) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "—"
    if isinstance(value, float):
        return f"{value:.{digits}g}"
    return str(value)


def card_sections(session: Session, version: ModelVersionRow, checklist_items: list) -> tuple[str, list]:
    """Return the card's title and sections: (heading, [paragraph strings or ("table", headers, rows)])."""
    assessment = session.get(AssessmentRow, version.assessment_id) if version.assessment_id else None
    lineage, card = version.lineage, version.scorecard
    profile = assessment.profile if assessment else {}
    verdict = assessment.verdict if assessment else {}
    title = f"Model card: {version.ref} ({version.family}{', deep' if version.is_deep else ''})"
    sections = []
    classes = version.input_schema.get("classes")
    sections.append(("Intended use", [
        f"Predicts `{lineage.get('target')}` ({lineage.get('task')}"
        + (f"; classes {', '.join(map(str, classes))}" if classes else "") + f") from "
        f"{len(version.input_schema['columns'])} input columns, for data like the training set described below.",
        "Not for: inputs outside the ranges and categories seen in training, other populations, or decisions "
        "without the human review the risk section calls for. The owner must confirm the intended use.",
    ]))
    data_lines = [f"Source: {lineage.get('dataset_source')} (SHA-256 {lineage.get('dataset_fingerprint')})."]
    if profile:
        data_lines.append(f"{profile['n_rows']:,} rows, {profile['n_columns']} columns; split "
                          f"{lineage['split']['method']} with seed {lineage['split']['seed']}: "
                          + ", ".join(f"{k} {v:,}" for k, v in lineage["split"]["sizes"].items()) + ".")
        if profile.get("class_balance"):
            data_lines.append("Class balance: " + ", ".join(f"{k} {v:.1%}" for k, v in profile["class_balance"].items()) + ".")
        data_lines += [f"Warning: {w}" for w in profile.get("warnings", [])]
    data_lines += [f"Warning: {d['message']}" for d in (verdict or {}).get("dominant") or []]
    sections.append(("Data", data_lines))
    quality_rows = [[LABELS.get(k, k), _num(v["value"]), f"[{_num(v['low'], 3)}, {_num(v['high'], 3)}]"]
                    for k, v in card.get("quality", {}).items()]
    sections.append(("Metrics on the held-out test rows", [("table", ["metric", "value", "95% interval"], quality_rows)]))
    permuted = (card.get("importance") or {}).get("features")
    importance = (version.reference or {}).get("importance") or {}
    if permuted:
        metric = LABELS.get(card["importance"]["metric"], card["importance"]["metric"])
        sections.append(("Top features", [
            f"Permutation importance on {card['importance']['rows']:,} test rows, {card['importance']['repeats']} "
            f"repeats: the drop in {metric} when the column is shuffled.",
            ("table", ["input column", f"drop in {metric}", "95% range over the repeats"],
             [[f["feature"], _num(f["drop"], 3), f"[{_num(f['low'], 2)}, {_num(f['high'], 2)}]"]
              for f in permuted[:TOP_FEATURES]])]))
    elif importance:
        top = sorted(importance.items(), key=lambda kv: -kv[1])[:TOP_FEATURES]
        sections.append(("Top features", [("table", ["input column", "share of the model's importance"],
                                           [[name, f"{share:.1%}"] for name, share in top])]))
    else:
        sections.append(("Top features", [f"The {version.family} family does not report which inputs it relies on."]))
    if verdict:
        sections.append(("The verdict it came from", [f"Assessment {assessment.id}: {verdict['headline']}"]))
    risk = card.get("risk", {})
    risk_lines = [f"Explainability: {risk.get('explainability')}."]
    if risk.get("false_positive_rate") is not None:
        risk_lines.append(f"False-positive rate {_num(risk['false_positive_rate'], 3)}, false-negative rate "
                          f"{_num(risk['false_negative_rate'], 3)} at threshold {risk.get('decision_threshold')}.")
        before = (f" ({_num(risk['calibration_error_raw'], 3)} before calibration on the validation rows)"
                  if risk.get("calibration_error_raw") is not None else "")
        risk_lines.append(f"Calibration error {_num(risk['calibration_error'], 3)}{before}; {_num(risk['review_share'], 3)} "
                          f"of predictions fall below calibrated confidence {risk.get('review_threshold')} and should go "
                          "to human review.")
    gaps = (risk.get("group_gaps") or {}).get("gaps")
    if gaps:
        risk_lines.append("Largest gaps between groups: " + ", ".join(f"{k} {_num(v, 3)}" for k, v in gaps.items()) + ".")
    sections.append(("Limitations and risks", risk_lines))
    cost = card.get("cost") or {}
    ops = card.get("operations") or {}
    sections.append(("Cost and operations", [
        f"{usd(cost.get('monthly_total_usd'), '/ month')} to own at {cost.get('monthly_volume', 0):,} predictions a "
        f"month: {cost.get('instances')} × {cost.get('instance')} {usd((cost.get('monthly') or {}).get('serving'))}, "
        f"human review {usd((cost.get('monthly') or {}).get('human_review'))}, retraining "
        f"{usd((cost.get('monthly') or {}).get('retraining'))}; one training run {usd(cost.get('training_cost_usd'))}.",
        f"Single-row latency p50 {_num(ops.get('latency_p50_ms'), 3)} ms, p99 {_num(ops.get('latency_p99_ms'), 3)} ms; "
        f"throughput {_num(ops.get('throughput_rows_per_s'), 3)} rows/s; artifact {ops.get('artifact_bytes', 0):,} bytes.",
    ]))
    packages = ", ".join(f"{k} {v}" for k, v in lineage.get("packages", {}).items())
    sections.append(("Lineage", [
        f"Created by {version.created_by} at {version.created_at.isoformat()} from assessment "
        f"{lineage.get('assessment_id')}, candidate {lineage.get('candidate')}, seed {lineage.get('seed')}.",
        f"Parameters: {lineage.get('params')}.", f"Code: {lineage.get('code_version')}. Packages: {packages}.",
        f"Artifact SHA-256: {version.artifact_digest}.",
        f"Approval: {'approved by ' + version.approved_by + ' at ' + version.approved_at.isoformat() + ' — ' + (version.approval_note or '') if version.approved_at else 'not approved'}.",
    ]))
    rows = [[item.title, item.status] for item in checklist_items]
    sections.append(("Implementation checklist", [("table", ["item", "status"], rows)]))
    return title, sections


def to_markdown(title: str, sections: list) -> str:
    out = [f"# {title}", ""]
    for heading, parts in sections:
        out += [f"## {heading}", ""]
        for part in parts:
            if isinstance(part, tuple):
                _, headers, rows = part
                out += ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
                out += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
            else:
                out.append(part)
            out.append("")
    return "\n".join(out)


def to_html(title: str, sections: list) -> str:
    body = []
    for heading, parts in sections:
        body.append(f"<h2>{html.escape(heading)}</h2>")
        for part in parts:
            if isinstance(part, tuple):
                _, headers, rows = part
                body.append("<table><tr>" + "".join(f"<th>{html.escape(h)}</th>" for h in headers) + "</tr>"
                            + "".join("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in row) + "</tr>"
                                      for row in rows) + "</table>")
            else:
                body.append(f"<p>{html.escape(part).replace('`', '')}</p>")
    style = ("body{font-family:system-ui,sans-serif;max-width:900px;margin:2rem auto;line-height:1.45;color:#111827}"
             "table{border-collapse:collapse}td,th{border-bottom:1px solid #e5e7eb;padding:.25rem .6rem;text-align:left}")
    return (f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
            f"<style>{style}</style></head><body><h1>{html.escape(title)}</h1>{''.join(body)}</body></html>")


def write_card(folder: Path, version: ModelVersionRow, title: str, sections: list) -> tuple[Path, Path]:
    from depthgauge.files import write_text_atomic

    folder.mkdir(parents=True, exist_ok=True)
    stem = f"{version.model_name}-v{version.version}"
    return (write_text_atomic(folder / f"{stem}.md", to_markdown(title, sections)),
            write_text_atomic(folder / f"{stem}.html", to_html(title, sections)))
