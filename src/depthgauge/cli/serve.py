"""`depthgauge serve`: the prediction API on loopback, authenticated unless told otherwise."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import List, Optional

import typer

from depthgauge.cli.main import app
from depthgauge.errors import DepthgaugeError


@app.command()
def serve(
    ctx: typer.Context,
    host: str = typer.Option("127.0.0.1", help="Address to bind; the default keeps the service on this machine."),
    port: int = typer.Option(8000, help="Port to listen on."),
    deploy: List[str] = typer.Option([], "--deploy", help="Deploy NAME@ALIAS or NAME:VERSION before serving (repeatable)."),
    insecure_no_auth: bool = typer.Option(False, "--insecure-no-auth",
                                          help="Turn authentication off. Only for local experiments."),
    max_body_mb: float = typer.Option(1.0, help="Largest request body accepted, in MB (413 above it)."),
    durability: str = typer.Option("power", help="'power': every logged prediction is flushed to disk before it is "
                                   "answered. 'crash': it survives a killed server but not a power cut; about one "
                                   "disk flush (≈1 ms here) faster per request."),
    monitor_every: float = typer.Option(300, help="Run the monitor (drift, quality, alerts) every this many seconds; "
                                        "0 turns the schedule off."),
    rules: Optional[str] = typer.Option(None, help="Alert rules YAML (default: the workspace's alerts.yaml, else the "
                                                   "built-in rules)."),
    log_format: str = typer.Option("text", help="Access log on stdout, one line per request: 'text', or 'json' for "
                                                "log shippers. Bodies and keys are never logged."),
    tls_cert: Optional[Path] = typer.Option(None, help="PEM certificate (chain) to serve HTTPS directly; needs "
                                                       "--tls-key. The dashboard's session cookie is then Secure."),
    tls_key: Optional[Path] = typer.Option(None, help="PEM private key of --tls-cert."),
    workers: int = typer.Option(1, min=1, max=64, help="Server processes sharing the port. Each runs its own log "
                                "writer and monitor schedule, as separate servers of one workspace do; give them the "
                                "cores the load generator and the database leave free."),
):
    """Serve deployed models over HTTP: predict, deploy, rollback, reviews, feedback, metrics."""
    import uvicorn

    from depthgauge.registry.refs import parse_ref
    from depthgauge.serve import deploy as deployments
    from depthgauge.serve.access import access_log
    from depthgauge.serve.log import check_durability
    from depthgauge.server import SETTINGS_VARIABLE, create_app
    from depthgauge.workspace import Workspace

    check_durability(durability)
    tls = _check_tls(tls_cert, tls_key)
    access_log(log_format)  # an unknown format is refused before anything is deployed
    if monitor_every < 0:
        raise DepthgaugeError(f"--monitor-every must be 0 (off) or a number of seconds, not {monitor_every:g}.")
    if rules is not None:
        from depthgauge.monitor.alerts import load_rules

        load_rules(rules)
    Workspace.open(ctx.obj["home"], upgrade=True).close()  # once, before any worker opens it
    if deploy:
        with Workspace.open(ctx.obj["home"]) as workspace, workspace.transaction() as session:
            for ref in deploy:
                deployments.deploy(session, parse_ref(ref).name, ref)
    if insecure_no_auth:
        typer.secho("Authentication is OFF: anyone who can reach this port can predict, deploy and review.",
                    err=True, fg=typer.colors.YELLOW)
    settings = {"home": None if ctx.obj["home"] is None else str(ctx.obj["home"]), "auth": not insecure_no_auth,
                "max_body_bytes": int(max_body_mb * 1_000_000), "durability": durability,
                "monitor_every_s": monitor_every, "rules_file": rules, "log_format": log_format}
    if workers == 1:
        application = create_app(**settings)
    else:  # each worker process builds its own app from the same settings
        os.environ[SETTINGS_VARIABLE] = json.dumps(settings)
        application = "depthgauge.server:app_from_environment"
    with Workspace.open(ctx.obj["home"]) as workspace, workspace.session() as session:
        deployed = [(row.model_name, row.ref) for row in deployments.active_deployments(session)]
    _banner(host, port, deployed, not insecure_no_auth, "https" if tls else "http", workers)
    from depthgauge.serve.protocol import HeaderTimeoutProtocol

    uvicorn.run(application, host=host, port=port, log_level="warning", workers=workers, factory=workers > 1,
                http=HeaderTimeoutProtocol, **tls)


def _check_tls(cert: Path | None, key: Path | None) -> dict:
    """Return uvicorn's TLS settings, or {} for plain HTTP; refuse half a pair or a pair that does not load."""
    if cert is None and key is None:
        return {}
    if cert is None or key is None:
        raise DepthgaugeError("HTTPS needs both --tls-cert and --tls-key (PEM files).")
    import ssl

    for path in (cert, key):
        if not path.is_file():
            raise DepthgaugeError(f"TLS file '{path}' not found.")
    try:
        ssl.create_default_context(ssl.Purpose.CLIENT_AUTH).load_cert_chain(str(cert), str(key))
    except (ssl.SSLError, ValueError) as exc:
        raise DepthgaugeError(f"--tls-cert '{cert}' and --tls-key '{key}' do not load as a PEM certificate and its "
                              f"private key ({exc}).") from None
    return {"ssl_certfile": str(cert), "ssl_keyfile": str(key)}


def _banner(host: str, port: int, deployed: list[tuple[str, str]], auth: bool, scheme: str = "http",
            workers: int = 1) -> None:
    """Say where the service is and what it serves, on stderr (stdout carries the access log)."""
    shown = f"[{host}]" if ":" in host else host
    base = f"{scheme}://{'127.0.0.1' if host in ('0.0.0.0', '::') else shown}:{port}"
    lines = [f"depthgauge is serving on {scheme}://{shown}:{port}" + (f" with {workers} workers" if workers > 1 else ""),
             f"  dashboard: {base}/    API docs: {base}/docs    metrics: {base}/metrics"]
    if deployed:
        lines += [f"  {name}: {ref}  (POST {base}/v1/models/{name}/predict)" for name, ref in deployed]
    else:
        lines.append("  no model deployed yet: depthgauge serve --deploy NAME:VERSION, or POST /v1/models/NAME/deploy")
    lines.append("  authentication: on; create a key with: depthgauge keys create --name NAME --role predictor" if auth
                 else "  authentication: OFF")
    typer.echo("\n".join(lines), err=True)
