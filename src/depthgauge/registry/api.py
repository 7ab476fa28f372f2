"""The registry over a workspace: each call opens it, does one thing in one transaction, and closes it."""

from __future__ import annotations

import os
from pathlib import Path

from depthgauge.errors import DepthgaugeError
from depthgauge.registry import service


def existing_workspace(home):
    """The workspace at `home`, opened; a clear error when there is none (a command that reads must not create one)."""
    from depthgauge.workspace import Workspace, resolve_home

    root = resolve_home(home)
    if not (root / "depthgauge.db").exists() and not os.environ.get("DEPTHGAUGE_DB_URL"):
        raise DepthgaugeError(f"No workspace at {root}. Register models with: depthgauge assess DATA --target COL --name NAME")
    return Workspace.open(root)


def list_models(home=None) -> list[dict]:
    with existing_workspace(home) as workspace, workspace.session() as session:
        return service.list_models(session)


def show(reference: str, home=None) -> dict:
    with existing_workspace(home) as workspace, workspace.session() as session:
        return service.version_detail(session, service.resolve(session, reference))


def _change(home, action) -> dict:
    with existing_workspace(home) as workspace, workspace.transaction() as session:
        version = action(session)
        session.flush()
        return service.version_summary(session, version)


def approve(reference: str, note: str, home=None) -> dict:
    return _change(home, lambda s: service.approve(s, reference, note))


def promote(reference: str, alias: str = "production", home=None) -> dict:
    return _change(home, lambda s: service.promote(s, reference, alias))


def archive(reference: str, home=None) -> dict:
    return _change(home, lambda s: service.archive(s, reference))


def delete(reference: str, home=None) -> str:
    with existing_workspace(home) as workspace, workspace.transaction() as session:
        return service.delete(session, reference)


def set_policy(require_approval: bool, home=None) -> bool:
    with existing_workspace(home) as workspace, workspace.transaction() as session:
        service.set_approval_policy(session, require_approval)
    return require_approval


def write_model_card(reference: str, home=None, out: str | os.PathLike | None = None) -> tuple[Path, Path]:
    """Write the version's card as Markdown and HTML (into `out`, or the workspace's cards folder)."""
    from depthgauge.govern.checklist import build_checklist
    from depthgauge.registry.card import card_sections, write_card

    with existing_workspace(home) as workspace, workspace.session() as session:
        version = service.resolve(session, reference)
        items = build_checklist(session, version.assessment_id)
        title, sections = card_sections(session, version, items)
        folder = Path(out) if out is not None else workspace.home / "cards"
        return write_card(folder, version, title, sections)
