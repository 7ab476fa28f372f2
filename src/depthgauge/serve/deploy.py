"""Which version serves each model name: deploy (a version or alias), roll back to the previous one, with history."""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from depthgauge.errors import DepthgaugeError
from depthgauge.govern import audit
from depthgauge.registry.service import resolve
from depthgauge.serve.predict import RULE_OPS
from depthgauge.store.tables import DeploymentRow, RegisteredModelRow, SettingRow, actor_of, utcnow

DEFAULT_REVIEW = {"confidence_threshold": 0.6, "rules": [], "redact": [], "batching": None}


def _full_ref(name: str, ref: str) -> str:
    """Accept `churn:3`, `churn@production`, `3` or `production` for the model `name`."""
    if ":" in ref or "@" in ref:
        if ref.split(":")[0].split("@")[0] != name:
            raise DepthgaugeError(f"'{ref}' names another model than '{name}'.")
        return ref
    return f"{name}:{ref}" if ref.isdigit() else f"{name}@{ref}"


def check_review_policy(policy: dict | None, columns: list[str] | None = None) -> dict:
    """Return the serving policy (review threshold, review rules, columns to redact), checked."""
    policy = {**DEFAULT_REVIEW, **(policy or {})}
    unknown = set(policy) - set(DEFAULT_REVIEW)
    if unknown:
        raise DepthgaugeError(f"Unknown review setting '{sorted(unknown)[0]}'. Settings: {', '.join(DEFAULT_REVIEW)}.")
    batching = policy["batching"]
    if batching not in (None, False) and not (
            isinstance(batching, dict) and set(batching) <= {"max_wait_ms", "max_rows"}
            and 0 < float(batching.get("max_wait_ms", 2)) <= 100 and 1 <= int(batching.get("max_rows", 128)) <= 10_000):
        raise DepthgaugeError("review.batching must be false or {max_wait_ms: 0-100, max_rows: 1-10000}, "
                              f"got {batching!r}.")
    if not isinstance(policy["redact"], list) or (columns is not None and set(policy["redact"]) - set(columns)):
        raise DepthgaugeError(f"review.redact must list input columns of the model ({', '.join(columns or [])}); "
                              f"got {policy['redact']!r}.")
    threshold = policy["confidence_threshold"]
    if not isinstance(threshold, (int, float)) or not 0 <= threshold <= 1:
        raise DepthgaugeError(f"review.confidence_threshold must be between 0 and 1, not {threshold!r}.")
    for rule in policy["rules"]:
        if not isinstance(rule, dict) or set(rule) != {"column", "op", "value"} or rule["op"] not in RULE_OPS:
            raise DepthgaugeError(f"Review rule {rule!r} must be {{column, op, value}} with op one of "
                                  f"{', '.join(RULE_OPS)}.")
    return policy


def deploy(session: Session, name: str, ref: str, review: dict | None = None, action: str = "deploy") -> DeploymentRow:
    """Make `ref` the version that serves `name`, recording who did it; return the new deployment."""
    version = resolve(session, _full_ref(name, ref))
    # Deploys of one model are serialized (a row lock on PostgreSQL), so two servers never leave two active ones.
    session.execute(select(RegisteredModelRow).where(RegisteredModelRow.name == version.model_name).with_for_update())
    if version.status == "archived":
        raise DepthgaugeError(f"{version.ref} is archived and cannot be deployed.")
    columns = [c["name"] for c in version.input_schema["columns"]]
    policy = check_review_policy(review if review is not None else _policy(session, name), columns)
    if policy["batching"] is None:  # adaptive micro-batching adds no latency when idle, so it is on by default
        from depthgauge.serve.batching import DEFAULT

        policy["batching"] = dict(DEFAULT)
    # One statement, so it also retires a deployment another process committed a moment ago.
    session.execute(update(DeploymentRow).where(DeploymentRow.model_name == name, DeploymentRow.active.is_(True))
                    .values(active=False).execution_options(synchronize_session=False))
    session.expire_all()
    deployment = DeploymentRow(model_name=name, version_id=version.id, ref=version.ref, active=True)
    session.add(deployment)
    key = f"review_policy:{name}"
    setting = session.get(SettingRow, key)
    if setting is None:
        session.add(SettingRow(key=key, value=policy))
    else:
        setting.value, setting.updated_by, setting.updated_at = policy, actor_of(session), utcnow()
    session.flush()
    audit.record(session, actor_of(session), f"model.{action}", f"deployment:{name}", {"ref": version.ref, "review": policy})
    return deployment


def _policy(session: Session, name: str) -> dict:
    setting = session.get(SettingRow, f"review_policy:{name}")
    return setting.value if setting is not None else dict(DEFAULT_REVIEW)


def review_policy(session: Session, name: str) -> dict:
    return _policy(session, name)


def rollback(session: Session, name: str) -> DeploymentRow:
    """Deploy again the version that served before the current one."""
    history = list(session.scalars(select(DeploymentRow).where(DeploymentRow.model_name == name)
                                   .order_by(DeploymentRow.deployed_at.desc())))
    if not history or not history[0].active:
        raise DepthgaugeError(f"Model '{name}' is not deployed, so there is nothing to roll back.")
    current = history[0]
    previous = next((d for d in history[1:] if d.version_id != current.version_id), None)
    if previous is None:
        raise DepthgaugeError(f"Model '{name}' has no earlier deployed version to roll back to.")
    return deploy(session, name, previous.ref, action="rollback")


def active_deployment(session: Session, name: str) -> DeploymentRow | None:
    """Return the deployment now serving `name`, or None."""
    return session.scalars(select(DeploymentRow).where(DeploymentRow.model_name == name,
                                                       DeploymentRow.active.is_(True))).first()


def active_deployments(session: Session) -> list[DeploymentRow]:
    return list(session.scalars(select(DeploymentRow).where(DeploymentRow.active).order_by(DeploymentRow.model_name)))


def history(session: Session, name: str, limit: int = 20) -> list[dict]:
    rows = session.scalars(select(DeploymentRow).where(DeploymentRow.model_name == name)
                           .order_by(DeploymentRow.deployed_at.desc()).limit(limit))
    return [{"ref": d.ref, "active": d.active, "deployed_by": d.deployed_by, "deployed_at": d.deployed_at.isoformat()}
            for d in rows]
