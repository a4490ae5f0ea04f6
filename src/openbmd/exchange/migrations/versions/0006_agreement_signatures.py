"""Agreements signed by the granting partner: ``agreements.signature`` (Ed25519 by the sender
over the RFC 8785 form of the agreement document; NULL for an unsigned legacy agreement).

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add the signature column."""
    with op.batch_alter_table("agreements") as batch:
        batch.add_column(sa.Column("signature", sa.LargeBinary(64), nullable=True))


def downgrade() -> None:
    """Drop the signature column."""
    with op.batch_alter_table("agreements") as batch:
        batch.drop_column("signature")
