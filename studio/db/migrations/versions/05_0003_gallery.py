"""gallery: thumbnails, favourites, collections, filter indexes, full-text search

Revision ID: 0003
Revises: 0004
Create Date: 2026-11-24 06:30:00

Full-text search is kept in step by the database itself, so every writer (pages, CLI, import, other
tools) is covered: SQLite gets an FTS5 table `generations_fts` (rowid = generations.id) maintained by
triggers; PostgreSQL gets a `tsvector` column on generations with a GIN index, maintained by triggers.
Both index the prompt and the revised_prompt of every image of the generation.
"""
from alembic import op
import sqlalchemy as sa


revision = "0003"
down_revision = "0004"
branch_labels = None
depends_on = None

# SQLite: the revised prompts of a generation, gathered for its FTS row.
_REVISED = "(SELECT coalesce(group_concat(revised_prompt, ' '), '') FROM images WHERE generation_id = {gid})"

SQLITE_UP = [
    "CREATE VIRTUAL TABLE generations_fts USING fts5(prompt, revised_prompt, tokenize = 'unicode61 remove_diacritics 2')",
    "INSERT INTO generations_fts(rowid, prompt, revised_prompt) SELECT id, prompt, " + _REVISED.format(gid="generations.id") + " FROM generations",
    """CREATE TRIGGER generations_fts_insert AFTER INSERT ON generations BEGIN
         INSERT INTO generations_fts(rowid, prompt, revised_prompt) VALUES (new.id, new.prompt, '');
       END""",
    """CREATE TRIGGER generations_fts_update AFTER UPDATE OF prompt ON generations BEGIN
         UPDATE generations_fts SET prompt = new.prompt WHERE rowid = new.id;
       END""",
    """CREATE TRIGGER generations_fts_delete AFTER DELETE ON generations BEGIN
         DELETE FROM generations_fts WHERE rowid = old.id;
       END""",
    """CREATE TRIGGER images_fts_insert AFTER INSERT ON images WHEN new.revised_prompt IS NOT NULL BEGIN
         UPDATE generations_fts SET revised_prompt = """ + _REVISED.format(gid="new.generation_id") + """ WHERE rowid = new.generation_id;
       END""",
    """CREATE TRIGGER images_fts_update AFTER UPDATE OF revised_prompt ON images BEGIN
         UPDATE generations_fts SET revised_prompt = """ + _REVISED.format(gid="new.generation_id") + """ WHERE rowid = new.generation_id;
       END""",
    """CREATE TRIGGER images_fts_delete AFTER DELETE ON images WHEN old.revised_prompt IS NOT NULL BEGIN
         UPDATE generations_fts SET revised_prompt = """ + _REVISED.format(gid="old.generation_id") + """ WHERE rowid = old.generation_id;
       END""",
]
SQLITE_DOWN = [
    "DROP TRIGGER IF EXISTS images_fts_delete",
    "DROP TRIGGER IF EXISTS images_fts_update",
    "DROP TRIGGER IF EXISTS images_fts_insert",
    "DROP TRIGGER IF EXISTS generations_fts_delete",
    "DROP TRIGGER IF EXISTS generations_fts_update",
    "DROP TRIGGER IF EXISTS generations_fts_insert",
    "DROP TABLE IF EXISTS generations_fts",
]

