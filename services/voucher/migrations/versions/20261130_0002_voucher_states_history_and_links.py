"""voucher states, history and links

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-30 11:14:14.144771
"""
import sqlalchemy as sa
from alembic import op

import ktt_common.db

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('voucher_event',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('voucher_id', sa.Uuid(), nullable=False),
    sa.Column('kind', sa.String(length=30), nullable=False),
    sa.Column('from_state', sa.String(length=20), nullable=True),
    sa.Column('to_state', sa.String(length=20), nullable=True),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('actor', sa.String(length=200), nullable=False),
    sa.Column('on_date', sa.Date(), nullable=False),
    sa.Column('at', ktt_common.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('details', sa.JSON(), nullable=True),
    sa.ForeignKeyConstraint(['voucher_id'], ['voucher.id'], name=op.f('fk_voucher_event_voucher_id_voucher')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_voucher_event')),
    sa.UniqueConstraint('voucher_id', 'to_state', name='uq_voucher_event_voucher_id_to_state')
    )
    with op.batch_alter_table('voucher_event', schema=None) as batch_op:
        batch_op.create_index('ix_voucher_event_voucher_at', ['voucher_id', 'at'], unique=False)

    op.create_table('voucher_link',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('voucher_id', sa.Uuid(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('created_by', sa.String(length=200), nullable=False),
    sa.Column('created_at', ktt_common.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', ktt_common.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['voucher_id'], ['voucher.id'], name=op.f('fk_voucher_link_voucher_id_voucher')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_voucher_link')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_voucher_link_token_hash'))
    )
    with op.batch_alter_table('voucher_link', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_voucher_link_voucher_id'), ['voucher_id'], unique=False)

    with op.batch_alter_table('voucher', schema=None) as batch_op:
        batch_op.add_column(sa.Column('decided_on', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('decision_version', sa.Integer(), server_default='1', nullable=False))
        batch_op.add_column(sa.Column('language', sa.String(length=8), server_default='fi', nullable=False))
        batch_op.add_column(sa.Column('state_reason', sa.Text(), nullable=True))
        batch_op.create_index(batch_op.f('ix_voucher_state'), ['state'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('voucher', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_voucher_state'))
        batch_op.drop_column('state_reason')
        batch_op.drop_column('language')
        batch_op.drop_column('decision_version')
        batch_op.drop_column('decided_on')

    with op.batch_alter_table('voucher_link', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_voucher_link_voucher_id'))

    op.drop_table('voucher_link')
    with op.batch_alter_table('voucher_event', schema=None) as batch_op:
        batch_op.drop_index('ix_voucher_event_voucher_at')

    op.drop_table('voucher_event')
