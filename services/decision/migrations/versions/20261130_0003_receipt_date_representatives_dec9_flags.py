"""Receipt date of a decision (VOU-3), representatives (VOU-9), DEC-9 flags per fact with
absence corrections; refused vouchers are no DEC-9 flag (VOU-4)

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-30 15:02:11.418204
"""
import sqlalchemy as sa
from alembic import op

import ktt_common.db

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('representative',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('client_id', sa.Uuid(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('name_key', sa.String(length=200), nullable=False),
    sa.Column('phone', sa.String(length=40), nullable=True),
    sa.Column('email', sa.String(length=200), nullable=True),
    sa.Column('relation', sa.String(length=200), nullable=True),
    sa.Column('scope', sa.JSON(), nullable=False),
    sa.Column('authorised_on', sa.Date(), nullable=False),
    sa.Column('valid_until', sa.Date(), nullable=True),
    sa.Column('recorded_by', sa.String(length=200), nullable=False),
    sa.Column('recorded_at', ktt_common.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('withdrawn_on', sa.Date(), nullable=True),
    sa.Column('withdrawn_by', sa.String(length=200), nullable=True),
    sa.ForeignKeyConstraint(['client_id'], ['client.id'], name=op.f('fk_representative_client_id_client')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_representative')),
    sa.UniqueConstraint('client_id', 'name_key', 'authorised_on', name=op.f('uq_representative_client_id_name_key_authorised_on'))
    )
    with op.batch_alter_table('representative', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_representative_client_id'), ['client_id'], unique=False)

    op.create_table('absence_revision',
    sa.Column('entry_id', sa.Uuid(), nullable=False),
    sa.Column('client_id', sa.Uuid(), nullable=False),
    sa.Column('revision', sa.Integer(), nullable=False),
    sa.Column('authorised', sa.Boolean(), nullable=False),
    sa.Column('seen_at', ktt_common.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('entry_id', name=op.f('pk_absence_revision'))
    )

    with op.batch_alter_table('decision', schema=None) as batch_op:
        batch_op.add_column(sa.Column('received_on', sa.Date(), nullable=True))
    # VOU-3: decisions pushed before the receipt date existed were received, as far as we know, on their decision day.
    op.execute("UPDATE decision SET received_on = decided_on WHERE received_on IS NULL")

    with op.batch_alter_table('client_flag', schema=None) as batch_op:
        batch_op.add_column(sa.Column('source_key', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('cleared_on', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('cleared_reason', sa.Text(), nullable=True))
        batch_op.create_unique_constraint(batch_op.f('uq_client_flag_source_key'), ['source_key'])
    # DEC-9 / VOU-4: refusing the voucher is the client's right, not a refusal of KTT. The flags
    # recorded for it were wrong; the refusal itself stays on the voucher (voucher service).
    op.execute("DELETE FROM client_flag WHERE kind = 'voucher_refused'")


def downgrade() -> None:
    with op.batch_alter_table('client_flag', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_client_flag_source_key'), type_='unique')
        batch_op.drop_column('cleared_reason')
        batch_op.drop_column('cleared_on')
        batch_op.drop_column('source_key')

    with op.batch_alter_table('decision', schema=None) as batch_op:
        batch_op.drop_column('received_on')

    op.drop_table('absence_revision')
    with op.batch_alter_table('representative', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_representative_client_id'))

    op.drop_table('representative')
