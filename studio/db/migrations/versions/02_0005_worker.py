"""generations.worker: which process sent a pending request, so a crashed one can be settled

Revision ID: 0005
Revises: 0001
"""
from alembic import op
import sqlalchemy as sa

revision = "0005"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("generations") as batch_op:
        batch_op.add_column(sa.Column("worker", sa.String(length=128), nullable=True))
        batch_op.create_index("ix_generations_status", ["status"])


def downgrade() -> None:
    with op.batch_alter_table("generations") as batch_op:
        batch_op.drop_index("ix_generations_status")
        batch_op.drop_column("worker")
