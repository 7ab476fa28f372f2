"""`depthgauge checklist` and `depthgauge vendor`."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer
from rich.console import Console
from rich.table import Table

from depthgauge.cli.main import app
from depthgauge.cli.render import print_json

checklist_app = typer.Typer(help="The 12-item implementation checklist.", invoke_without_command=True)
app.add_typer(checklist_app, name="checklist")
vendor_app = typer.Typer(help="Score and rank AI vendors on the questions that matter.", no_args_is_help=True)
app.add_typer(vendor_app, name="vendor")
_ICONS = {"done": "[green]✔ done[/green]", "partial": "[yellow]◐ partial[/yellow]", "open": "[red]✘ open[/red]"}


@checklist_app.callback()
def show_checklist(
    ctx: typer.Context,
    assessment: Optional[str] = typer.Option(None, help="Take evidence from this assessment (default: the latest)."),
    json_output: bool = typer.Option(False, "--json", help="Print the checklist as JSON."),
):
    """Show the checklist, filled from the workspace's evidence and from people's marks."""
    if ctx.invoked_subcommand is not None:
        return
    from depthgauge.govern.checklist import checklist_dict
    from depthgauge.govern.service import checklist

    items = checklist(ctx.obj["home"], assessment)
    if json_output:
        print_json(checklist_dict(items))
        return
    table = Table(title=f"Implementation checklist: {sum(i.status == 'done' for i in items)} of {len(items)} done")
    table.add_column("item", max_width=44)
    table.add_column("status", no_wrap=True)
    table.add_column("evidence")
    for item in items:
        table.add_row(f"{item.title}\n[dim]{item.key}[/dim]", _ICONS[item.status],
                      "\n".join(item.evidence) or "[dim]none yet: depthgauge checklist mark " + item.key + " --evidence …[/dim]")
    Console(width=max(Console().width, 140)).print(table)


@checklist_app.command("mark")
def mark(
    ctx: typer.Context,
    item: str = typer.Argument(..., help="Item key, e.g. business_task (see `depthgauge checklist`)."),
    evidence: str = typer.Option(..., help="What shows it, e.g. a document, a decision, a link."),
    status: str = typer.Option("done", help="done, partial or open."),
):
    """Mark an item by hand, with evidence; who and when are recorded."""
    from depthgauge.govern.service import mark_checklist

    mark_id = mark_checklist(item, evidence, status, ctx.obj["home"])
    typer.echo(f"Marked {item} {status} (mark {mark_id}).")


@vendor_app.command("template")
def template(path: Path = typer.Argument(Path("vendors.yaml"), help="Where to write the questionnaire."),
             force: bool = typer.Option(False, "--force", help="Overwrite an existing file.")):
    """Write the vendor questionnaire (questions, weights, an example vendor) as YAML."""
    from depthgauge.govern.service import write_vendor_template

    written = write_vendor_template(path, force)
    typer.echo(f"Wrote {written}. Score each vendor 0-5 per question, then: depthgauge vendor score {written}")


@vendor_app.command("score")
def score(ctx: typer.Context, path: Path = typer.Argument(..., help="The filled-in questionnaire."),
          json_output: bool = typer.Option(False, "--json", help="Print the scorecard as JSON.")):
    """Score and rank vendors, show where each falls short, and write an HTML comparison."""
    from depthgauge.govern.service import run_vendor_scorecard

    result = run_vendor_scorecard(path, ctx.obj["home"])
    if json_output:
        print_json(result.to_dict())
        return
    table = Table(title="Vendor ranking")
    for column in ("rank", "vendor", "score (0-100)", f"shortfalls (below {result.min_acceptable})"):
        table.add_column(column)
    for v in result.vendors:
        table.add_row(str(v.rank), v.name, f"{v.score:.1f}", ", ".join(v.shortfalls) or "none")
    Console().print(table)
    typer.echo(f"Stored as scorecard {result.id}; page: {result.report_path}")
