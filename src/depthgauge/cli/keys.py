"""`depthgauge keys create|list|revoke` and `depthgauge audit verify|log|rotate-key`."""

from __future__ import annotations

from typing import Optional

import typer
from rich.console import Console
from rich.table import Table

from depthgauge.cli.main import app
from depthgauge.cli.render import print_json
from depthgauge.errors import DepthgaugeError

keys_app = typer.Typer(help="API keys for the prediction service (stored only as hashes).", no_args_is_help=True)
app.add_typer(keys_app, name="keys")
audit_app = typer.Typer(help="The keyed, hash-chained audit log of every state-changing action.", no_args_is_help=True)
app.add_typer(audit_app, name="audit")


def _workspace(home):
    from depthgauge.registry.api import existing_workspace as existing

    return existing(home)


@keys_app.command("create")
def create(ctx: typer.Context, name: str = typer.Option(..., help="Who or what uses the key."),
           role: str = typer.Option(..., help="admin, deployer, reviewer, predictor or viewer."),
           rate: Optional[str] = typer.Option(None, help="Most requests a second, minute or hour, e.g. 50/s (429 above it)."),
           quota: Optional[str] = typer.Option(None, help="Most rows predicted a UTC day, e.g. 1M/day (429 above it)."),
           json_output: bool = typer.Option(False, "--json", help="Print JSON.")):
    """Create a key and print its token once."""
    from depthgauge.govern.keys import create_key, parse_quota, parse_rate

    parse_rate(rate), parse_quota(quota)  # refused before the workspace is opened
    with _workspace(ctx.obj["home"]) as workspace, workspace.transaction() as session:
        row, token = create_key(session, name, role, rate, quota)
        info = {"id": row.id, "name": row.name, "role": row.role, "rate_per_s": row.rate_per_s,
                "quota_per_day": row.quota_per_day, "token": token}
    if json_output:
        print_json(info)
    else:
        typer.echo(f"Created {info['role']} key {info['id']} ({info['name']}). Its token, shown only now:\n{token}")


@keys_app.command("list")
def list_command(ctx: typer.Context, json_output: bool = typer.Option(False, "--json", help="Print JSON.")):
    """List keys (never their tokens)."""
    from depthgauge.govern.keys import list_keys

    with _workspace(ctx.obj["home"]) as workspace, workspace.session() as session:
        keys = list_keys(session)
    if json_output:
        print_json(keys)
        return
    table = Table("id", "name", "role", "token starts", "rate", "quota / day", "used today", "created by", "revoked")
    for k in keys:
        rate = "—" if k["rate_per_s"] is None else f"{k['rate_per_s']:g}/s"
        quota = "—" if k["quota_per_day"] is None else f"{k['quota_per_day']:,}"
        table.add_row(k["id"], k["name"], k["role"], k["prefix"] + "…", rate, quota, f"{k['predictions_today']:,}",
                      k["created_by"], "yes" if k["revoked"] else "")
    Console().print(table)


@keys_app.command("revoke")
def revoke_command(ctx: typer.Context, key_id: str = typer.Argument(..., help="The key's id (see keys list).")):
    """Revoke a key at once."""
    from depthgauge.govern.keys import revoke

    with _workspace(ctx.obj["home"]) as workspace, workspace.transaction() as session:
        row = revoke(session, key_id)
        typer.echo(f"Revoked key {row.id} ({row.name}).")


@audit_app.command("verify")
def verify_command(ctx: typer.Context, json_output: bool = typer.Option(False, "--json", help="Print JSON.")):
    """Recompute the hash chain and name the first event that was altered or removed."""
    from depthgauge.govern.audit import verify

    with _workspace(ctx.obj["home"]) as workspace, workspace.session() as session:
        result = verify(session)
    if json_output:
        print_json(result.__dict__)
    elif result.ok:
        typer.echo(f"Audit log intact: {result.events} events, chain verified.")
    if not result.ok:
        raise DepthgaugeError(f"Audit log tampered: {result.problem}.")


@audit_app.command("rotate-key")
def rotate_key_command(ctx: typer.Context):
    """Seal the audit events from the next one on with a new secret (the old ones stay in audit.key, to verify
    the events they sealed). Copy the new audit.key to every other server of the workspace."""
    from depthgauge.govern.audit import rotate_key
    from depthgauge.store.seal import KEY_FILE
    from depthgauge.store.tables import actor_of

    with _workspace(ctx.obj["home"]) as workspace, workspace.transaction() as session:
        event = rotate_key(session, actor_of(session))
        typer.echo(f"New audit secret in {workspace.home / KEY_FILE}; it seals events from {event.seq} on.")


@audit_app.command("log")
def log_command(ctx: typer.Context, limit: int = typer.Option(50, help="How many of the newest events."),
                json_output: bool = typer.Option(False, "--json", help="Print JSON.")):
    """Show the newest audit events."""
    from sqlalchemy import select

    from depthgauge.store.tables import AuditEventRow

    with _workspace(ctx.obj["home"]) as workspace, workspace.session() as session:
        rows = session.scalars(select(AuditEventRow).order_by(AuditEventRow.seq.desc()).limit(limit)).all()
        events = [{"seq": e.seq, "at": e.at, "actor": e.actor, "action": e.action, "object": e.object,
                   "details": e.details} for e in reversed(rows)]
    if json_output:
        print_json(events)
        return
    for e in events:
        typer.echo(f"{e['seq']:>5} {e['at'][:19]} {e['actor']:<12} {e['action']:<24} {e['object']}")
