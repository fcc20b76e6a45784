"""idempotency keys: the first answer to a create, replayed on a retry (issue 12 item 8)

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 03:30:00
"""
from ktt_common.infra_migrations import downgrade_idempotency_keys, upgrade_idempotency_keys

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    upgrade_idempotency_keys()


def downgrade() -> None:
    downgrade_idempotency_keys()
