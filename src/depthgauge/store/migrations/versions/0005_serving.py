"""serving: deployments, prediction log, reviews, feedback

Revision ID: 0005
Revises: 0004
"""
import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "deployments",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("model_name", sa.String(64), nullable=False, index=True),
        sa.Column("version_id", sa.String(32), sa.ForeignKey("model_versions.id"), nullable=False),
        sa.Column("ref", sa.String(80), nullable=False),
        sa.Column("active", sa.Boolean, nullable=False),
        sa.Column("deployed_by", sa.Text, nullable=False),
        sa.Column("deployed_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "prediction_log",
        sa.Column("request_id", sa.String(40), primary_key=True),
        sa.Column("model_name", sa.String(64), nullable=False, index=True),
        sa.Column("ref", sa.String(80), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False, index=True),
        sa.Column("inputs", sa.JSON, nullable=False),
        sa.Column("output", sa.JSON, nullable=False),
        sa.Column("confidence", sa.Float, nullable=True),
        sa.Column("latency_ms", sa.Float, nullable=False),
        sa.Column("review_status", sa.String(16), nullable=False),
    )
    op.create_table(
        "reviews",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("request_id", sa.String(40), nullable=False, index=True),
        sa.Column("model_name", sa.String(64), nullable=False, index=True),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("status", sa.String(16), nullable=False, index=True),
        sa.Column("label", sa.JSON, nullable=True),
        sa.Column("decided_by", sa.Text, nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "feedback",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("request_id", sa.String(40), nullable=False, index=True),
        sa.Column("label", sa.JSON, nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("given_by", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    for name in ("feedback", "reviews", "prediction_log", "deployments"):
        op.drop_table(name)
