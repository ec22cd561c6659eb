"""edits: endpoint, streaming and input_fidelity request fields, edit sources (lineage)

Revision ID: 0004
Revises: 0002
"""
from alembic import op
import sqlalchemy as sa


revision = "0004"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("generations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("stream", sa.Boolean(), nullable=True))
        batch_op.add_column(sa.Column("partial_images", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("input_fidelity", sa.String(length=8), nullable=True))
        # Existing rows are all generations; the server default fills them.
        batch_op.add_column(sa.Column("endpoint", sa.String(length=16), server_default="generations", nullable=False))

    op.create_table(
        "generation_sources",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("generation_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=8), nullable=False),
        sa.Column("image_id", sa.Integer(), nullable=True),
        sa.Column("filename", sa.String(length=255), nullable=True),
        sa.Column("path", sa.String(length=512), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("width", sa.Integer(), nullable=False),
        sa.Column("height", sa.Integer(), nullable=False),
        sa.Column("format", sa.String(length=8), nullable=False),
        sa.Column("bytes", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["generation_id"], ["generations.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["image_id"], ["images.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("generation_sources", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_generation_sources_generation_id"), ["generation_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_generation_sources_image_id"), ["image_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("generation_sources", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_generation_sources_image_id"))
        batch_op.drop_index(batch_op.f("ix_generation_sources_generation_id"))
    op.drop_table("generation_sources")
    with op.batch_alter_table("generations", schema=None) as batch_op:
        batch_op.drop_column("endpoint")
        batch_op.drop_column("input_fidelity")
        batch_op.drop_column("partial_images")
        batch_op.drop_column("stream")
