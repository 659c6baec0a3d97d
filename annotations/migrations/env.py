"""Alembic environment: run with a connection handed in by annotations.schema."""

from alembic import context

import annotations.models  # noqa: F401  (every table registered)
from annotations.db import Base
from annotations.schema import include_object

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    include_object=include_object,
)
with context.begin_transaction():
    context.run_migrations()