# PostgreSQL: 'simple' config (no stemming, any language), same as FTS5's unicode61 tokenizer.
POSTGRES_UP = [
    "ALTER TABLE generations ADD COLUMN search_vector tsvector",
    """CREATE FUNCTION studio_refresh_search(gid integer) RETURNS void LANGUAGE sql AS $$
         UPDATE generations SET search_vector =
           setweight(to_tsvector('simple', coalesce(prompt, '')), 'A') ||
           setweight(to_tsvector('simple', coalesce((SELECT string_agg(revised_prompt, ' ') FROM images WHERE generation_id = gid), '')), 'B')
         WHERE id = gid;
       $$""",
    """CREATE FUNCTION studio_generations_search() RETURNS trigger LANGUAGE plpgsql AS $$
         BEGIN
           NEW.search_vector := setweight(to_tsvector('simple', coalesce(NEW.prompt, '')), 'A') ||
             setweight(to_tsvector('simple', coalesce((SELECT string_agg(revised_prompt, ' ') FROM images WHERE generation_id = NEW.id), '')), 'B');
           RETURN NEW;
         END $$""",
    """CREATE TRIGGER generations_search BEFORE INSERT OR UPDATE OF prompt ON generations
         FOR EACH ROW EXECUTE FUNCTION studio_generations_search()""",
    """CREATE FUNCTION studio_images_search() RETURNS trigger LANGUAGE plpgsql AS $$
         BEGIN
           IF TG_OP = 'DELETE' THEN PERFORM studio_refresh_search(OLD.generation_id); RETURN OLD; END IF;
           PERFORM studio_refresh_search(NEW.generation_id);
           RETURN NEW;
         END $$""",
    """CREATE TRIGGER images_search AFTER INSERT OR DELETE OR UPDATE OF revised_prompt ON images
         FOR EACH ROW EXECUTE FUNCTION studio_images_search()""",
    "UPDATE generations SET prompt = prompt",  # fills search_vector for rows that existed before
    "CREATE INDEX ix_generations_search_vector ON generations USING gin (search_vector)",
]
POSTGRES_DOWN = [
    "DROP INDEX IF EXISTS ix_generations_search_vector",
    "DROP TRIGGER IF EXISTS images_search ON images",
    "DROP TRIGGER IF EXISTS generations_search ON generations",
    "DROP FUNCTION IF EXISTS studio_images_search()",
    "DROP FUNCTION IF EXISTS studio_generations_search()",
    "DROP FUNCTION IF EXISTS studio_refresh_search(integer)",
    "ALTER TABLE generations DROP COLUMN IF EXISTS search_vector",
]


def upgrade() -> None:
    # Plain ADD COLUMN (not batch mode): SQLite takes it natively and no table is rebuilt.
    op.add_column("images", sa.Column("thumbnail_path", sa.String(length=512), nullable=True))
    op.add_column("images", sa.Column("favourite", sa.Boolean(), server_default=sa.false(), nullable=False))
    op.create_index("ix_images_generation_id_batch_index", "images", ["generation_id", "batch_index"])
    op.create_index("ix_images_favourite_generation_id", "images", ["favourite", "generation_id"])
    op.create_index("ix_generations_status_created_at_id", "generations", ["status", "created_at", "id"])
    op.create_index("ix_generations_model_created_at_id", "generations", ["model", "created_at", "id"])
    op.create_table(
        "collections",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name"),
    )
    op.create_table(
        "collection_images",
        sa.Column("collection_id", sa.Integer(), nullable=False),
        sa.Column("image_id", sa.Integer(), nullable=False),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["collection_id"], ["collections.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["image_id"], ["images.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("collection_id", "image_id"),
    )
    op.create_index("ix_collection_images_image_id", "collection_images", ["image_id"])
    dialect = op.get_bind().dialect.name
    for statement in SQLITE_UP if dialect == "sqlite" else POSTGRES_UP if dialect == "postgresql" else []:
        op.execute(statement)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    for statement in SQLITE_DOWN if dialect == "sqlite" else POSTGRES_DOWN if dialect == "postgresql" else []:
        op.execute(statement)
    op.drop_index("ix_collection_images_image_id", table_name="collection_images")
    op.drop_table("collection_images")
    op.drop_table("collections")
    op.drop_index("ix_generations_model_created_at_id", table_name="generations")
    op.drop_index("ix_generations_status_created_at_id", table_name="generations")
    op.drop_index("ix_images_favourite_generation_id", table_name="images")
    op.drop_index("ix_images_generation_id_batch_index", table_name="images")
    # Plain DROP COLUMN (SQLite >= 3.35, PostgreSQL), not batch mode: rebuilding `images` would fire the
    # ON DELETE actions of the tables that point at it (edit sources, compare cells) while it is copied.
    op.execute("ALTER TABLE images DROP COLUMN favourite")
    op.execute("ALTER TABLE images DROP COLUMN thumbnail_path")
