"""pronunciation dictionaries: a user's rules (latest on the dictionary, every version kept)

Revision ID: 0006
Revises: 0005
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "pronunciation_dictionaries",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("version_id", sa.String(32), nullable=False),
        sa.Column("rules", sa.JSON(), nullable=False),
        sa.Column("on_site", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("archived_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_pronunciation_dictionaries_user_created", "pronunciation_dictionaries", ["user_id", "created_at"]
    )
    op.create_table(
        "pronunciation_dictionary_versions",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("dictionary_id", sa.String(32), nullable=False),
        sa.Column("rules", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["dictionary_id"], ["pronunciation_dictionaries.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_pronunciation_dictionary_versions_dictionary_id", "pronunciation_dictionary_versions", ["dictionary_id"]
    )


def downgrade() -> None:
    op.drop_index("ix_pronunciation_dictionary_versions_dictionary_id", table_name="pronunciation_dictionary_versions")
    op.drop_table("pronunciation_dictionary_versions")
    op.drop_index("ix_pronunciation_dictionaries_user_created", table_name="pronunciation_dictionaries")
    op.drop_table("pronunciation_dictionaries")
