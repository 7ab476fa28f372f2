"""The metadata tables, as SQLAlchemy 2 mapped classes (the schema itself is owned by the migrations)."""

from __future__ import annotations

import uuid
from datetime import datetime, timezone

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    event,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, relationship


def new_id() -> str:
    return uuid.uuid4().hex[:12]


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class Base(DeclarativeBase):
    pass


class DatasetRow(Base):
    __tablename__ = "datasets"
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    fingerprint: Mapped[str] = mapped_column(String(64), unique=True)
    source: Mapped[str] = mapped_column(Text)
    n_rows: Mapped[int] = mapped_column(Integer)
    n_columns: Mapped[int] = mapped_column(Integer)
    columns: Mapped[list] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class AssessmentRow(Base):
    __tablename__ = "assessments"
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    dataset_id: Mapped[str] = mapped_column(ForeignKey("datasets.id"))
    target: Mapped[str] = mapped_column(Text)
    task: Mapped[str] = mapped_column(String(16))
    primary_metric: Mapped[str] = mapped_column(String(32))
    options: Mapped[dict] = mapped_column(JSON)
    profile: Mapped[dict] = mapped_column(JSON)
    split: Mapped[dict] = mapped_column(JSON)
    verdict: Mapped[dict] = mapped_column(JSON)
    recommended_run_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    report_path: Mapped[str | None] = mapped_column(Text, nullable=True)
    duration_s: Mapped[float] = mapped_column(Float)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    dataset: Mapped[DatasetRow] = relationship()
    runs: Mapped[list["RunRow"]] = relationship(back_populates="assessment", cascade="all, delete-orphan")


class RunRow(Base):
    __tablename__ = "runs"
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    assessment_id: Mapped[str] = mapped_column(ForeignKey("assessments.id", ondelete="CASCADE"))
    candidate: Mapped[str] = mapped_column(String(64))
    family: Mapped[str] = mapped_column(String(32))
    is_deep: Mapped[bool] = mapped_column(Boolean)
    status: Mapped[str] = mapped_column(String(16))
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    params: Mapped[dict] = mapped_column(JSON)
    scorecard: Mapped[dict] = mapped_column(JSON)
    artifact_digest: Mapped[str | None] = mapped_column(String(64), nullable=True)
    fit_seconds: Mapped[float] = mapped_column(Float)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    assessment: Mapped[AssessmentRow] = relationship(back_populates="runs")


def current_user() -> str:
    """The person at this terminal: $DEPTHGAUGE_USER, else the login name. The actor of a unit of work opened
    without one (the CLI, the Python API); the server names its caller instead (`Workspace.transaction(actor=)`)."""
    import getpass
    import os

    try:
        return os.environ.get("DEPTHGAUGE_USER") or getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def actor_of(session) -> str:
    """Who acts in `session`'s unit of work: the actor it was opened for, else the person at this terminal."""
    return session.info.get("actor") or current_user()


_ACTOR_COLUMNS = ("created_by", "updated_by", "deployed_by", "given_by")


@event.listens_for(Session, "before_flush")
def _stamp_actor(session, _context, _instances) -> None:
    """Rows a unit of work adds carry its actor in their *_by column, unless the code set one."""
    actor = session.info.get("actor")
    if actor is None:
        return
    for row in session.new:
        for column in _ACTOR_COLUMNS:
            if hasattr(row, column) and getattr(row, column) is None:
                setattr(row, column, actor)


class _Record:
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    created_by: Mapped[str] = mapped_column(Text, default=current_user)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class AdviceRow(_Record, Base):
    __tablename__ = "advice"
    approach: Mapped[str] = mapped_column(String(32))
    answers: Mapped[dict] = mapped_column(JSON)
    result: Mapped[dict] = mapped_column(JSON)


class CostProjectionRow(_Record, Base):
    __tablename__ = "cost_projections"
    assessment_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    result: Mapped[dict] = mapped_column(JSON)
    report_path: Mapped[str | None] = mapped_column(Text, nullable=True)


class ChecklistMarkRow(_Record, Base):
    __tablename__ = "checklist_marks"
    item: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16))
    evidence: Mapped[str] = mapped_column(Text)


class VendorScorecardRow(_Record, Base):
    __tablename__ = "vendor_scorecards"
    source: Mapped[str] = mapped_column(Text)
    result: Mapped[dict] = mapped_column(JSON)
    report_path: Mapped[str | None] = mapped_column(Text, nullable=True)


