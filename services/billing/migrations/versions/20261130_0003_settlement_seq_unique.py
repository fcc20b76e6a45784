"""settlement running number unique

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01 09:00:00

The running number behind the payment reference was max+1 with nothing to stop two settlements from
sharing it; settlements are now created under a lock (ktt_billing.settlements.service.lock_settlements)
and the database refuses a duplicate.
"""
from alembic import op

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('settlement', schema=None) as batch_op:
        batch_op.create_unique_constraint(batch_op.f('uq_settlement_seq'), ['seq'])


def downgrade() -> None:
    with op.batch_alter_table('settlement', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_settlement_seq'), type_='unique')
