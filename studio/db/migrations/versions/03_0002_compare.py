"""compare groups and cells

Revision ID: 0002
Revises: 0005
Create Date: 2026-11-24 06:40:00
"""
from alembic import op
import sqlalchemy as sa


revision = "0002"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "compare_groups",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("prompt", sa.Text(), nullable=False),
        sa.Column("model", sa.String(length=128), nullable=False),
        sa.Column("axis", sa.String(length=32), nullable=True),
        sa.Column("request", sa.JSON(), nullable=False),
        sa.Column("winner_position", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_compare_groups_created_at", "compare_groups", ["created_at"], unique=False)
    op.create_table(
        "compare_cells",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("quality", sa.String(length=16), nullable=False),
        sa.Column("axis_value", sa.String(length=128), nullable=True),
        sa.Column("generation_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["group_id"], ["compare_groups.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["generation_id"], ["generations.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("group_id", "position", name="uq_compare_cells_group_position"),
    )
    op.create_index("ix_compare_cells_group_id", "compare_cells", ["group_id"], unique=False)
    op.create_index("ix_compare_cells_generation_id", "compare_cells", ["generation_id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_compare_cells_generation_id", table_name="compare_cells")
    op.drop_index("ix_compare_cells_group_id", table_name="compare_cells")
    op.drop_table("compare_cells")
    op.drop_index("ix_compare_groups_created_at", table_name="compare_groups")
    op.drop_table("compare_groups")