class RegisteredModelRow(Base):
    __tablename__ = "registered_models"
    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    created_by: Mapped[str] = mapped_column(Text, default=current_user)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class ModelVersionRow(Base):
    __tablename__ = "model_versions"
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    model_name: Mapped[str] = mapped_column(ForeignKey("registered_models.name"))
    version: Mapped[int] = mapped_column(Integer)
    run_id: Mapped[str | None] = mapped_column(ForeignKey("runs.id"), nullable=True)
    assessment_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    family: Mapped[str] = mapped_column(String(32))
    is_deep: Mapped[bool] = mapped_column(Boolean)
    status: Mapped[str] = mapped_column(String(16), default="active")
    artifact_digest: Mapped[str] = mapped_column(String(64))
    lineage: Mapped[dict] = mapped_column(JSON)
    scorecard: Mapped[dict] = mapped_column(JSON)
    input_schema: Mapped[dict] = mapped_column(JSON)
    reference: Mapped[dict | None] = mapped_column(JSON, nullable=True)  # what monitoring compares live traffic with
    approved_by: Mapped[str | None] = mapped_column(Text, nullable=True)
    approved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    approval_note: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_by: Mapped[str] = mapped_column(Text, default=current_user)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    @property
    def ref(self) -> str:
        return f"{self.model_name}:{self.version}"


class ModelAliasRow(Base):
    __tablename__ = "model_aliases"
    model_name: Mapped[str] = mapped_column(ForeignKey("registered_models.name"), primary_key=True)
    alias: Mapped[str] = mapped_column(String(32), primary_key=True)
    version_id: Mapped[str] = mapped_column(ForeignKey("model_versions.id"))
    updated_by: Mapped[str] = mapped_column(Text, default=current_user)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class SettingRow(Base):
    __tablename__ = "settings"
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[object] = mapped_column(JSON)
    updated_by: Mapped[str] = mapped_column(Text, default=current_user)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class ApiKeyRow(Base):
    __tablename__ = "api_keys"
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(Text)
    role: Mapped[str] = mapped_column(String(16))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(16))
    created_by: Mapped[str] = mapped_column(Text, default=current_user)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    rate_per_s: Mapped[float | None] = mapped_column(Float, nullable=True)  # requests a second; None: no limit
    quota_per_day: Mapped[int | None] = mapped_column(BigInteger, nullable=True)  # rows predicted a UTC day


class KeyUsageRow(Base):
    """Predictions a key made on a UTC day, added to by every server of the workspace (its daily quota's count)."""
    __tablename__ = "key_usage"
    key_id: Mapped[str] = mapped_column(ForeignKey("api_keys.id"), primary_key=True)
    day: Mapped[str] = mapped_column(String(10), primary_key=True)
    predictions: Mapped[int] = mapped_column(BigInteger)


class DashboardSessionRow(Base):
    """A dashboard sign-in: the cookie holds a random token, and only its hash is stored; signing out ends it."""
    __tablename__ = "dashboard_sessions"
    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    key_id: Mapped[str] = mapped_column(ForeignKey("api_keys.id"))
    name: Mapped[str] = mapped_column(Text)
    role: Mapped[str] = mapped_column(String(16))
    csrf: Mapped[str] = mapped_column(String(64))
    expires: Mapped[float] = mapped_column(Float)
    ended: Mapped[bool] = mapped_column(Boolean)


class AuditEventRow(Base):
    __tablename__ = "audit_events"
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    at: Mapped[str] = mapped_column(String(40))
    actor: Mapped[str] = mapped_column(Text)
    action: Mapped[str] = mapped_column(String(48))
    object: Mapped[str] = mapped_column(Text)
    details: Mapped[dict] = mapped_column(JSON)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class AuditHeadRow(Base):
    __tablename__ = "audit_head"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    seq: Mapped[int] = mapped_column(Integer)
    hash: Mapped[str] = mapped_column(String(64))


class DeploymentRow(Base):
    __tablename__ = "deployments"
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    model_name: Mapped[str] = mapped_column(String(64))
    version_id: Mapped[str] = mapped_column(ForeignKey("model_versions.id"))
    ref: Mapped[str] = mapped_column(String(80))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    deployed_by: Mapped[str] = mapped_column(Text, default=current_user)
    deployed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class PredictionLogRow(Base):
    __tablename__ = "prediction_log"
    __table_args__ = (Index("ix_prediction_log_key_at", "key_id", "at"),)  # a key's predictions today: its quota
    request_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    model_name: Mapped[str] = mapped_column(String(64))
    ref: Mapped[str] = mapped_column(String(80))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    inputs: Mapped[dict] = mapped_column(JSON)
    output: Mapped[dict] = mapped_column(JSON)
    confidence: Mapped[float | None] = mapped_column(Float, nullable=True)
    latency_ms: Mapped[float] = mapped_column(Float)
    review_status: Mapped[str] = mapped_column(String(16))
    key_id: Mapped[str | None] = mapped_column(String(32), nullable=True)  # the key that asked (None: no auth)


