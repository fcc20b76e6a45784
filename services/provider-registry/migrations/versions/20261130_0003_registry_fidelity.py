"""registry fidelity (issue 11): queue entries' rank among the unit's individual places (PRV-7)

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-30 18:00:00
"""
from alembic import op
import sqlalchemy as sa
import ktt_common.db  # noqa: F401  (column types of later steps)


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # PRV-7: rank among every client waiting for the unit's individual places.
    with op.batch_alter_table('queue_entry', schema=None) as batch_op:
        batch_op.add_column(sa.Column('unit_position', sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('queue_entry', schema=None) as batch_op:
        batch_op.drop_column('unit_position')
