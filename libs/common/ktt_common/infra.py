"""Infrastructure tables that every service keeps in its own database.

They are defined on the service's own metadata (so each service's Alembic migrations
create them) by :func:`define_infra_tables`.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import JSON, BigInteger, Column, Date, Identity, Index, Integer, MetaData, String, Table, Text, Uuid

from ktt_common.db import UTCDateTime


@dataclass(frozen=True)
class InfraTables:
    outbox: Table
    inbox: Table
    dead_letter: Table
    audit_log: Table
    job_run: Table
    lease: Table
    entity_revision: Table
    audit_head: Table
    idempotency_key: Table


def define_infra_tables(metadata: MetaData) -> InfraTables:
    # BigInteger autoincrement keeps publication order; on SQLite it must be INTEGER to alias rowid.
    seq_type = BigInteger().with_variant(Integer(), "sqlite")
    outbox = Table(
        "outbox",
        metadata,
        Column("seq", seq_type, Identity(), primary_key=True),
        Column("event_id", Uuid, nullable=False, unique=True),
        Column("subject", String(200), nullable=False),
        Column("event_type", String(200), nullable=False),
        Column("envelope", Text, nullable=False),
        Column("created_at", UTCDateTime, nullable=False),
        Column("published_at", UTCDateTime, nullable=True),
        Column("attempts", Integer, nullable=False, default=0),
        Column("last_error", Text, nullable=True),
        Column("stream_seq", BigInteger, nullable=True),
        # Set when the relay gave up on the row after OUTBOX_MAX_ATTEMPTS failures (it goes on with the next).
        Column("parked_at", UTCDateTime, nullable=True),
        Index("ix_outbox_unpublished", "published_at", "seq"),
    )
    inbox = Table(
        "inbox",
        metadata,
        Column("event_id", Uuid, primary_key=True),
        Column("consumer", String(100), primary_key=True),
        Column("event_type", String(200), nullable=False),
        Column("handled_at", UTCDateTime, nullable=False),
    )
    dead_letter = Table(
        "dead_letter",
        metadata,
        Column("id", Uuid, primary_key=True),
        Column("consumer", String(100), nullable=False),
        Column("event_id", String(100), nullable=True),
        Column("event_type", String(200), nullable=True),
        Column("subject", String(200), nullable=False),
        Column("payload", Text, nullable=False),
        Column("error", Text, nullable=False),
        Column("deliveries", Integer, nullable=False),
        Column("parked_at", UTCDateTime, nullable=False),
        Column("replayed_at", UTCDateTime, nullable=True),
        Column("replay_error", Text, nullable=True),
        Index("ix_dead_letter_open", "replayed_at", "parked_at"),
    )
    audit_log = Table(
        "audit_log",
        metadata,
        Column("id", seq_type, Identity(), primary_key=True),
        Column("at", UTCDateTime, nullable=False),
        Column("actor", String(200), nullable=False),
        Column("role", String(50), nullable=False),
        Column("provider_id", String(100), nullable=True),
        Column("action", String(100), nullable=False),
        Column("target_type", String(100), nullable=False),
        Column("target_id", String(100), nullable=True),
        Column("client_ids", JSON, nullable=False),
        Column("correlation_id", String(100), nullable=True),
        Column("details", JSON, nullable=True),
        # Tamper evidence (issue 13): the row's place in the chain, the previous row's hash and its
        # own (sha256 over the canonical row and prev_hash; ktt_common.audit.chain_hash).
        Column("chain_seq", BigInteger, nullable=False, unique=True),
        Column("prev_hash", String(64), nullable=False),
        Column("row_hash", String(64), nullable=False),
        Index("ix_audit_log_target", "target_type", "target_id"),
    )
    # The head of the audit chain: one row, locked (FOR UPDATE) by the transaction that appends,
    # so that appends are serialised; it also lets a deleted tail of the chain be noticed.
    audit_head = Table(
        "audit_head",
        metadata,
        Column("name", String(50), primary_key=True),
        Column("last_seq", BigInteger, nullable=False),
        Column("last_hash", String(64), nullable=False),
    )
    job_run = Table(
        "job_run",
        metadata,
        Column("id", Uuid, primary_key=True),
        Column("job", String(100), nullable=False),
        Column("run_date", Date, nullable=False),
        Column("trigger", String(20), nullable=False),
        Column("started_at", UTCDateTime, nullable=False),
        Column("finished_at", UTCDateTime, nullable=True),
        Column("result", JSON, nullable=True),
        Column("error", Text, nullable=True),
        Index("ix_job_run_job_date", "job", "run_date"),
    )
    # A named lease held by one process at a time until it expires (the outbox relay, the job
    # scheduler): a compare-and-set row that works the same on SQLite and PostgreSQL.
    lease = Table(
        "lease",
        metadata,
        Column("name", String(100), primary_key=True),
        Column("holder", String(200), nullable=False),
        Column("expires_at", UTCDateTime, nullable=False),
    )
    # The last revision handed out per entity ("unit:<id>"), for the revision carried in events.
    entity_revision = Table(
        "entity_revision",
        metadata,
        Column("entity", String(200), primary_key=True),
        Column("revision", BigInteger, nullable=False),
    )
    # The first answer to a create sent with an Idempotency-Key, replayed on a retry (issue 12 item 8).
    idempotency_key = Table(
        "idempotency_key",
        metadata,
        Column("key", String(200), primary_key=True),
        Column("principal", String(300), primary_key=True),
        Column("request", String(300), nullable=False),
        Column("request_hash", String(64), nullable=False),
        Column("status", Integer, nullable=True),
        Column("media_type", String(200), nullable=True),
        Column("body", Text, nullable=True),
        Column("created_at", UTCDateTime, nullable=False),
        Index("ix_idempotency_key_created", "created_at"),
    )
    return InfraTables(outbox=outbox, inbox=inbox, dead_letter=dead_letter, audit_log=audit_log, job_run=job_run,
                       lease=lease, entity_revision=entity_revision, audit_head=audit_head,
                       idempotency_key=idempotency_key)
