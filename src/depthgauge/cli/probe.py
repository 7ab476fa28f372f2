"""`depthgauge probe`: a reliability check of a vendor endpoint."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer
from rich.console import Console
from rich.table import Table

from depthgauge.cli.main import app
from depthgauge.cli.render import print_json, stderr_console
from depthgauge.errors import DepthgaugeError


def _ms(value) -> str:
    return "—" if value is None else f"{value:.0f}"


@app.command()
def probe(
    spec: Optional[Path] = typer.Argument(None, help="The endpoint spec (YAML)."),
    data: Optional[Path] = typer.Option(None, help="CSV or Parquet rows to send (default: the spec's example row)."),
    levels: str = typer.Option("1,4,8", help="Concurrency levels to load it at, comma-separated."),
    requests: int = typer.Option(40, help="Calls at each level (at most 1,000 in all)."),
    example: bool = typer.Option(False, "--example", help="Print an example endpoint spec to copy, and exit."),
    json_output: bool = typer.Option(False, "--json", help="Print the report as JSON."),
):
    """Load a vendor endpoint at a few concurrency levels and send it empty, oversized and odd inputs."""
    from depthgauge.endpoint.probe import probe as run_probe
    from depthgauge.endpoint.spec import EXAMPLE, load_spec

    if example:
        print(EXAMPLE, end="")
        return
    if spec is None:
        raise DepthgaugeError("Give the endpoint spec: depthgauge probe vendor.yaml (depthgauge probe --example "
                              "prints one to copy).")
    try:
        wanted = tuple(int(x) for x in levels.split(",") if x.strip())
    except ValueError:
        raise DepthgaugeError(f"--levels takes whole numbers separated by commas, e.g. 1,4,8; not {levels!r}.") from None
    endpoint = load_spec(spec)
    rows = [endpoint.example] if endpoint.example else []
    if data is not None:
        from depthgauge.data.load import load_table
        from depthgauge.endpoint.spec import check_columns

        table = load_table(data)
        check_columns(endpoint, [str(c) for c in table.columns], None)
        rows = table[endpoint.columns].head(200).to_dict("records")
    elif rows:
        missing = [c for c in endpoint.columns if c not in rows[0]]
        if missing:
            raise DepthgaugeError(f"{spec}: the example row lacks '{missing[0]}', which the request template reads. "
                                  "Add it to `example:`, or pass --data.")
    with stderr_console().status("Probing") as status:
        report = run_probe(endpoint, rows, wanted, requests, on_progress=lambda text: status.update(f"Probing: {text}"))
    if json_output:
        print_json(report)
        return
    out = Console(width=max(Console().width, 110))
    table = Table(title=f"{endpoint.name}: load ({endpoint.url})")
    for col in ("concurrent", "calls", "answered", "errors", "p50 ms", "p90 ms", "p99 ms", "max ms", "calls/s"):
        table.add_column(col, justify="right")
    for level in report["levels"]:
        lat = level["latency_ms"]
        errors = ", ".join(f"{n} {k}" for k, n in sorted(level["errors"].items())) or "—"
        table.add_row(str(level["concurrency"]), str(level["requests"]), str(level["answered"]), errors, _ms(lat["p50"]),
                      _ms(lat["p90"]), _ms(lat["p99"]), _ms(lat["max"]),
                      "—" if level["throughput_per_s"] is None else f"{level['throughput_per_s']:.1f}")
    out.print(table)
    edges = Table(title="Odd inputs")
    for col in ("input", "behaviour", "HTTP", "what it means"):
        edges.add_column(col)
    for case in report["edge_cases"]:
        edges.add_row(case["case"], case["behaviour"], str(case["status_code"] or "—"), case["assessment"])
    out.print(edges)
    for finding in report["findings"]:
        out.print(f"• {finding}")
    out.print(f"{report['calls']} calls, about ${report['spent_usd']:.4f} at its price.")
