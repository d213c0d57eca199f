"""API key names unique among a user's live keys

Existing duplicates among live keys are renamed first (the oldest keeps its name, later twins
become "laptop (2)", "laptop (3)", ..., skipping names in use), so the index can be built on a
database made before it existed. Revoked keys keep their names and do not count.

Revision ID: 0005
Revises: 0004
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NAME_LENGTH = 100
LIVE_KEY = sa.text("revoked_at IS NULL")


def _renamed(name: str, taken: set[str]) -> str:
    for n in range(2, 10_000):
        suffix = f" ({n})"
        candidate = name[: NAME_LENGTH - len(suffix)] + suffix
        if candidate not in taken:
            return candidate
    raise RuntimeError(f"cannot find a free name for API key {name!r}")


def upgrade() -> None:
    conn = op.get_bind()
    keys = sa.table(
        "api_keys", sa.column("id", sa.Uuid()), sa.column("user_id", sa.Uuid()), sa.column("name", sa.String()),
        sa.column("created_at", sa.DateTime(timezone=True)), sa.column("revoked_at", sa.DateTime(timezone=True)),
    )  # fmt: skip
    rows = conn.execute(
        sa.select(keys.c.id, keys.c.user_id, keys.c.name)
        .where(keys.c.revoked_at.is_(None))
        .order_by(keys.c.user_id, keys.c.created_at, keys.c.id)
    ).all()
    taken: dict[object, set[str]] = {}  # every live name per user, so a new name is truly free
    for _, user_id, name in rows:
        taken.setdefault(user_id, set()).add(name)
    seen: set[tuple[object, str]] = set()
    for key_id, user_id, name in rows:
        if (user_id, name) in seen:
            name = _renamed(name, taken[user_id])
            taken[user_id].add(name)
            conn.execute(sa.update(keys).where(keys.c.id == key_id).values(name=name))
        seen.add((user_id, name))
    op.create_index(
        "uq_api_keys_user_live_name", "api_keys", ["user_id", "name"], unique=True,
        postgresql_where=LIVE_KEY, sqlite_where=LIVE_KEY,
    )  # fmt: skip


def downgrade() -> None:
    op.drop_index("uq_api_keys_user_live_name", table_name="api_keys")
