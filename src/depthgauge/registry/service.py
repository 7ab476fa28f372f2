"""Register, find, approve, promote, archive and delete model versions; every change is recorded with who did it."""

from __future__ import annotations

import difflib
import platform
import subprocess
from importlib import metadata
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from depthgauge.errors import DepthgaugeError, NotFound
from depthgauge.registry.refs import ModelRef, check_alias, check_name, parse_ref
from depthgauge.store.tables import (
    AssessmentRow,
    ModelAliasRow,
    ModelVersionRow,
    RegisteredModelRow,
    SettingRow,
    actor_of,
    utcnow,
)

REQUIRE_APPROVAL = "require_approval_for_production"
_PACKAGES = ("depthgauge", "torch", "lightgbm", "scikit-learn", "numpy", "pandas", "safetensors")


def package_versions() -> dict[str, str]:
    versions = {"python": platform.python_version()}
    for name in _PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def code_version() -> str:
    """Return the git commit of depthgauge's source when it runs from a checkout, else its release version."""
    from depthgauge.version import __version__

    source = Path(__file__).resolve().parent.parent
    try:
        commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=source, capture_output=True, text=True, timeout=5)
        if commit.returncode == 0:
            return f"git {commit.stdout.strip()}"
    except (OSError, subprocess.SubprocessError):
        pass
    return f"depthgauge {__version__}"


def _event(session: Session, name: str, version: int | None, action: str, note: str | None = None) -> None:
    from depthgauge.govern import audit

    obj = f"model:{name}" + (f":{version}" if version is not None else "")
    audit.record(session, actor_of(session), f"model.{action}", obj, {"version": version, "note": note})


def register_assessment(session: Session, assessment: AssessmentRow, name: str, schemas: dict[str, dict],
                        references: dict[str, dict] | None = None) -> list[ModelVersionRow]:
    """Register every trained candidate of `assessment` as a new version of `name`; `candidate` marks the recommended."""
    check_name(name)
    if session.get(RegisteredModelRow, name) is None:
        session.add(RegisteredModelRow(name=name))
        session.flush()
        _event(session, name, None, "create")
    lineage_common = {
        "dataset_fingerprint": assessment.dataset.fingerprint, "dataset_source": assessment.dataset.source,
        "split": assessment.split, "assessment_id": assessment.id, "target": assessment.target, "task": assessment.task,
        "primary_metric": assessment.primary_metric,
    }
    versions = []
    for run in sorted(assessment.runs, key=lambda r: r.created_at):
        if run.status != "ok" or run.artifact_digest is None:
            continue
        version = register_version(
            session, name, family=run.family, is_deep=run.is_deep, digest=run.artifact_digest,
            assessment_id=assessment.id, run_id=run.id,
            lineage={**lineage_common, "candidate": run.candidate, "params": run.params,
                     "seed": assessment.options.get("seed")},
            scorecard=run.scorecard["scorecard"], input_schema=schemas[run.candidate],
            reference=(references or {}).get(run.candidate), note=f"{run.candidate} from assessment {assessment.id}")
        versions.append(version)
        if run.id == assessment.recommended_run_id:
            _set_alias(session, name, "candidate", version)
    return versions


def register_version(session: Session, name: str, *, family: str, is_deep: bool, digest: str, lineage: dict,
                     scorecard: dict, input_schema: dict, reference: dict | None, assessment_id: str | None,
                     run_id: str | None = None, note: str | None = None) -> ModelVersionRow:
    """Add the next version of the registered model `name`; packages, code version and creator join the lineage."""
    latest = session.scalar(select(func.max(ModelVersionRow.version)).where(ModelVersionRow.model_name == name)) or 0
    lineage = {"packages": package_versions(), "code_version": code_version(), "created_by": actor_of(session),
               "created_at": utcnow().isoformat(), **lineage}
    version = ModelVersionRow(model_name=name, version=latest + 1, run_id=run_id, assessment_id=assessment_id,
                              family=family, is_deep=is_deep, status="active", artifact_digest=digest, lineage=lineage,
                              scorecard=scorecard, input_schema=input_schema, reference=reference)
    session.add(version)
    session.flush()
    _event(session, name, version.version, "register", note or lineage.get("retrained_from") and
           f"retrained from {lineage['retrained_from']}")
    return version


