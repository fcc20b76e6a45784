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


def upgrade_idempotency_keys() -> None:
    """The first answer to a create sent with an Idempotency-Key (issue 12 item 8)."""
    op.create_table(
        "idempotency_key",
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("principal", sa.String(length=300), nullable=False),
        sa.Column("request", sa.String(length=300), nullable=False),
        sa.Column("request_hash", sa.String(length=64), nullable=False),
        sa.Column("status", sa.Integer(), nullable=True),
        sa.Column("media_type", sa.String(length=200), nullable=True),
        sa.Column("body", sa.Text(), nullable=True),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key", "principal", name=op.f("pk_idempotency_key")),
    )
    op.create_index(op.f("ix_idempotency_key_created"), "idempotency_key", ["created_at"])


def downgrade_idempotency_keys() -> None:
    op.drop_index(op.f("ix_idempotency_key_created"), table_name="idempotency_key")
    op.drop_table("idempotency_key")
