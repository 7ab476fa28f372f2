"""`depthgauge logs purge|delete`: retention and deletion of logged predictions, audited."""

from __future__ import annotations

from typing import List

import typer

from depthgauge.cli.main import app

logs_app = typer.Typer(help="Retention and deletion of logged predictions (audited).", no_args_is_help=True)
app.add_typer(logs_app, name="logs")


@logs_app.command("purge")
def purge(ctx: typer.Context, before: str = typer.Option(..., help="Delete predictions logged before this date.")):
    """Delete logged predictions older than a date, with their reviews and labels."""
    from depthgauge.registry.api import existing_workspace
    from depthgauge.serve.retention import parse_date, purge_before

    moment = parse_date(before)
    with existing_workspace(ctx.obj["home"]) as workspace, workspace.transaction() as session:
        removed = purge_before(session, moment)
    typer.echo(f"Deleted {removed} logged prediction(s) from before {moment.isoformat()}.")


@logs_app.command("delete")
def delete(ctx: typer.Context, request_ids: List[str] = typer.Argument(..., help="Request ids to delete.")):
    """Delete specific logged predictions (for example on a data-subject request)."""
    from depthgauge.registry.api import existing_workspace
    from depthgauge.serve.retention import delete_requests

    with existing_workspace(ctx.obj["home"]) as workspace, workspace.transaction() as session:
        removed = delete_requests(session, list(request_ids))
    typer.echo(f"Deleted {removed} logged prediction(s).")
