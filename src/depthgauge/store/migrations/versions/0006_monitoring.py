"""monitoring: reference profiles on model versions, log profiles, alerts, serving request counts

Revision ID: 0006
Revises: 0005
"""
import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("model_versions", sa.Column("reference", sa.JSON, nullable=True))
    op.create_index("ix_prediction_log_ref_at", "prediction_log", ["ref", "at"])
    op.create_table(
        "log_profiles",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("ref", sa.String(80), nullable=False),
        sa.Column("first_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("first_request_id", sa.String(40), nullable=False),
        sa.Column("last_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_request_id", sa.String(40), nullable=False),
        sa.Column("rows", sa.Integer, nullable=False),
        sa.Column("profile", sa.JSON, nullable=False),
        sa.UniqueConstraint("ref", "first_at", "first_request_id", name="uq_log_profiles_start"),
    )
    op.create_index("ix_log_profiles_ref_last_at", "log_profiles", ["ref", "last_at"])
    op.create_table(
        "monitor_snapshots",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("model_name", sa.String(64), nullable=False),
        sa.Column("ref", sa.String(80), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("report", sa.JSON, nullable=False),
    )
    op.create_index("ix_monitor_snapshots_model_at", "monitor_snapshots", ["model_name", "at"])
    op.create_table(
        "alerts",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("model_name", sa.String(64), nullable=False, index=True),
        sa.Column("ref", sa.String(80), nullable=False),
        sa.Column("rule", sa.String(64), nullable=False),
        sa.Column("metric", sa.String(64), nullable=False),
        sa.Column("comparison", sa.String(4), nullable=False),
        sa.Column("threshold", sa.Float, nullable=False),
        sa.Column("value", sa.Float, nullable=False),
        sa.Column("severity", sa.String(16), nullable=False),
        sa.Column("message", sa.Text, nullable=False),
        sa.Column("status", sa.String(16), nullable=False, index=True),
        sa.Column("fired_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("delivery", sa.String(16), nullable=False),
        sa.Column("delivery_attempts", sa.Integer, nullable=False),
        sa.Column("delivery_error", sa.Text, nullable=True),
    )
    op.create_table(
        "serving_counts",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("model_name", sa.String(64), nullable=False, index=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False, index=True),
        sa.Column("requests", sa.Integer, nullable=False),
        sa.Column("client_errors", sa.Integer, nullable=False),
        sa.Column("server_errors", sa.Integer, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("serving_counts")
    op.drop_table("alerts")
    op.drop_table("monitor_snapshots")
    op.drop_table("log_profiles")
    op.drop_index("ix_prediction_log_ref_at", "prediction_log")
    with op.batch_alter_table("model_versions") as batch:
        batch.drop_column("reference")
