"""Receipt date of a decision (VOU-3)

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-30 15:02:11.418204
"""
from alembic import op
import sqlalchemy as sa


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('decision', schema=None) as batch_op:
        batch_op.add_column(sa.Column('received_on', sa.Date(), nullable=True))
    # VOU-3: decisions pushed before the receipt date existed were received, as far as we know, on their decision day.
    op.execute("UPDATE decision SET received_on = decided_on WHERE received_on IS NULL")


def downgrade() -> None:
    with op.batch_alter_table('decision', schema=None) as batch_op:
        batch_op.drop_column('received_on')
