"""provider tasks: the task id (and where to poll it) of a request a provider runs asynchronously

A pending generation with a task id is polled again after a restart instead of being settled as
interrupted: the image was paid for and may still be waiting at the provider.

Revision ID: 0010
Revises: 0007
"""
from alembic import op
import sqlalchemy as sa

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("generations") as batch_op:
        batch_op.add_column(sa.Column("task_id", sa.String(length=128), nullable=True))
        batch_op.add_column(sa.Column("task_poll_path", sa.String(length=512), nullable=True))
        batch_op.add_column(sa.Column("task_status", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("task_submitted_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("task_expires_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    # In place, not a batch copy (see 08_0008): a copy would lose 0007's expression index and could
    # cascade-delete the images on SQLite.
    for name in ("task_expires_at", "task_submitted_at", "task_status", "task_poll_path", "task_id"):
        op.execute(f"ALTER TABLE generations DROP COLUMN {name}")
