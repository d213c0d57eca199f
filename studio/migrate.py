"""Bring a database to the latest schema with Alembic (used by the start script and tests)."""

from alembic import command
from alembic.config import Config

from studio.settings import ROOT, get_settings


def upgrade(url: str | None = None) -> None:
    settings = get_settings()
    url = url or settings.sqlalchemy_url
    if url.startswith("sqlite"):
        settings.var_dir.mkdir(parents=True, exist_ok=True)
    config = Config(str(ROOT / "alembic.ini"))
    config.set_main_option("sqlalchemy.url", url)
    command.upgrade(config, "head")


if __name__ == "__main__":
    upgrade()
