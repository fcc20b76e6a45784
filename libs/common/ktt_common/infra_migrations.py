"""Migration steps of the infrastructure tables, shared by every service's Alembic revisions
(each service's revision calls the step; the tables are the same everywhere)."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from ktt_common.db import UTCDateTime


def upgrade_bus_housekeeping() -> None:
    """Outbox rows can be parked after repeated failure; leases keep one relay and one scheduler at a
    time; entity revisions number the events about one entity."""
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(sa.Column("parked_at", UTCDateTime(timezone=True), nullable=True))
    op.create_table(
        "lease",
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("holder", sa.String(length=200), nullable=False),
        sa.Column("expires_at", UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_lease")),
    )
    op.create_table(
        "entity_revision",
        sa.Column("entity", sa.String(length=200), nullable=False),
        sa.Column("revision", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("entity", name=op.f("pk_entity_revision")),
    )


def downgrade_bus_housekeeping() -> None:
    op.drop_table("entity_revision")
    op.drop_table("lease")
    with op.batch_alter_table("outbox") as batch:
        batch.drop_column("parked_at")


def upgrade_audit_chain() -> None:
    """Tamper-evident audit log (issue 13): chain columns, the chain head, and the hashes of the rows
    already written (backfilled in id order, the order they were written in)."""
    from ktt_common.audit import CHAIN, GENESIS, chain_hash

    with op.batch_alter_table("audit_log") as batch:
        batch.add_column(sa.Column("chain_seq", sa.BigInteger(), nullable=True))
        batch.add_column(sa.Column("prev_hash", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("row_hash", sa.String(length=64), nullable=True))
    head = op.create_table(
        "audit_head",
        sa.Column("name", sa.String(length=50), nullable=False),
        sa.Column("last_seq", sa.BigInteger(), nullable=False),
        sa.Column("last_hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_audit_head")),
    )
    log = sa.table(
        "audit_log", sa.column("id", sa.BigInteger()), sa.column("at", UTCDateTime(timezone=True)),
        sa.column("actor", sa.String()), sa.column("role", sa.String()), sa.column("provider_id", sa.String()),
        sa.column("action", sa.String()), sa.column("target_type", sa.String()), sa.column("target_id", sa.String()),
        sa.column("client_ids", sa.JSON()), sa.column("correlation_id", sa.String()), sa.column("details", sa.JSON()),
        sa.column("chain_seq", sa.BigInteger()), sa.column("prev_hash", sa.String()), sa.column("row_hash", sa.String()),
    )
    conn = op.get_bind()
    seq, prev = 0, GENESIS
    for row in conn.execute(sa.select(log).order_by(log.c.id)).mappings().all():
        seq += 1
        values = {**row, "chain_seq": seq, "prev_hash": prev}
        prev = chain_hash(values)
        conn.execute(log.update().where(log.c.id == row["id"]).values(chain_seq=seq, prev_hash=values["prev_hash"], row_hash=prev))
    op.bulk_insert(head, [{"name": CHAIN, "last_seq": seq, "last_hash": prev}])
    with op.batch_alter_table("audit_log") as batch:
        batch.alter_column("chain_seq", existing_type=sa.BigInteger(), nullable=False)
        batch.alter_column("prev_hash", existing_type=sa.String(length=64), nullable=False)
        batch.alter_column("row_hash", existing_type=sa.String(length=64), nullable=False)
        batch.create_unique_constraint(op.f("uq_audit_log_chain_seq"), ["chain_seq"])


def downgrade_audit_chain() -> None:
    with op.batch_alter_table("audit_log") as batch:
        batch.drop_constraint(op.f("uq_audit_log_chain_seq"), type_="unique")
        batch.drop_column("row_hash")
        batch.drop_column("prev_hash")
        batch.drop_column("chain_seq")
    op.drop_table("audit_head")
