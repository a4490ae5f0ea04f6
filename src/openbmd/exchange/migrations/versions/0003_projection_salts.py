"""Per-recipient projection commitments are salted: ``projections.salt`` (16 random bytes,
sent only to that recipient with its view). Leaves of version 2 commit to
SHA-256(salt ‖ projection); older leaves (version 1, no salt) keep their plain hashes.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add the salt column."""
    with op.batch_alter_table("projections") as batch:
        batch.add_column(sa.Column("salt", sa.LargeBinary(16), nullable=True))


def downgrade() -> None:
    """Drop the salt column."""
    with op.batch_alter_table("projections") as batch:
        batch.drop_column("salt")
