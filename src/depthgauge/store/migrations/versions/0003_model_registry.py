"""model registry: names, versions, aliases, workspace settings

Revision ID: 0003
Revises: 0002
"""
import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "registered_models",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("created_by", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "model_versions",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("model_name", sa.String(64), sa.ForeignKey("registered_models.name"), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("run_id", sa.String(32), sa.ForeignKey("runs.id"), nullable=True),
        sa.Column("assessment_id", sa.String(32), nullable=True),
        sa.Column("family", sa.String(32), nullable=False),
        sa.Column("is_deep", sa.Boolean, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("artifact_digest", sa.String(64), nullable=False),
        sa.Column("lineage", sa.JSON, nullable=False),
        sa.Column("scorecard", sa.JSON, nullable=False),
        sa.Column("input_schema", sa.JSON, nullable=False),
        sa.Column("approved_by", sa.Text, nullable=True),
        sa.Column("approved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("approval_note", sa.Text, nullable=True),
        sa.Column("created_by", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("model_name", "version", name="uq_model_version"),
    )
    op.create_table(
        "model_aliases",
        sa.Column("model_name", sa.String(64), sa.ForeignKey("registered_models.name"), primary_key=True),
        sa.Column("alias", sa.String(32), primary_key=True),
        sa.Column("version_id", sa.String(32), sa.ForeignKey("model_versions.id"), nullable=False),
        sa.Column("updated_by", sa.Text, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "settings",
        sa.Column("key", sa.String(64), primary_key=True),
        sa.Column("value", sa.JSON, nullable=False),
        sa.Column("updated_by", sa.Text, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    for name in ("settings", "model_aliases", "model_versions", "registered_models"):
        op.drop_table(name)
