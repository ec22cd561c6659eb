"""generations.prompt_parent_id: the generation a prompt was edited from, so its versions can be listed

Revision ID: 0011
Revises: 0007

A plain indexed column, added in place (see the model for why it is not a foreign key).
"""
from alembic import op
import sqlalchemy as sa

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("generations", sa.Column("prompt_parent_id", sa.Integer(), nullable=True))
    op.create_index("ix_generations_prompt_parent_id", "generations", ["prompt_parent_id"])


def downgrade() -> None:
    op.drop_index("ix_generations_prompt_parent_id", table_name="generations")
    if op.get_bind().dialect.name == "sqlite":  # in place (SQLite 3.35+): a batch copy would cascade-delete the images
        op.execute("ALTER TABLE generations DROP COLUMN prompt_parent_id")
    else:
        op.drop_column("generations", "prompt_parent_id")
