"""the outbox's envelopes compressed by lz4 on PostgreSQL (issue 8)

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01 14:00:00

A daily-log batch writes ~400 envelopes of 2-6 kB (1.6 MB): over PostgreSQL's TOAST threshold, so each
is compressed, by default with pglz. Measured on one batch's envelopes (docs/benchmarks.md): the insert
took 62 ms with pglz, 25 ms with lz4 (the same table size). Only values written from now on change.
Left as it is where the server has no lz4 (built without it) and on SQLite (no TOAST).
"""
from alembic import op
from sqlalchemy import text

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def _lz4_available() -> bool:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return False
    return bool(bind.execute(text(
        "SELECT 'lz4' = ANY(enumvals) FROM pg_settings WHERE name = 'default_toast_compression'")).scalar())


def upgrade() -> None:
    if _lz4_available():
        op.execute("ALTER TABLE outbox ALTER COLUMN envelope SET COMPRESSION lz4")


def downgrade() -> None:
    if _lz4_available():
        op.execute("ALTER TABLE outbox ALTER COLUMN envelope SET COMPRESSION DEFAULT")
