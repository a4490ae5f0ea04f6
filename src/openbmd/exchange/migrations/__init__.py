"""Alembic migrations of the exchange database (run by :func:`openbmd.exchange.store.migrate`)."""
