"""audit log hash chain: chain_seq, prev_hash, row_hash and the chain head, backfilled (issue 13)

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 03:30:00
"""
from ktt_common.infra_migrations import downgrade_audit_chain, upgrade_audit_chain

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    upgrade_audit_chain()


def downgrade() -> None:
    downgrade_audit_chain()
