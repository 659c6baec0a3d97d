"""Alembic environment: run with a connection handed in by annotations.schema."""

from alembic import context

from annotations.db import Base
from annotations.images import Image  # noqa: F401  (register the tables)
from annotations.sites import Site  # noqa: F401
from annotations.users import User  # noqa: F401

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
