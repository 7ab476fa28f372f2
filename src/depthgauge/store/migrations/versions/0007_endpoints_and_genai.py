"""vendor endpoints and generative features: the endpoint response cache, groundedness evaluations and their
claims, and a kind on reviews (a served prediction, or a claim of a generated answer)

Revision ID: 0007
Revises: 0006
"""
import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "endpoint_responses",
        sa.Column("request_hash", sa.String(64), primary_key=True),
        sa.Column("endpoint", sa.String(128), nullable=False),
        sa.Column("response", sa.JSON, nullable=False),
        sa.Column("latency_ms", sa.Float, nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "genai_evaluations",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("feature", sa.String(64), nullable=False),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("threshold", sa.Float, nullable=False),
        sa.Column("calibration", sa.JSON, nullable=False),
        sa.Column("summary", sa.JSON, nullable=False),
        sa.Column("created_by", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_genai_evaluations_feature_created", "genai_evaluations", ["feature", "created_at"])
    op.create_table(
        "genai_claims",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("evaluation_id", sa.String(32), sa.ForeignKey("genai_evaluations.id"), nullable=False, index=True),
        sa.Column("answer_index", sa.Integer, nullable=False),
        sa.Column("sentence_index", sa.Integer, nullable=False),
        sa.Column("question", sa.Text, nullable=False),
        sa.Column("sentence", sa.Text, nullable=False),
        sa.Column("evidence", sa.Text, nullable=False),
        sa.Column("score", sa.Float, nullable=False),
        sa.Column("semantic", sa.Float, nullable=False),
        sa.Column("lexical", sa.Float, nullable=False),
        sa.Column("supported", sa.Boolean, nullable=False),
        sa.Column("label", sa.Boolean, nullable=True),
    )
    with op.batch_alter_table("reviews") as batch:
        batch.add_column(sa.Column("kind", sa.String(16), nullable=False, server_default="prediction"))


def downgrade() -> None:
    with op.batch_alter_table("reviews") as batch:
        batch.drop_column("kind")
    op.drop_table("genai_claims")
    op.drop_index("ix_genai_evaluations_feature_created", table_name="genai_evaluations")
    op.drop_table("genai_evaluations")
    op.drop_table("endpoint_responses")
