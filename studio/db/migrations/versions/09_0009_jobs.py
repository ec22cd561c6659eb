"""jobs: background generate / edit / compare requests, and the batch lines they came from

Revision ID: 0009
Revises: 0007
Create Date: 2026-11-30 09:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "jobs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("provider", sa.String(length=64), nullable=False),
        sa.Column("model", sa.String(length=128), nullable=False),
        sa.Column("request", sa.JSON(), nullable=False),
        sa.Column("worker", sa.String(length=128), nullable=True),
        sa.Column("generation_id", sa.Integer(), nullable=True),
        sa.Column("error_code", sa.String(length=64), nullable=True),
        sa.Column("error_message", sa.Text(), nullable=True),
        sa.Column("batch_key", sa.String(length=64), nullable=True),
        sa.Column("batch_file", sa.String(length=512), nullable=True),
        sa.Column("batch_line", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["generation_id"], ["generations.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_jobs_generation_id", "jobs", ["generation_id"], unique=False)
    op.create_index("ix_jobs_batch_key", "jobs", ["batch_key"], unique=False)
    op.create_index("ix_jobs_status_id", "jobs", ["status", "id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_jobs_status_id", table_name="jobs")
    op.drop_index("ix_jobs_batch_key", table_name="jobs")
    op.drop_index("ix_jobs_generation_id", table_name="jobs")
    op.drop_table("jobs")
