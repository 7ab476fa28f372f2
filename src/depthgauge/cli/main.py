"""The `depthgauge` command: the root app, the shared --home option, and user errors without tracebacks."""

from __future__ import annotations

import sys
from typing import Optional

import typer

from depthgauge.errors import DepthgaugeError

app = typer.Typer(
    help="depthgauge: find out, on your own data, whether deep learning is worth it — then run whichever model wins.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


def _print_version(wanted: bool) -> None:
    if wanted:
        from depthgauge.version import __version__

        typer.echo(f"depthgauge {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    ctx: typer.Context,
    home: Optional[str] = typer.Option(None, "--home", help="Workspace folder (default: $DEPTHGAUGE_HOME or ./.depthgauge)."),
    version: bool = typer.Option(False, "--version", callback=_print_version, is_eager=True,
                                 help="Print the version and exit."),
):
    ctx.obj = {"home": home}


def _register() -> None:
    from depthgauge.cli import advise, assess, cost, genai, govern, keys, logs, models, monitor, probe, serve, workspace  # noqa: F401


def run() -> None:
    """Entry point: run the app; print user errors in one line, without a traceback, and exit 2."""
    _register()
    try:
        app()
    except DepthgaugeError as exc:
        typer.secho(f"Error: {exc}", err=True, fg=typer.colors.RED)
        sys.exit(2)
