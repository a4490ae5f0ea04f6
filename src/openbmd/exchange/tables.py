"""The exchange centre's database tables (SQLAlchemy Core); their history is in migrations/.

The log's own tables (leaves, nodes) sit beside the messages and projections they commit to;
entry openings and tag keys are in :mod:`openbmd.exchange.entrylog`, cosignatures in
:mod:`openbmd.exchange.cosigstore`.
"""

from __future__ import annotations

import sqlalchemy as sa

__all__ = [
    "agreements",
    "centre_key",
    "log_leaves",
    "log_nodes",
    "md",
    "messages",
    "partners",
    "projections",
]

md = sa.MetaData()
partners = sa.Table(
    "partners",
    md,
    sa.Column("name", sa.String(64), primary_key=True),
    sa.Column("public_key_pem", sa.Text),
    sa.Column("fingerprint", sa.String(64)),
    sa.Column("created_at", sa.String(40)),
    sa.Column("rotations", sa.Text),
)
agreements = sa.Table(
    "agreements",
    md,
    sa.Column("name", sa.String(64), primary_key=True),
    sa.Column("sender", sa.String(64)),
    sa.Column("document", sa.Text),
    sa.Column("updated_at", sa.String(40)),
    sa.Column("signature", sa.LargeBinary(64)),
)
messages = sa.Table(
    "messages",
    md,
    sa.Column("log_index", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("message_id", sa.String(128)),
    sa.Column("sender", sa.String(64)),
    sa.Column("seq", sa.BigInteger),
    sa.Column("nonce", sa.String(128)),
    sa.Column("type", sa.String(40)),
    sa.Column("body_hash", sa.LargeBinary(32)),
    sa.Column("original", sa.LargeBinary),
    sa.Column("signature", sa.LargeBinary(64)),
    sa.Column("received_at", sa.String(40)),
    sa.Column("statement", sa.LargeBinary),  # the sender's projection statement (12.6)
    sa.Column("statement_signature", sa.LargeBinary(64)),
    sa.Column("statement_salts", sa.Text),
)
log_leaves = sa.Table(
    "log_leaves",
    md,
    sa.Column("idx", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("leaf", sa.LargeBinary),
)
log_nodes = sa.Table(
    "log_nodes",
    md,
    sa.Column("level", sa.SmallInteger, primary_key=True, autoincrement=False),
    sa.Column("idx", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("hash", sa.LargeBinary(32)),
)
projections = sa.Table(
    "projections",
    md,
    sa.Column("recipient", sa.String(64), primary_key=True),
    sa.Column("log_index", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("level", sa.String(2)),
    sa.Column("projection_hash", sa.LargeBinary(32)),
    sa.Column("projection", sa.LargeBinary),
    sa.Column("salt", sa.LargeBinary(16)),
)
centre_key = sa.Table(
    "centre_key",
    md,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("private_key_pem", sa.Text),
    sa.Column("public_key_pem", sa.Text),
    sa.Column("created_at", sa.String(40)),
)
