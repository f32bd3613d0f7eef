"""Alembic environment: migrations run on the connection `storage.store.migrate` hands over, or, from the
`alembic` command line, on the URL in `sqlalchemy.url` of the given config."""
from alembic import context
from sqlalchemy import engine_from_config, pool

from storage.models import Base

config = context.config


def run(connection) -> None:
    context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


connection = config.attributes.get("connection")
if connection is not None:
    run(connection)
else:
    engine = engine_from_config(config.get_section(config.config_ini_section, {}), prefix="sqlalchemy.",
                                poolclass=pool.NullPool)
    with engine.connect() as conn:
        run(conn)
