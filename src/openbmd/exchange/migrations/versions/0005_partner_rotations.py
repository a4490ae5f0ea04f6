"""Partner key rotations: ``partners.rotations`` keeps every accepted rotation statement
(JSON list, each signed by the key it replaces), served with the partner.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add the rotations column."""
    with op.batch_alter_table("partners") as batch:
        batch.add_column(sa.Column("rotations", sa.Text, nullable=True))


def downgrade() -> None:
    """Drop the rotations column."""
    with op.batch_alter_table("partners") as batch:
        batch.drop_column("rotations")
