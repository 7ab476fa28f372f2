"""Shared rendering helpers for the CLI."""

from __future__ import annotations

import json

from rich.console import Console

from depthgauge.store.jsonable import json_ready


def print_json(data) -> None:
    print(json.dumps(json_ready(data), indent=2, default=str))


def stderr_console() -> Console:
    return Console(stderr=True)
