"""model fields: gpt-image-2.6's complexity and a gif's frame_count on generations, by the API's names

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30 09:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("generations") as batch:
        batch.add_column(sa.Column("complexity", sa.String(length=8), nullable=True))
        batch.add_column(sa.Column("frame_count", sa.Integer(), nullable=True))


def downgrade() -> None:
    # In place, not a batch copy: on SQLite a copy loses the expression index of 0007 and, with foreign keys
    # on, dropping the old table would cascade-delete every image (SQLite 3.35+ drops a column in place).
    for name in ("frame_count", "complexity"):
        op.execute(f"ALTER TABLE generations DROP COLUMN {name}")
