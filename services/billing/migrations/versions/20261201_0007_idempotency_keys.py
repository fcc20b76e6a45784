"""idempotency keys: the first answer to a create, replayed on a retry (issue 12 item 8)

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 03:30:00
"""
from ktt_common.infra_migrations import downgrade_idempotency_keys, upgrade_idempotency_keys

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    upgrade_idempotency_keys()


def downgrade() -> None:
    downgrade_idempotency_keys()
