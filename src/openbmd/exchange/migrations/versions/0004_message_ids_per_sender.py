"""Message ids are scoped per sender: ``messages.message_id`` is unique per ``sender`` only
(unique ``(message_id, sender)``, message id first so lookups by id use it), so one sender's
id neither blocks another's message nor shows up in its conflict answers.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

NEW = "uq_messages_message_id_sender"
CONVENTION = {"uq": "uq_%(table_name)s_%(column_0_name)s"}


def upgrade() -> None:
    """Replace the unique ``message_id`` by unique ``(message_id, sender)``."""
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":  # an unnamed constraint: name it while copying the table
        with op.batch_alter_table(
            "messages", naming_convention=CONVENTION, recreate="always"
        ) as batch:
            batch.drop_constraint("uq_messages_message_id", type_="unique")
            batch.create_unique_constraint(NEW, ["message_id", "sender"])
        return
    for uc in sa.inspect(bind).get_unique_constraints("messages"):
        if uc["column_names"] == ["message_id"] and uc["name"]:
            op.drop_constraint(uc["name"], "messages", type_="unique")
    op.create_unique_constraint(NEW, "messages", ["message_id", "sender"])


def downgrade() -> None:
    """Back to globally unique ids (fails if two senders used one id)."""
    with op.batch_alter_table("messages") as batch:
        batch.drop_constraint(NEW, type_="unique")
        batch.create_unique_constraint("uq_messages_message_id", ["message_id"])
