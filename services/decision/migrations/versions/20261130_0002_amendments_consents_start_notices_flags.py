"""Amendments and revocation (DEC-7), full client data (DEC-3), consents (DATA-1),
start notices (DEC-6) and refusal/interruption records (DEC-9)

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-30 11:14:08.254745
"""
import sqlalchemy as sa
from alembic import op

import ktt_common.db

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('client_flag',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('client_id', sa.Uuid(), nullable=False),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('occurred_on', sa.Date(), nullable=False),
    sa.Column('source_event_id', sa.String(length=100), nullable=False),
    sa.Column('source_event_type', sa.String(length=200), nullable=False),
    sa.Column('voucher_id', sa.Uuid(), nullable=True),
    sa.Column('decision_id', sa.Uuid(), nullable=True),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('details', sa.JSON(), nullable=False),
    sa.Column('created_at', ktt_common.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_client_flag')),
    sa.UniqueConstraint('source_event_id', name=op.f('uq_client_flag_source_event_id'))
    )
    with op.batch_alter_table('client_flag', schema=None) as batch_op:
        batch_op.create_index('ix_client_flag_client', ['client_id', 'occurred_on'], unique=False)

    op.create_table('consent',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('client_id', sa.Uuid(), nullable=False),
    sa.Column('provider_id', sa.String(length=100), nullable=False),
    sa.Column('scope', sa.JSON(), nullable=False),
    sa.Column('scope_key', sa.String(length=200), nullable=False),
    sa.Column('given_on', sa.Date(), nullable=False),
    sa.Column('valid_until', sa.Date(), nullable=True),
    sa.Column('recorded_by', sa.String(length=200), nullable=False),
    sa.Column('recorded_at', ktt_common.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('withdrawn_on', sa.Date(), nullable=True),
    sa.Column('withdrawn_by', sa.String(length=200), nullable=True),
    sa.ForeignKeyConstraint(['client_id'], ['client.id'], name=op.f('fk_consent_client_id_client')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_consent')),
    sa.UniqueConstraint('client_id', 'provider_id', 'given_on', 'scope_key', name=op.f('uq_consent_client_id_provider_id_given_on_scope_key'))
    )
    with op.batch_alter_table('consent', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_consent_client_id'), ['client_id'], unique=False)

    op.create_table('start_notice',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('client_id', sa.Uuid(), nullable=False),
    sa.Column('voucher_id', sa.Uuid(), nullable=False),
    sa.Column('decision_id', sa.Uuid(), nullable=False),
    sa.Column('agreement_id', sa.Uuid(), nullable=True),
    sa.Column('source_event_id', sa.String(length=100), nullable=False),
    sa.Column('first_name', sa.String(length=200), nullable=False),
    sa.Column('last_name', sa.String(length=200), nullable=False),
    sa.Column('started_on', sa.Date(), nullable=False),
    sa.Column('provider_id', sa.String(length=100), nullable=True),
    sa.Column('provider_name', sa.String(length=300), nullable=True),
    sa.Column('unit_id', sa.String(length=100), nullable=True),
    sa.Column('unit_name', sa.String(length=300), nullable=True),
    sa.Column('form', sa.String(length=20), nullable=True),
    sa.Column('days_per_week', sa.Integer(), nullable=True),
    sa.Column('hours_per_day', sa.Numeric(precision=4, scale=2), nullable=True),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('created_at', ktt_common.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('sent_on', sa.Date(), nullable=True),
    sa.Column('sent_by', sa.String(length=200), nullable=True),
    sa.ForeignKeyConstraint(['client_id'], ['client.id'], name=op.f('fk_start_notice_client_id_client')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_start_notice')),
    sa.UniqueConstraint('client_id', 'voucher_id', name=op.f('uq_start_notice_client_id_voucher_id'))
    )
    with op.batch_alter_table('start_notice', schema=None) as batch_op:
        batch_op.create_index('ix_start_notice_status', ['status', 'started_on'], unique=False)

    with op.batch_alter_table('client', schema=None) as batch_op:
        batch_op.add_column(sa.Column('municipality', sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column('phone', sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column('email', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('address', sa.String(length=300), nullable=True))
        batch_op.add_column(sa.Column('interpreter_needed', sa.Boolean(), nullable=True))

    with op.batch_alter_table('decision', schema=None) as batch_op:
        batch_op.add_column(sa.Column('decided_by', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('client_data', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('case_worker', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('plan', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('special', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('extension_justification', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('revoked_on', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('revoked_reason', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('revoked_by', sa.String(length=200), nullable=True))



def downgrade() -> None:
    with op.batch_alter_table('decision', schema=None) as batch_op:
        batch_op.drop_column('revoked_by')
        batch_op.drop_column('revoked_reason')
        batch_op.drop_column('revoked_on')
        batch_op.drop_column('extension_justification')
        batch_op.drop_column('special')
        batch_op.drop_column('plan')
        batch_op.drop_column('case_worker')
        batch_op.drop_column('client_data')
        batch_op.drop_column('decided_by')

    with op.batch_alter_table('client', schema=None) as batch_op:
        batch_op.drop_column('interpreter_needed')
        batch_op.drop_column('address')
        batch_op.drop_column('email')
        batch_op.drop_column('phone')
        batch_op.drop_column('municipality')

    with op.batch_alter_table('start_notice', schema=None) as batch_op:
        batch_op.drop_index('ix_start_notice_status')

    op.drop_table('start_notice')
    with op.batch_alter_table('consent', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_consent_client_id'))

    op.drop_table('consent')
    with op.batch_alter_table('client_flag', schema=None) as batch_op:
        batch_op.drop_index('ix_client_flag_client')

    op.drop_table('client_flag')
