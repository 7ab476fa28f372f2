"""dashboard sessions kept server-side, so signing out (or revoking the key) ends them on every server; and the key
each prediction was made with, so feedback on it is taken only from that key or a labeller

Revision ID: 0010
Revises: 0009
"""
import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "dashboard_sessions",
        sa.Column("token_hash", sa.String(64), primary_key=True),
        sa.Column("key_id", sa.String(32), sa.ForeignKey("api_keys.id"), nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("csrf", sa.String(64), nullable=False),
        sa.Column("expires", sa.Float, nullable=False),
        sa.Column("ended", sa.Boolean, nullable=False),
    )
    op.add_column("prediction_log", sa.Column("key_id", sa.String(32), nullable=True))
    op.create_index("ix_prediction_log_key_at", "prediction_log", ["key_id", "at"])


def downgrade() -> None:
    op.drop_index("ix_prediction_log_key_at", "prediction_log")
    with op.batch_alter_table("prediction_log") as table:
        table.drop_column("key_id")
    op.drop_table("dashboard_sessions")
