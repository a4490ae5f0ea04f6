"""Witness cosignatures of the centre's checkpoints: their table and queries (a part of
:class:`~openbmd.exchange.store.Store`)."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from openbmd.exchange.domain import Cosignature

__all__ = ["CosignatureStore", "cosignatures"]

_md = sa.MetaData()
cosignatures = sa.Table(
    "cosignatures",
    _md,
    sa.Column("witness", sa.String(64), primary_key=True),
    sa.Column("tree_size", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("root_hash", sa.LargeBinary(32)),
    sa.Column("line", sa.Text),
    sa.Column("timestamp", sa.BigInteger),
)


class CosignatureStore:
    """The cosignature queries of the store (needs ``self.engine``)."""

    engine: Engine

    def add_cosignature(self, c: Cosignature) -> bool:
        """Store a cosignature; False if this witness already cosigned this tree size."""
        try:
            with self.engine.begin() as conn:
                conn.execute(
                    cosignatures.insert().values(
                        witness=c.witness,
                        tree_size=c.tree_size,
                        root_hash=c.root_hash,
                        line=c.line,
                        timestamp=c.timestamp,
                    )
                )
        except IntegrityError:
            return False
        return True

    def latest_cosigned(self, min_cosigners: int) -> tuple[int, bytes] | None:
        """``(size, root)`` of the largest tree at least *min_cosigners* witnesses cosigned."""
        c = cosignatures
        q = (
            sa.select(c.c.tree_size, c.c.root_hash)
            .group_by(c.c.tree_size, c.c.root_hash)
            .having(sa.func.count() >= min_cosigners)
            .order_by(c.c.tree_size.desc())
            .limit(1)
        )
        with self.engine.connect() as conn:
            row = conn.execute(q).first()
        return None if row is None else (int(row.tree_size), bytes(row.root_hash))

    def cosignatures(self, tree_size: int, root: bytes) -> list[Cosignature]:
        """Cosignatures of the checkpoint (*tree_size*, *root*), by witness name."""
        q = (
            sa.select(cosignatures)
            .where(cosignatures.c.tree_size == tree_size)
            .order_by(cosignatures.c.witness)
        )
        with self.engine.connect() as conn:
            rows = conn.execute(q).all()
        return [
            Cosignature(r.witness, r.tree_size, bytes(r.root_hash), r.line, r.timestamp)
            for r in rows
            if bytes(r.root_hash) == root
        ]
