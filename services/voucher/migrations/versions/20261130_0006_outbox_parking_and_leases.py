"""outbox parking, leases, entity revisions; registry copies keep the revision they were set from

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30 22:10:00
"""
import sqlalchemy as sa
from alembic import op

from ktt_common.infra_migrations import downgrade_bus_housekeeping, upgrade_bus_housekeeping

# Registry copies remember the producer's revision they were last set from (issue 12 item 3).
COPIES = ("provider_copy", "unit_copy", "capacity_copy", "queue_copy", "product_copy")

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    upgrade_bus_housekeeping()
    for table in COPIES:
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("revision", sa.BigInteger(), nullable=True))
    with op.batch_alter_table("provider_copy") as batch:
        batch.add_column(sa.Column("insurance_revision", sa.BigInteger(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("provider_copy") as batch:
        batch.drop_column("insurance_revision")
    for table in COPIES:
        with op.batch_alter_table(table) as batch:
            batch.drop_column("revision")
    downgrade_bus_housekeeping()
