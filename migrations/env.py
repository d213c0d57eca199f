"""Alembic environment: the URL comes from studio settings unless the caller passes one."""

from alembic import context

from studio.db import make_engine
from studio.models import Base
from studio.settings import get_settings

url = context.config.get_main_option("sqlalchemy.url") or get_settings().sqlalchemy_url
engine = make_engine(url, request_timeouts=False)
with engine.connect() as connection:
    context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=url.startswith("sqlite"))
    with context.begin_transaction():
        context.run_migrations()
engine.dispose()
