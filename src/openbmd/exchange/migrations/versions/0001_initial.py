"""Initial schema: partners, agreements, messages, log leaves and nodes, projections,
cosignatures and the centre's signing key.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create every table."""
    op.create_table(
        "partners",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("public_key_pem", sa.Text, nullable=False),
        sa.Column("fingerprint", sa.String(64), nullable=False, unique=True),
        sa.Column("created_at", sa.String(40), nullable=False),
    )
    op.create_table(
        "agreements",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("sender", sa.String(64), nullable=False, index=True),
        sa.Column("document", sa.Text, nullable=False),
        sa.Column("updated_at", sa.String(40), nullable=False),
    )
    op.create_table(
        "messages",
        sa.Column("log_index", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("message_id", sa.String(128), nullable=False, unique=True),
        sa.Column("sender", sa.String(64), nullable=False),
        sa.Column("seq", sa.BigInteger, nullable=False),
        sa.Column("nonce", sa.String(128), nullable=False),
        sa.Column("type", sa.String(40), nullable=False),
        sa.Column("body_hash", sa.LargeBinary(32), nullable=False),
        sa.Column("original", sa.LargeBinary, nullable=False),
        sa.Column("signature", sa.LargeBinary(64), nullable=False),
        sa.Column("received_at", sa.String(40), nullable=False),
        sa.UniqueConstraint("sender", "nonce", name="uq_messages_sender_nonce"),
        sa.UniqueConstraint("sender", "seq", name="uq_messages_sender_seq"),
    )
    op.create_index("ix_messages_sender_index", "messages", ["sender", "log_index"])
    op.create_table(
        "log_leaves",
        sa.Column("idx", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("leaf", sa.LargeBinary, nullable=False),
    )
    op.create_table(
        "log_nodes",
        sa.Column("level", sa.SmallInteger, primary_key=True, autoincrement=False),
        sa.Column("idx", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("hash", sa.LargeBinary(32), nullable=False),
    )
    op.create_table(
        "projections",
        sa.Column("recipient", sa.String(64), primary_key=True),
        sa.Column("log_index", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("level", sa.String(2), nullable=False),
        sa.Column("projection_hash", sa.LargeBinary(32), nullable=False),
        sa.Column("projection", sa.LargeBinary, nullable=False),
    )
    op.create_table(
        "cosignatures",
        sa.Column("witness", sa.String(64), primary_key=True),
        sa.Column("tree_size", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("root_hash", sa.LargeBinary(32), nullable=False),
        sa.Column("line", sa.Text, nullable=False),
        sa.Column("timestamp", sa.BigInteger, nullable=False),
    )
    op.create_index("ix_cosignatures_size", "cosignatures", ["tree_size"])
    op.create_table(
        "centre_key",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("private_key_pem", sa.Text, nullable=False),
        sa.Column("public_key_pem", sa.Text, nullable=False),
        sa.Column("created_at", sa.String(40), nullable=False),
    )


def downgrade() -> None:
    """Drop every table."""
    for name in (
        "centre_key",
        "cosignatures",
        "projections",
        "log_nodes",
        "log_leaves",
        "messages",
        "agreements",
        "partners",
    ):
        op.drop_table(name)