def _set_alias(session: Session, name: str, alias: str, version: ModelVersionRow) -> None:
    row = session.get(ModelAliasRow, (name, alias))
    if row is None:
        session.add(ModelAliasRow(model_name=name, alias=alias, version_id=version.id))
    else:
        row.version_id, row.updated_by, row.updated_at = version.id, actor_of(session), utcnow()
    _event(session, name, version.version, f"alias:{alias}")


def _model_names(session: Session) -> list[str]:
    return list(session.scalars(select(RegisteredModelRow.name)))


def resolve(session: Session, reference: str | ModelRef) -> ModelVersionRow:
    """Return the version `reference` names; a bare name means @production, else the latest version."""
    ref = parse_ref(reference) if isinstance(reference, str) else reference
    if session.get(RegisteredModelRow, ref.name) is None:
        names = _model_names(session)
        close = difflib.get_close_matches(ref.name, names, n=3, cutoff=0.5)
        hint = f" Did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
        known = f" Registered models: {', '.join(names)}." if names else \
            " No models are registered yet: run depthgauge assess DATA --target COL --name NAME."
        raise NotFound(f"Unknown model '{ref.name}'.{hint}{known}")
    versions = list(session.scalars(select(ModelVersionRow).where(ModelVersionRow.model_name == ref.name)
                                    .order_by(ModelVersionRow.version)))
    if ref.version is not None:
        for version in versions:
            if version.version == ref.version:
                return version
        raise NotFound(f"Model '{ref.name}' has no version {ref.version}. "
                              f"Versions: {', '.join(str(v.version) for v in versions) or 'none'}.")
    alias = ref.alias or ("production" if session.get(ModelAliasRow, (ref.name, "production")) else None)
    if alias is None:
        if not versions:
            raise NotFound(f"Model '{ref.name}' has no versions left.")
        return versions[-1]
    row = session.get(ModelAliasRow, (ref.name, alias))
    if row is None:
        set_aliases = [a.alias for a in session.scalars(select(ModelAliasRow).where(ModelAliasRow.model_name == ref.name))]
        raise NotFound(f"Model '{ref.name}' has no version marked @{alias}. "
                              f"Aliases set: {', '.join(set_aliases) or 'none'}. Promote one with: "
                              f"depthgauge models promote {ref.name}:VERSION --to {alias}")
    return session.get(ModelVersionRow, row.version_id)


def aliases_of(session: Session, version: ModelVersionRow) -> list[str]:
    return sorted(a.alias for a in session.scalars(select(ModelAliasRow).where(ModelAliasRow.version_id == version.id)))


def approval_required(session: Session) -> bool:
    row = session.get(SettingRow, REQUIRE_APPROVAL)
    return True if row is None else bool(row.value)


def set_approval_policy(session: Session, required: bool) -> None:
    row = session.get(SettingRow, REQUIRE_APPROVAL)
    if row is None:
        session.add(SettingRow(key=REQUIRE_APPROVAL, value=required))
    else:
        row.value, row.updated_by, row.updated_at = required, actor_of(session), utcnow()
    from depthgauge.govern import audit

    audit.record(session, actor_of(session), "settings.change", f"setting:{REQUIRE_APPROVAL}", {"value": required})


