"""images sort key: each image carries its generation's created_at, so favourites are read in sort order

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-30 11:30:00

The Gallery sorts by (generations.created_at, generation id, batch index). "Favourites first" and the
favourites filter read the favourite images first, and those live on `images`: without the sort key there,
no index gave them in order, so a page walked the whole gallery's sort index to find one favourite in 50,
or fetched every favourite and sorted them (50-1,300 ms at 1,000,000 images, issue 11).
`images.generation_created_at` is a copy of the generation's `created_at`, kept by triggers on both tables
(so every writer is covered: the studio's commits, imports, the benches' bulk inserts), and
`ix_images_favourite_sort` gives the favourites newest or oldest first.
"""
from alembic import op
import sqlalchemy as sa


revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

SORT_INDEX = ["favourite", "generation_created_at", "generation_id", "batch_index"]

_COPY = "(SELECT created_at FROM generations WHERE generations.id = images.generation_id)"
SQLITE_UP = [
    # SQLite cannot set NEW in a BEFORE trigger: the new row is updated right after its insert. The FTS
    # triggers on images watch revised_prompt only, so this update does not touch the full-text index.
    f"""CREATE TRIGGER images_sort_key_insert AFTER INSERT ON images BEGIN
          UPDATE images SET generation_created_at = {_COPY} WHERE id = new.id; END""",
    f"""CREATE TRIGGER images_sort_key_move AFTER UPDATE OF generation_id, generation_created_at ON images BEGIN
          UPDATE images SET generation_created_at = {_COPY}
          WHERE id = new.id AND generation_created_at IS NOT {_COPY}; END""",
    """CREATE TRIGGER images_sort_key_follow AFTER UPDATE OF created_at ON generations BEGIN
          UPDATE images SET generation_created_at = new.created_at WHERE generation_id = new.id; END""",
]
SQLITE_DOWN = [f"DROP TRIGGER IF EXISTS images_sort_key_{name}" for name in ("insert", "move", "follow")]
POSTGRES_UP = [
    """CREATE FUNCTION studio_images_sort_key() RETURNS trigger LANGUAGE plpgsql AS $$
         BEGIN
           NEW.generation_created_at := (SELECT created_at FROM generations WHERE id = NEW.generation_id);
           RETURN NEW;
         END $$""",
    """CREATE TRIGGER images_sort_key BEFORE INSERT OR UPDATE OF generation_id, generation_created_at ON images
         FOR EACH ROW EXECUTE FUNCTION studio_images_sort_key()""",
    """CREATE FUNCTION studio_images_sort_key_follow() RETURNS trigger LANGUAGE plpgsql AS $$
         BEGIN
           UPDATE images SET generation_created_at = NEW.created_at WHERE generation_id = NEW.id;
           RETURN NULL;
         END $$""",
    """CREATE TRIGGER images_sort_key_follow AFTER UPDATE OF created_at ON generations
         FOR EACH ROW WHEN (OLD.created_at IS DISTINCT FROM NEW.created_at) EXECUTE FUNCTION studio_images_sort_key_follow()""",
]
POSTGRES_DOWN = [
    "DROP TRIGGER IF EXISTS images_sort_key_follow ON generations",
    "DROP TRIGGER IF EXISTS images_sort_key ON images",
    "DROP FUNCTION IF EXISTS studio_images_sort_key_follow()",
    "DROP FUNCTION IF EXISTS studio_images_sort_key()",
]


def upgrade() -> None:
    op.add_column("images", sa.Column("generation_created_at", sa.DateTime(timezone=True), nullable=True))
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.execute("UPDATE images SET generation_created_at = generations.created_at FROM generations "
                   "WHERE generations.id = images.generation_id")
    else:
        op.execute(f"UPDATE images SET generation_created_at = {_COPY}")
    op.create_index("ix_images_favourite_sort", "images", SORT_INDEX, unique=False)
    for statement in SQLITE_UP if dialect == "sqlite" else POSTGRES_UP if dialect == "postgresql" else []:
        op.execute(statement)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    for statement in SQLITE_DOWN if dialect == "sqlite" else POSTGRES_DOWN if dialect == "postgresql" else []:
        op.execute(statement)
    op.drop_index("ix_images_favourite_sort", table_name="images")
    op.drop_column("images", "generation_created_at")  # in place on SQLite (3.35+): no table copy
