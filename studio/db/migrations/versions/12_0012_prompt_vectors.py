"""prompt vectors: what each generation's prompt and revised prompts mean, for search by meaning

Revision ID: 0012
Revises: 0007
Create Date: 2026-11-30 09:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Old rows get their vectors from the backfill (studio/services/meaning.py), in the background.
    op.create_table(
        "prompt_vectors",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("generation_id", sa.Integer(), nullable=False),
        sa.Column("model", sa.String(length=64), nullable=False),
        sa.Column("ordinal", sa.Integer(), nullable=False),
        sa.Column("field", sa.String(length=16), nullable=False),
        sa.Column("vector", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(["generation_id"], ["generations.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("generation_id", "model", "ordinal", name="uq_prompt_vectors_generation_model_ordinal"),
    )
    op.create_index("ix_prompt_vectors_model_id", "prompt_vectors", ["model", "id"], unique=False)


def downgrade() -> None:
    op.drop_table("prompt_vectors")
