"""`depthgauge init` and `depthgauge assessments list|show`."""

from __future__ import annotations

import os

import typer

from depthgauge.cli.main import app
from depthgauge.cli.render import print_json
from depthgauge.errors import DepthgaugeError

assessments_app = typer.Typer(help="List and show stored assessments.", no_args_is_help=True)
app.add_typer(assessments_app, name="assessments")


def _existing_workspace(home):
    """Return the open workspace; reading commands never create one."""
    from depthgauge.workspace import Workspace, resolve_home

    root = resolve_home(home)
    if not (root / "depthgauge.db").exists() and not os.environ.get("DEPTHGAUGE_DB_URL"):
        raise DepthgaugeError(f"No workspace at {root}. Create one with: depthgauge init (or run depthgauge assess).")
    return Workspace.open(root)


@app.command()
def init(ctx: typer.Context, json_output: bool = typer.Option(False, "--json", help="Print machine-readable JSON.")):
    """Create the workspace (metadata database and artifact store) and the first admin API key; upgrade the
    database of a workspace an earlier release made to this release's schema, keeping its data."""
    from depthgauge.govern.keys import create_key, has_keys
    from depthgauge.workspace import Workspace

    with Workspace.open(ctx.obj["home"], upgrade=True) as workspace, workspace.transaction() as session:
        info = {"home": str(workspace.home), "database": workspace.engine.url.render_as_string(hide_password=True),
                "admin_key": None}
        if not has_keys(session):
            row, token = create_key(session, "first admin", "admin")
            info["admin_key"] = {"id": row.id, "token": token}
    if json_output:
        print_json(info)
        return
    typer.echo(f"Workspace ready at {info['home']} (database {info['database']}).")
    if info["admin_key"]:
        typer.echo("First admin API key (shown only now; store it in your secret manager):\n"
                   f"{info['admin_key']['token']}")
    else:
        typer.echo("Keys already exist; create more with: depthgauge keys create --name NAME --role ROLE")


@assessments_app.command("list")
def list_assessments(ctx: typer.Context, json_output: bool = typer.Option(False, "--json", help="Print JSON.")):
    """List assessments, newest first."""
    from rich.console import Console
    from rich.table import Table
    from sqlalchemy import select

    from depthgauge.store.tables import AssessmentRow

    workspace = _existing_workspace(ctx.obj["home"])
    with workspace.session() as session:
        rows = session.scalars(select(AssessmentRow).order_by(AssessmentRow.created_at.desc())).all()
        data = [{"id": r.id, "created_at": r.created_at.isoformat(), "target": r.target, "task": r.task,
                 "recommended": r.verdict["recommended"], "deep_recommended": r.verdict["deep_recommended"],
                 "report_path": r.report_path} for r in rows]
    workspace.close()
    if json_output:
        print_json(data)
        return
    if not data:
        typer.echo("No assessments yet. Run: depthgauge assess DATA --target COLUMN")
        return
    table = Table("id", "created", "target", "task", "use", "deep?")
    for d in data:
        table.add_row(d["id"], d["created_at"][:19], d["target"], d["task"], d["recommended"],
                      "yes" if d["deep_recommended"] else "no")
    Console().print(table)


@assessments_app.command("show")
def show_assessment(ctx: typer.Context, assessment_id: str = typer.Argument(..., help="Assessment id."),
                    json_output: bool = typer.Option(False, "--json", help="Print JSON.")):
    """Show one assessment's verdict and where its report is."""
    from depthgauge.store.tables import AssessmentRow

    workspace = _existing_workspace(ctx.obj["home"])
    with workspace.session() as session:
        row = session.get(AssessmentRow, assessment_id)
        if row is None:
            workspace.close()
            raise DepthgaugeError(f"No assessment '{assessment_id}'. List them with: depthgauge assessments list")
        data = {"id": row.id, "target": row.target, "task": row.task, "verdict": row.verdict, "split": row.split,
                "options": row.options, "report_path": row.report_path,
                "runs": [{"id": r.id, "candidate": r.candidate, "status": r.status, "artifact_digest": r.artifact_digest}
                         for r in row.runs]}
    workspace.close()
    if json_output:
        print_json(data)
    else:
        typer.echo(data["verdict"]["headline"])
        typer.echo(f"Report: {data['report_path']}")
