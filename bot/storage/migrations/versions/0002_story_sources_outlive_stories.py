"""story_sources outlive purged stories (story_id NULL, ON DELETE SET NULL)

The retention purge deletes old stories; their feed items stay as "seen" for a
while so a feed that still lists an old item does not bring it back as news.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_FK = "fk_story_sources_story_id_stories"


def upgrade() -> None:
    with op.batch_alter_table("story_sources", schema=None) as batch_op:
        batch_op.drop_constraint(_FK, type_="foreignkey")
        batch_op.alter_column("story_id", existing_type=sa.Integer(), nullable=True)
        batch_op.create_foreign_key(_FK, "stories", ["story_id"], ["id"], ondelete="SET NULL")


def downgrade() -> None:
    op.execute("DELETE FROM story_sources WHERE story_id IS NULL")
    with op.batch_alter_table("story_sources", schema=None) as batch_op:
        batch_op.drop_constraint(_FK, type_="foreignkey")
        batch_op.alter_column("story_id", existing_type=sa.Integer(), nullable=False)
        batch_op.create_foreign_key(_FK, "stories", ["story_id"], ["id"], ondelete="CASCADE")
