"""agreement copies know their decision (VOU-7)

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30 23:00:00

VOU-7 and DEC-3: intensive-coaching hours are approved in the client's decision, so the cap is counted
across every agreement of that decision (a change of provider under the same decision does not grant
the hours again). AgreementSigned/Changed carry decision_id; copies stored before this revision keep
NULL and are capped per agreement, as before, until their next AgreementChanged.
"""
import sqlalchemy as sa
from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('agreement_copy', schema=None) as batch_op:
        batch_op.add_column(sa.Column('decision_id', sa.Uuid(), nullable=True))
        batch_op.create_index(batch_op.f('ix_agreement_copy_decision_id'), ['decision_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('agreement_copy', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_agreement_copy_decision_id'))
        batch_op.drop_column('decision_id')
