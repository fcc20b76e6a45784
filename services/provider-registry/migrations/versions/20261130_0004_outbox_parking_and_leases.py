"""outbox parking, leases, entity revisions; agreement places remember an end seen before its start

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30 22:10:00
"""
import sqlalchemy as sa
from alembic import op

from ktt_common.infra_migrations import downgrade_bus_housekeeping, upgrade_bus_housekeeping

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    upgrade_bus_housekeeping()
    # An agreement's end can arrive before its start: the place row then lacks the start's facts.
    with op.batch_alter_table("agreement_place") as batch:
        batch.add_column(sa.Column("revision", sa.BigInteger(), nullable=True))
        batch.alter_column("product_id", existing_type=sa.Uuid(), nullable=True)
        batch.alter_column("form", existing_type=sa.String(length=20), nullable=True)
        batch.alter_column("signed_on", existing_type=sa.Date(), nullable=True)


def downgrade() -> None:
    with op.batch_alter_table("agreement_place") as batch:
        batch.drop_column("revision")
    downgrade_bus_housekeeping()