def approve(session: Session, reference: str, note: str) -> ModelVersionRow:
    if not note or not note.strip():
        raise DepthgaugeError("An approval needs a note saying why, e.g. --note \"reviewed scorecard and card, OK for launch\".")
    version = resolve(session, reference)
    if version.status == "archived":
        raise DepthgaugeError(f"{version.ref} is archived; archived versions cannot be approved.")
    version.approved_by, version.approved_at, version.approval_note = actor_of(session), utcnow(), note.strip()
    _event(session, version.model_name, version.version, "approve", note.strip())
    return version


def promote(session: Session, reference: str, alias: str = "production") -> ModelVersionRow:
    check_alias(alias)
    version = resolve(session, reference)
    if version.status == "archived":
        raise DepthgaugeError(f"{version.ref} is archived and cannot be promoted. Pick an active version.")
    if alias == "production" and approval_required(session) and version.approved_at is None:
        raise DepthgaugeError(
            f"{version.ref} is not approved, and this workspace requires approval before production. "
            f"Approve it first: depthgauge models approve {version.ref} --note \"why it is fit for production\"."
        )
    _set_alias(session, version.model_name, alias, version)
    return version


def _refuse_if_production(session: Session, version: ModelVersionRow, action: str) -> None:
    if "production" in aliases_of(session, version):
        raise DepthgaugeError(f"{version.ref} is @production and cannot be {action}. "
                              f"Promote another version to production first.")


def archive(session: Session, reference: str) -> ModelVersionRow:
    version = resolve(session, reference)
    _refuse_if_production(session, version, "archived")
    version.status = "archived"
    _event(session, version.model_name, version.version, "archive")
    return version


def delete(session: Session, reference: str) -> str:
    """Delete a version's record and its aliases; its content-addressed blobs stay (other versions may share them)."""
    version = resolve(session, reference)
    _refuse_if_production(session, version, "deleted")
    for alias in session.scalars(select(ModelAliasRow).where(ModelAliasRow.version_id == version.id)):
        session.delete(alias)
    ref = version.ref
    _event(session, version.model_name, version.version, "delete")
    session.delete(version)
    return ref


def list_models(session: Session) -> list[dict]:
    out = []
    for name in sorted(_model_names(session)):
        versions = list(session.scalars(select(ModelVersionRow).where(ModelVersionRow.model_name == name)
                                        .order_by(ModelVersionRow.version)))
        out.append({"name": name, "versions": [version_summary(session, v) for v in versions]})
    return out


def version_summary(session: Session, version: ModelVersionRow) -> dict:
    quality = version.scorecard.get("quality", {})
    metric = (version.lineage or {}).get("primary_metric")
    if metric in quality:  # the metric the verdict used comes first, as `models list` shows the first
        quality = {metric: quality[metric], **{k: v for k, v in quality.items() if k != metric}}
    cost = version.scorecard.get("cost") or {}
    return {
        "ref": version.ref, "version": version.version, "family": version.family, "deep": version.is_deep,
        "status": version.status, "aliases": aliases_of(session, version),
        "approved": version.approved_at is not None, "approved_by": version.approved_by,
        "primary_metric": metric, "quality": {k: v["value"] for k, v in quality.items()},
        "monthly_cost_usd": cost.get("monthly_total_usd"),
        "artifact_digest": version.artifact_digest, "created_by": version.created_by,
        "created_at": version.created_at.isoformat(),
    }


def version_detail(session: Session, version: ModelVersionRow) -> dict:
    from depthgauge.govern.audit import events_for

    events = [e for e in events_for(session, f"model:{version.model_name}")
              if e.object in (f"model:{version.model_name}", f"model:{version.model_name}:{version.version}")]
    return {**version_summary(session, version), "lineage": version.lineage, "scorecard": version.scorecard,
            "input_schema": version.input_schema, "approval_note": version.approval_note,
            "approved_at": version.approved_at.isoformat() if version.approved_at else None,
            "history": [{"version": e.details.get("version"), "action": e.action.removeprefix("model."),
                         "note": e.details.get("note"), "by": e.actor, "at": e.at} for e in events]}
