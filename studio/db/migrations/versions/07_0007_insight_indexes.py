"""insight indexes: the latency ranking reads succeeded rows in model × quality × size × latency order

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03 10:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # The expressions are db/insights.py's QUALITY and SIZE, written the same way so a planner matches them.
    # Partial: only succeeded rows with a time, so queries filtering on `status = ?` keep their plans.
    where = sa.text("status = 'succeeded' AND latency_s IS NOT NULL")
    op.create_index("ix_generations_latency_rank", "generations",
                    ["status", "model", sa.text("coalesce(response_quality, quality, 'auto')"),
                     sa.text("coalesce(response_size, size, 'auto')"), "latency_s"], unique=False,
                    sqlite_where=where, postgresql_where=where)


def downgrade() -> None:
    op.drop_index("ix_generations_latency_rank", table_name="generations")
