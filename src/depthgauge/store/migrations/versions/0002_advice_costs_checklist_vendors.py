"""advice, cost projections, checklist marks and vendor scorecards

Revision ID: 0002
Revises: 0001
"""
import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def _record(name: str, *extra: sa.Column) -> None:
    op.create_table(
        name,
        sa.Column("id", sa.String(32), primary_key=True),
        *extra,
        sa.Column("created_by", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, index=True),
    )


def upgrade() -> None:
    _record("advice", sa.Column("approach", sa.String(32), nullable=False), sa.Column("answers", sa.JSON, nullable=False),
            sa.Column("result", sa.JSON, nullable=False))
    _record("cost_projections", sa.Column("assessment_id", sa.String(32), nullable=True),
            sa.Column("result", sa.JSON, nullable=False), sa.Column("report_path", sa.Text, nullable=True))
    _record("checklist_marks", sa.Column("item", sa.String(64), nullable=False, index=True),
            sa.Column("status", sa.String(16), nullable=False), sa.Column("evidence", sa.Text, nullable=False))
    _record("vendor_scorecards", sa.Column("source", sa.Text, nullable=False), sa.Column("result", sa.JSON, nullable=False),
            sa.Column("report_path", sa.Text, nullable=True))


def downgrade() -> None:
    for name in ("vendor_scorecards", "checklist_marks", "cost_projections", "advice"):
        op.drop_table(name)
