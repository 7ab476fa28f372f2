"""The checklist and the vendor scorecard as single calls over the workspace."""

from __future__ import annotations

import os
from pathlib import Path

import plotly.graph_objects as go

from depthgauge.errors import DepthgaugeError
from depthgauge.govern.checklist import STATUSES, ChecklistItem, build_checklist, check_item
from depthgauge.govern.vendor import Scorecard, check_template_path, score_vendors, template_text
from depthgauge.pages import page, table


def checklist(home: str | os.PathLike | None = None, assessment_id: str | None = None) -> list[ChecklistItem]:
    """Return the 12 checklist items filled from the workspace's evidence."""
    from depthgauge.workspace import Workspace

    with Workspace.open(home) as workspace, workspace.session() as session:
        return build_checklist(session, assessment_id)


def mark_checklist(item: str, evidence: str, status: str = "done", home: str | os.PathLike | None = None) -> str:
    """Record a person's mark on a checklist item, with who and when; return its id."""
    check_item(item)
    if status not in STATUSES:
        raise DepthgaugeError(f"Unknown status '{status}'. Use one of: {', '.join(STATUSES)}.")
    if not evidence or not evidence.strip():
        raise DepthgaugeError("A mark needs evidence: say what shows it, e.g. --evidence \"KPI agreed with sales, doc 12\".")
    from depthgauge.govern.records import add_checklist_mark
    from depthgauge.workspace import Workspace

    with Workspace.open(home) as workspace:
        return add_checklist_mark(workspace, item, status, evidence.strip())


def write_vendor_template(path: str | os.PathLike, force: bool = False) -> Path:
    from depthgauge.files import write_text_atomic

    path = Path(path)
    check_template_path(path, force)
    return write_text_atomic(path, template_text())


def run_vendor_scorecard(path: str | os.PathLike, home: str | os.PathLike | None = None, store: bool = True) -> Scorecard:
    """Return the ranked scorecard, written as an HTML comparison and stored in the workspace."""
    scorecard = score_vendors(path)
    if not store:
        return scorecard
    from depthgauge.files import write_text_atomic
    from depthgauge.govern.records import save_vendor_scorecard
    from depthgauge.store.tables import new_id
    from depthgauge.workspace import Workspace

    scorecard.id = new_id()
    with Workspace.open(home) as workspace:
        scorecard.report_path = workspace.reports_dir / f"vendors-{scorecard.id}.html"
        write_text_atomic(scorecard.report_path, render_vendor_page(scorecard))
        try:
            save_vendor_scorecard(workspace, scorecard)
        except BaseException:
            scorecard.report_path.unlink(missing_ok=True)
            raise
    return scorecard


def render_vendor_page(scorecard: Scorecard) -> str:
    fig = go.Figure()
    for vendor in scorecard.vendors:
        fig.add_trace(go.Bar(name=vendor.name, x=[q["key"].replace("_", " ") for q in scorecard.questions],
                             y=[vendor.scores[q["key"]] for q in scorecard.questions]))
    fig.add_hline(y=scorecard.min_acceptable, line_dash="dot", annotation_text="minimum acceptable")
    fig.update_layout(barmode="group", title="Score per question (0-5)", template="plotly_white", height=420)
    ranking = table(["rank", "vendor", "score (0-100)", "shortfalls"],
                    [[v.rank, v.name, v.score, ", ".join(v.shortfalls) or "none"] for v in scorecard.vendors])
    questions = table(["question", "weight", *[v.name for v in scorecard.vendors]],
                      [[q["question"], q["weight"], *[v.scores[q["key"]] for v in scorecard.vendors]]
                       for q in scorecard.questions])
    return page("Vendor comparison", f"Scorecard {scorecard.id} from {scorecard.source}",
                [("Ranking", ranking), ("Answers by question", questions)], [fig])
