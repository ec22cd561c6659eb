"""Alembic environment: runs on the connection the studio hands over, or on the configured URL.

Migration files are named `NN_REV_what.py`: NN is the place in the chain, so a listing reads in the order
the migrations run, and REV is the revision id stored in galleries (`alembic_version`), which never changes.
The ids are out of order (0001 -> 0005 -> 0002 -> 0004 -> 0003) because three branches were merged;
renumbering them would strand every gallery already at "0003". A new migration is
`07_0007_what.py` with revision "0007" and down_revision "0006" (tests/test_migrations.py checks the order).
"""

from alembic import context
from sqlalchemy import create_engine

from studio.db.engine import include_name
from studio.db.models import Base

config = context.config
target_metadata = Base.metadata


def run() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True, include_name=include_name)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = create_engine(config.get_main_option("sqlalchemy.url"))
    with engine.begin() as connection:
        context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True, include_name=include_name)
        with context.begin_transaction():
            context.run_migrations()


run()
