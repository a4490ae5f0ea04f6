"""The centre's private key leaves the database: ``centre_key.private_key_pem`` may be NULL
(the key is moved into its 0600 file and erased from here on the next start).

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Allow a NULL private key."""
    with op.batch_alter_table("centre_key") as batch:
        batch.alter_column("private_key_pem", existing_type=sa.Text, nullable=True)


def downgrade() -> None:
    """Not reversible without the key file: refuse."""
    raise NotImplementedError("the centre key is no longer in the database")