class ReviewRow(Base):
    __tablename__ = "reviews"
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    request_id: Mapped[str] = mapped_column(String(40))
    model_name: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16), default="prediction")  # a served prediction, or a generated claim
    reason: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    label: Mapped[object | None] = mapped_column(JSON, nullable=True)
    decided_by: Mapped[str | None] = mapped_column(Text, nullable=True)
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class FeedbackRow(Base):
    __tablename__ = "feedback"
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    request_id: Mapped[str] = mapped_column(String(40))
    label: Mapped[object] = mapped_column(JSON)
    source: Mapped[str] = mapped_column(String(16))
    given_by: Mapped[str] = mapped_column(Text, default=current_user)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class LogProfileRow(Base):
    """Binned counts and samples of one contiguous stretch of a version's prediction log (see monitor/profiles.py)."""

    __tablename__ = "log_profiles"
    __table_args__ = (UniqueConstraint("ref", "first_at", "first_request_id", name="uq_log_profiles_start"),)
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    ref: Mapped[str] = mapped_column(String(80))
    first_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    first_request_id: Mapped[str] = mapped_column(String(40))
    last_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_request_id: Mapped[str] = mapped_column(String(40))
    rows: Mapped[int] = mapped_column(Integer)
    profile: Mapped[dict] = mapped_column(JSON)


class MonitorSnapshotRow(Base):
    """A monitoring report as a monitor run saw it: what the dashboard shows and draws trends from."""

    __tablename__ = "monitor_snapshots"
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    model_name: Mapped[str] = mapped_column(String(64))
    ref: Mapped[str] = mapped_column(String(80))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    report: Mapped[dict] = mapped_column(JSON)


class AlertRow(Base):
    __tablename__ = "alerts"
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    model_name: Mapped[str] = mapped_column(String(64))
    ref: Mapped[str] = mapped_column(String(80))
    rule: Mapped[str] = mapped_column(String(64))
    metric: Mapped[str] = mapped_column(String(64))
    comparison: Mapped[str] = mapped_column(String(4))
    threshold: Mapped[float] = mapped_column(Float)
    value: Mapped[float] = mapped_column(Float)
    severity: Mapped[str] = mapped_column(String(16))
    message: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="firing")  # firing, resolved
    fired_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    delivery: Mapped[str] = mapped_column(String(16), default="none")  # none, delivered, failed
    delivery_attempts: Mapped[int] = mapped_column(Integer, default=0)
    delivery_error: Mapped[str | None] = mapped_column(Text, nullable=True)


class ServingCountRow(Base):
    __tablename__ = "serving_counts"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    model_name: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    requests: Mapped[int] = mapped_column(Integer)
    client_errors: Mapped[int] = mapped_column(Integer)
    server_errors: Mapped[int] = mapped_column(Integer)


class EndpointResponseRow(Base):
    """A vendor endpoint's answer to one request, by the request's hash, so a resumed run never pays twice."""

    __tablename__ = "endpoint_responses"
    request_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    endpoint: Mapped[str] = mapped_column(String(128))
    response: Mapped[object] = mapped_column(JSON)
    latency_ms: Mapped[float] = mapped_column(Float)
    attempts: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class GenaiEvaluationRow(Base):
    __tablename__ = "genai_evaluations"
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    feature: Mapped[str] = mapped_column(String(64))
    source: Mapped[str] = mapped_column(Text)
    threshold: Mapped[float] = mapped_column(Float)
    calibration: Mapped[dict] = mapped_column(JSON)
    summary: Mapped[dict] = mapped_column(JSON)
    created_by: Mapped[str] = mapped_column(Text, default=current_user)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    claims: Mapped[list["GenaiClaimRow"]] = relationship(back_populates="evaluation", order_by="GenaiClaimRow.answer_index")


class GenaiClaimRow(Base):
    """One sentence of a generated answer, whether the contexts support it, and a reviewer's label when given."""

    __tablename__ = "genai_claims"
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    evaluation_id: Mapped[str] = mapped_column(ForeignKey("genai_evaluations.id"))
    answer_index: Mapped[int] = mapped_column(Integer)
    sentence_index: Mapped[int] = mapped_column(Integer)
    question: Mapped[str] = mapped_column(Text)
    sentence: Mapped[str] = mapped_column(Text)
    evidence: Mapped[str] = mapped_column(Text)
    score: Mapped[float] = mapped_column(Float)
    semantic: Mapped[float] = mapped_column(Float)
    lexical: Mapped[float] = mapped_column(Float)
    supported: Mapped[bool] = mapped_column(Boolean)
    label: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    evaluation: Mapped[GenaiEvaluationRow] = relationship(back_populates="claims")
