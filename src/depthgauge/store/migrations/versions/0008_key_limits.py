"""per-key limits: a request rate and a daily prediction quota on each API key (none by default)

Revision ID: 0008
Revises: 0007
"""
import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("api_keys") as table:
        table.add_column(sa.Column("rate_per_s", sa.Float, nullable=True))
        table.add_column(sa.Column("quota_per_day", sa.BigInteger, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("api_keys") as table:
        table.drop_column("quota_per_day")
        table.drop_column("rate_per_s")
