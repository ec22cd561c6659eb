"""gallery facets: how many generations have each combination of the Gallery's equality filters

Revision ID: 0013
Revises: 0007
Create Date: 2026-11-30 08:40:00

`gallery_facets` holds one row per combination of status, model and the effective quality, size,
background and output_format (what the response said, else what was asked; '' for neither) with the
number of generations that have it, kept by triggers on `generations` so every writer is covered. A
filter such as "model X + size Y" is answered from it before any page is read: no combination, no rows
(an index seek instead of a walk over a third of the gallery); a few rows, fetched through
`ix_generations_facets` (the same six expressions, then the sort key) and sorted.
"""
from alembic import op
import sqlalchemy as sa


revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

FACETS = ("status", "model", "quality", "size", "background", "output_format")
# The facet values of a generation row (`row` is new or old), as the trigger computes them.
_VALUES = ("{row}.status, {row}.model, coalesce({row}.response_quality, {row}.quality, ''), "
           "coalesce({row}.response_size, {row}.size, ''), coalesce({row}.response_background, {row}.background, ''), "
           "coalesce({row}.response_output_format, {row}.output_format, '')")
_MATCH = " AND ".join(f"{name} = {value}" for name, value in zip(FACETS, (
    "{row}.status", "{row}.model", "coalesce({row}.response_quality, {row}.quality, '')",
    "coalesce({row}.response_size, {row}.size, '')", "coalesce({row}.response_background, {row}.background, '')",
    "coalesce({row}.response_output_format, {row}.output_format, '')")))
_COLUMNS = "status, model, quality, size, background, output_format"
_WATCHED = ("status, model, quality, response_quality, size, response_size, background, response_background, "
            "output_format, response_output_format")


def _add(row: str, table_prefix: str = "") -> str:
    return (f"INSERT INTO gallery_facets({_COLUMNS}, generations) VALUES ({_VALUES.format(row=row)}, 1) "
            f"ON CONFLICT({_COLUMNS}) DO UPDATE SET generations = {table_prefix}generations + 1")


def _remove(row: str) -> str:
    return f"UPDATE gallery_facets SET generations = generations - 1 WHERE {_MATCH.format(row=row)}"


SQLITE_UP = [
    f"CREATE TRIGGER gallery_facets_insert AFTER INSERT ON generations BEGIN {_add('new')}; END",
    f"CREATE TRIGGER gallery_facets_delete AFTER DELETE ON generations BEGIN {_remove('old')}; END",
    f"CREATE TRIGGER gallery_facets_update AFTER UPDATE OF {_WATCHED} ON generations BEGIN {_remove('old')}; {_add('new')}; END",
]
SQLITE_DOWN = [f"DROP TRIGGER IF EXISTS gallery_facets_{name}" for name in ("insert", "delete", "update")]
POSTGRES_UP = [
    f"""CREATE FUNCTION studio_gallery_facets() RETURNS trigger LANGUAGE plpgsql AS $$
         BEGIN
           IF TG_OP <> 'INSERT' THEN {_remove('OLD')}; END IF;
           IF TG_OP <> 'DELETE' THEN {_add('NEW', 'gallery_facets.')}; END IF;
           RETURN NULL;
         END $$""",
    f"""CREATE TRIGGER gallery_facets AFTER INSERT OR DELETE OR UPDATE OF {_WATCHED} ON generations
         FOR EACH ROW EXECUTE FUNCTION studio_gallery_facets()""",
]
POSTGRES_DOWN = ["DROP TRIGGER IF EXISTS gallery_facets ON generations", "DROP FUNCTION IF EXISTS studio_gallery_facets()"]

# The Gallery's EFFECTIVE expressions (db/browse.py), written the same way so a planner matches them.
# Led by the expressions no other query filters on, so a planner keeps its plans for `status = ?` or `model = ?`.
FACET_INDEX = [sa.text("coalesce(response_background, background)"), sa.text("coalesce(response_output_format, output_format)"),
               sa.text("coalesce(response_size, size)"), sa.text("coalesce(response_quality, quality)"), "model", "status",
               "created_at", "id"]


def upgrade() -> None:
    op.create_table(
        "gallery_facets",
        sa.Column("id", sa.Integer(), nullable=False),
        *(sa.Column(name, sa.String(length=128), nullable=False) for name in FACETS),
        sa.Column("generations", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint(*FACETS, name="uq_gallery_facets"),
    )
    op.execute(f"INSERT INTO gallery_facets({_COLUMNS}, generations) SELECT {_VALUES.format(row='generations')}, count(*) "
               f"FROM generations GROUP BY {_VALUES.format(row='generations')}")
    op.create_index("ix_generations_facets", "generations", FACET_INDEX, unique=False)
    dialect = op.get_bind().dialect.name
    for statement in SQLITE_UP if dialect == "sqlite" else POSTGRES_UP if dialect == "postgresql" else []:
        op.execute(statement)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    for statement in SQLITE_DOWN if dialect == "sqlite" else POSTGRES_DOWN if dialect == "postgresql" else []:
        op.execute(statement)
    op.drop_index("ix_generations_facets", table_name="generations")
    op.drop_table("gallery_facets")
