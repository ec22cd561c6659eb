"""favourites index: favourite images in sort order, and (SQLite) the words of the generations with one

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

A common word with favourites ("the", favourites first) is the one pair neither index answers alone: 500,000
matches and 20,000 favourites, maybe none in common, and reading either list whole is over 50 ms. On SQLite,
`favourites_fts` is a second FTS5 table (same tokenizer, rowid = generation id) holding only the generations
that have a favourite image, kept by triggers on images and generations; on PostgreSQL,
`generations.favourite_vector` is the generation's search_vector when it has a favourite image (else NULL)
with a partial GIN index (and 0013's facet index over those generations alone, for the equality filters among the
favourites). Either way "these words among the favourites" is one small full-text query. Like
generations_fts and search_vector, both are made here by hand, outside the models (db/engine.py include_name).
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

# The favourites' words (SQLite): a generation's row is written again whenever what it holds may change.
_REVISED = "(SELECT coalesce(group_concat(revised_prompt, ' '), '') FROM images WHERE generation_id = {gid})"


def _refresh(gid: str) -> str:
    return (f"DELETE FROM favourites_fts WHERE rowid = {gid}; "
            f"INSERT INTO favourites_fts(rowid, prompt, revised_prompt) SELECT id, prompt, {_REVISED.format(gid=gid)} "
            f"FROM generations WHERE id = {gid} AND EXISTS (SELECT 1 FROM images WHERE generation_id = {gid} AND favourite);")


_LISTED = "EXISTS (SELECT 1 FROM favourites_fts WHERE rowid = {gid})"
FAVOURITES_FTS_UP = [
    "CREATE VIRTUAL TABLE favourites_fts USING fts5(prompt, revised_prompt, tokenize = 'unicode61 remove_diacritics 2')",
    f"""INSERT INTO favourites_fts(rowid, prompt, revised_prompt) SELECT id, prompt, {_REVISED.format(gid="generations.id")}
          FROM generations WHERE id IN (SELECT generation_id FROM images WHERE favourite)""",
    f"""CREATE TRIGGER favourites_fts_image_insert AFTER INSERT ON images
          WHEN new.favourite OR {_LISTED.format(gid="new.generation_id")} BEGIN {_refresh("new.generation_id")} END""",
    f"""CREATE TRIGGER favourites_fts_image_update AFTER UPDATE OF favourite, revised_prompt, generation_id ON images BEGIN
          {_refresh("old.generation_id")} {_refresh("new.generation_id")} END""",
    f"""CREATE TRIGGER favourites_fts_image_delete AFTER DELETE ON images
          WHEN old.favourite OR {_LISTED.format(gid="old.generation_id")} BEGIN {_refresh("old.generation_id")} END""",
    f"""CREATE TRIGGER favourites_fts_generation_update AFTER UPDATE OF prompt ON generations
          WHEN {_LISTED.format(gid="new.id")} BEGIN {_refresh("new.id")} END""",
    """CREATE TRIGGER favourites_fts_generation_delete AFTER DELETE ON generations BEGIN
          DELETE FROM favourites_fts WHERE rowid = old.id; END""",
]
FAVOURITES_FTS_DOWN = [f"DROP TRIGGER IF EXISTS favourites_fts_{name}" for name in (
    "image_insert", "image_update", "image_delete", "generation_update", "generation_delete")] + [
    "DROP TABLE IF EXISTS favourites_fts"]
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
# The favourites' words (PostgreSQL): set on the generation row whenever it is written (after generations_search,
# which sets search_vector: BEFORE triggers fire in name order), and the row is written again when an image of it
# becomes or stops being a favourite (an insert or delete of an image already rewrites it: images_search).
_FAVOURED = "EXISTS (SELECT 1 FROM images WHERE images.generation_id = {gid} AND images.favourite)"
FAVOURITE_VECTOR_UP = [
    "ALTER TABLE generations ADD COLUMN favourite_vector tsvector",
    f"UPDATE generations SET favourite_vector = search_vector WHERE {_FAVOURED.format(gid='generations.id')}",
    "CREATE INDEX ix_generations_favourite_vector ON generations USING gin (favourite_vector) WHERE favourite_vector IS NOT NULL",
    # The equality filters among the favourites ("failed" and favourites: none), 0013's facet index over them alone.
    "CREATE INDEX ix_generations_favourite_facets ON generations (coalesce(response_background, background), "
    "coalesce(response_output_format, output_format), coalesce(response_size, size), coalesce(response_quality, quality), "
    "model, status, created_at, id) WHERE favourite_vector IS NOT NULL",
    f"""CREATE FUNCTION studio_favourite_vector() RETURNS trigger LANGUAGE plpgsql AS $$
         BEGIN
           NEW.favourite_vector := CASE WHEN {_FAVOURED.format(gid='NEW.id')} THEN NEW.search_vector END;
           RETURN NEW;
         END $$""",
    """CREATE TRIGGER generations_search_favourites BEFORE INSERT OR UPDATE ON generations
         FOR EACH ROW EXECUTE FUNCTION studio_favourite_vector()""",
    """CREATE FUNCTION studio_images_favourite() RETURNS trigger LANGUAGE plpgsql AS $$
         BEGIN
           UPDATE generations SET favourite_vector = NULL WHERE id IN (OLD.generation_id, NEW.generation_id);  -- set again by studio_favourite_vector
           RETURN NULL;
         END $$""",
    """CREATE TRIGGER images_favourite AFTER UPDATE OF favourite, generation_id ON images
         FOR EACH ROW EXECUTE FUNCTION studio_images_favourite()""",
]
FAVOURITE_VECTOR_DOWN = [
    "DROP TRIGGER IF EXISTS images_favourite ON images",
    "DROP TRIGGER IF EXISTS generations_search_favourites ON generations",
    "DROP FUNCTION IF EXISTS studio_images_favourite()",
    "DROP FUNCTION IF EXISTS studio_favourite_vector()",
    "DROP INDEX IF EXISTS ix_generations_favourite_vector",
    "DROP INDEX IF EXISTS ix_generations_favourite_facets",
    "ALTER TABLE generations DROP COLUMN IF EXISTS favourite_vector",
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
    for statement in SQLITE_UP + FAVOURITES_FTS_UP if dialect == "sqlite" else POSTGRES_UP + FAVOURITE_VECTOR_UP if dialect == "postgresql" else []:
        op.execute(statement)
    if dialect == "sqlite" and op.get_bind().execute(sa.text("SELECT 1 FROM sqlite_master WHERE name = 'sqlite_stat1'")).first():
        # A gallery whose statistics were gathered gets them for the new index too: without them SQLite guesses
        # its favourite = 1 as selective as an id and reads every favourite for "failed" and favourites.
        op.execute("ANALYZE images")


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    for statement in SQLITE_DOWN + FAVOURITES_FTS_DOWN if dialect == "sqlite" else POSTGRES_DOWN + FAVOURITE_VECTOR_DOWN if dialect == "postgresql" else []:
        op.execute(statement)
    op.drop_index("ix_images_favourite_sort", table_name="images")
    op.drop_column("images", "generation_created_at")  # in place on SQLite (3.35+): no table copy
