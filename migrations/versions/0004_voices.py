"""voices table: a user's own voices (fitted to a recording, or blended from stock voices)

Revision ID: 0004
Revises: 0003
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "voices",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("labels", sa.JSON(), nullable=False),
        sa.Column("category", sa.Enum("CLONED", "BLEND", name="voicecategory", native_enum=False, length=16),
                  nullable=False),
        sa.Column("lang", sa.String(8), nullable=False),
        sa.Column("blend", sa.JSON(), nullable=True),
        sa.Column("design_clip_id", sa.Uuid(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )  # fmt: skip
    op.create_index("ix_voices_user_created", "voices", ["user_id", "created_at"])
    op.create_index("ix_voices_design_clip_id", "voices", ["design_clip_id"])


def downgrade() -> None:
    op.drop_index("ix_voices_design_clip_id", table_name="voices")
    op.drop_index("ix_voices_user_created", table_name="voices")
    op.drop_table("voices")
