"""arena votes: blind choices between two tiers of one prompt

Revision ID: 0006
Revises: 0003
Create Date: 2026-12-02 10:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = "0006"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "arena_votes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("group_id", sa.Integer(), nullable=True),
        sa.Column("choice", sa.String(length=8), nullable=False),
        sa.Column("left_image_id", sa.Integer(), nullable=True),
        sa.Column("left_model", sa.String(length=128), nullable=False),
        sa.Column("left_quality", sa.String(length=16), nullable=False),
        sa.Column("left_size", sa.String(length=16), nullable=True),
        sa.Column("right_image_id", sa.Integer(), nullable=True),
        sa.Column("right_model", sa.String(length=128), nullable=False),
        sa.Column("right_quality", sa.String(length=16), nullable=False),
        sa.Column("right_size", sa.String(length=16), nullable=True),
        sa.ForeignKeyConstraint(["group_id"], ["compare_groups.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["left_image_id"], ["images.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["right_image_id"], ["images.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_arena_votes_created_at", "arena_votes", ["created_at"], unique=False)
    op.create_index("ix_arena_votes_group_id", "arena_votes", ["group_id"], unique=False)
    op.create_index("ix_arena_votes_left_image_id", "arena_votes", ["left_image_id"], unique=False)
    op.create_index("ix_arena_votes_right_image_id", "arena_votes", ["right_image_id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_arena_votes_right_image_id", table_name="arena_votes")
    op.drop_index("ix_arena_votes_left_image_id", table_name="arena_votes")
    op.drop_index("ix_arena_votes_group_id", table_name="arena_votes")
    op.drop_index("ix_arena_votes_created_at", table_name="arena_votes")
    op.drop_table("arena_votes")
