"""Migration steps of the infrastructure tables, shared by every service's Alembic revisions
(each service's revision calls the step; the tables are the same everywhere)."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from ktt_common.db import UTCDateTime


def create_infrastructure_tables() -> None:
    """The first revision's infrastructure tables of every service: audit log, dead letters, inbox,
    job runs, outbox (as Alembic generated them from ``ktt_common.infra``)."""
    op.create_table(
        "audit_log",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), sa.Identity(always=False), nullable=False),
        sa.Column("at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("role", sa.String(length=50), nullable=False),
        sa.Column("provider_id", sa.String(length=100), nullable=True),
        sa.Column("action", sa.String(length=100), nullable=False),
        sa.Column("target_type", sa.String(length=100), nullable=False),
        sa.Column("target_id", sa.String(length=100), nullable=True),
        sa.Column("client_ids", sa.JSON(), nullable=False),
        sa.Column("correlation_id", sa.String(length=100), nullable=True),
        sa.Column("details", sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
    )
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.create_index("ix_audit_log_target", ["target_type", "target_id"], unique=False)

    op.create_table(
        "dead_letter",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("consumer", sa.String(length=100), nullable=False),
        sa.Column("event_id", sa.String(length=100), nullable=True),
        sa.Column("event_type", sa.String(length=200), nullable=True),
        sa.Column("subject", sa.String(length=200), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("error", sa.Text(), nullable=False),
        sa.Column("deliveries", sa.Integer(), nullable=False),
        sa.Column("parked_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("replayed_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("replay_error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dead_letter")),
    )
    with op.batch_alter_table("dead_letter", schema=None) as batch_op:
        batch_op.create_index("ix_dead_letter_open", ["replayed_at", "parked_at"], unique=False)

    op.create_table(
        "inbox",
        sa.Column("event_id", sa.Uuid(), nullable=False),
        sa.Column("consumer", sa.String(length=100), nullable=False),
        sa.Column("event_type", sa.String(length=200), nullable=False),
        sa.Column("handled_at", UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("event_id", "consumer", name=op.f("pk_inbox")),
    )
    op.create_table(
        "job_run",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("job", sa.String(length=100), nullable=False),
        sa.Column("run_date", sa.Date(), nullable=False),
        sa.Column("trigger", sa.String(length=20), nullable=False),
        sa.Column("started_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("finished_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("result", sa.JSON(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_job_run")),
    )
    with op.batch_alter_table("job_run", schema=None) as batch_op:
        batch_op.create_index("ix_job_run_job_date", ["job", "run_date"], unique=False)

    op.create_table(
        "outbox",
        sa.Column("seq", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), sa.Identity(always=False), nullable=False),
        sa.Column("event_id", sa.Uuid(), nullable=False),
        sa.Column("subject", sa.String(length=200), nullable=False),
        sa.Column("event_type", sa.String(length=200), nullable=False),
        sa.Column("envelope", sa.Text(), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("published_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("stream_seq", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_outbox")),
        sa.UniqueConstraint("event_id", name=op.f("uq_outbox_event_id")),
    )
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.create_index("ix_outbox_unpublished", ["published_at", "seq"], unique=False)


def drop_infrastructure_tables() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_unpublished")

    op.drop_table("outbox")
    with op.batch_alter_table("job_run", schema=None) as batch_op:
        batch_op.drop_index("ix_job_run_job_date")

    op.drop_table("job_run")
    op.drop_table("inbox")
    with op.batch_alter_table("dead_letter", schema=None) as batch_op:
        batch_op.drop_index("ix_dead_letter_open")

    op.drop_table("dead_letter")
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.drop_index("ix_audit_log_target")

    op.drop_table("audit_log")


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
