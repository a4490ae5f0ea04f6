"""Leaves of version 3 (issue 12.2, 12.6): ``tag_keys`` (each party's 32-byte tag key),
``entry_openings`` (the salt and document each party's slot commits to), and every key and
agreement already registered logged as an entry of its own (a registration, then each rotation
statement in order, then each agreement with its signature). Earlier message entries keep their
version-2 leaves: the log is append-only.

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import base64
import json
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create the tables and log the registered keys and agreements."""
    from openbmd.exchange import entries, entrylog

    op.create_table(
        "tag_keys",
        sa.Column("partner", sa.String(64), primary_key=True),
        sa.Column("tag_key", sa.LargeBinary(32), nullable=False),
    )
    op.create_table(
        "entry_openings",
        sa.Column("idx", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("party", sa.String(64), primary_key=True),
        sa.Column("salt", sa.LargeBinary(16), nullable=False),
        sa.Column("document", sa.LargeBinary, nullable=False),
    )
    with op.batch_alter_table("messages") as batch:  # the sender's projection statement
        batch.add_column(sa.Column("statement", sa.LargeBinary, nullable=True))
        batch.add_column(sa.Column("statement_signature", sa.LargeBinary(64), nullable=True))
        batch.add_column(sa.Column("statement_salts", sa.Text, nullable=True))
    conn = op.get_bind()
    docs: list[tuple[str, dict[str, Any]]] = []
    rows = conn.execute(sa.text("SELECT name, public_key_pem, created_at, rotations FROM partners"))
    for name, pem, created, rotations in sorted(rows):
        steps = json.loads(rotations) if rotations else []
        first = steps[0]["previous_public_key_pem"] if steps else pem
        docs.append((entries.PUBLIC, entries.key_document(name, first, created, None)))
        for step in steps:
            doc = entries.key_document(name, step["public_key_pem"], created, step)
            docs.append((entries.PUBLIC, doc))
    rows = conn.execute(
        sa.text("SELECT sender, document, signature, updated_at FROM agreements ORDER BY name")
    )
    for sender, document, signature, updated in rows:
        sig = base64.b64encode(bytes(signature)).decode("ascii") if signature else None
        docs.append((sender, entries.agreement_document(json.loads(document), sig, updated)))
    if docs:
        entrylog.append(conn, docs)


def downgrade() -> None:
    """Drop the tables (the logged entries stay: the log is append-only)."""
    with op.batch_alter_table("messages") as batch:
        for column in ("statement_salts", "statement_signature", "statement"):
            batch.drop_column(column)
    op.drop_table("entry_openings")
    op.drop_table("tag_keys")
