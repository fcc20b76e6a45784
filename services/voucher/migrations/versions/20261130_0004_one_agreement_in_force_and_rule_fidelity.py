"""one agreement in force per client (AGR-18), signatures, ends, changes, copies

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30 19:30:00

AGR-18 in the database: a client's agreements never share a day in force. On PostgreSQL an
exclusion constraint over (client_id, daterange(start, last day in force)); on SQLite two
triggers that refuse the insert or update that would overlap. Both compute the last day in
force as ``agreement_rules.in_force_until`` does: the end date while signed or active, the end
day once ended, nothing for drafts, withdrawn drafts and agreements ended before their start.
"""
import sqlalchemy as sa
from alembic import op

import ktt_common.db

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None

IN_FORCE = "state IN ('signed', 'active') OR (state = 'ended' AND ended_on >= start_date)"
UNTIL = "CASE WHEN state = 'ended' THEN ended_on ELSE end_date END"


def _sqlite_overlap_check(new: str) -> str:
    return f"""
        WHEN ({new}.state IN ('signed', 'active') OR ({new}.state = 'ended' AND {new}.ended_on >= {new}.start_date))
         AND EXISTS (
            SELECT 1 FROM agreement AS other
            WHERE other.client_id = {new}.client_id AND other.id != {new}.id
              AND (other.state IN ('signed', 'active') OR (other.state = 'ended' AND other.ended_on >= other.start_date))
              AND other.start_date <= (CASE WHEN {new}.state = 'ended' THEN {new}.ended_on ELSE {new}.end_date END)
              AND {new}.start_date <= (CASE WHEN other.state = 'ended' THEN other.ended_on ELSE other.end_date END))
        BEGIN SELECT RAISE(ABORT, 'AGR-18: another agreement of this client is in force on these days'); END
    """


def upgrade() -> None:
    with op.batch_alter_table('voucher', schema=None) as batch_op:
        batch_op.add_column(sa.Column('received_on', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('contacted_on', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('contacted_provider_id', sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column('approved_hours', sa.Integer(), nullable=True))
    with op.batch_alter_table('voucher_link', schema=None) as batch_op:
        batch_op.add_column(sa.Column('representative_id', sa.Uuid(), nullable=True))
    with op.batch_alter_table('provider_copy', schema=None) as batch_op:
        batch_op.add_column(sa.Column('insurance_valid_until', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('insurance_lapsed_on', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('insurance_event_time', ktt_common.db.UTCDateTime(timezone=True), nullable=True))
    with op.batch_alter_table('unit_copy', schema=None) as batch_op:
        batch_op.add_column(sa.Column('signing_deputies', sa.JSON(), nullable=False, server_default=sa.text("'[]'")))
    with op.batch_alter_table('agreement', schema=None) as batch_op:
        batch_op.add_column(sa.Column('instructor_signature', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('signed_at', ktt_common.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('end_proposal', sa.JSON(), nullable=True))
        batch_op.create_index('ix_agreement_client_state', ['client_id', 'state'], unique=False)
    with op.batch_alter_table('agreement_period', schema=None) as batch_op:
        batch_op.add_column(sa.Column('schedule_from', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('earlier_schedules', sa.JSON(), nullable=False, server_default=sa.text("'[]'")))

    op.create_table('capacity_copy',
    sa.Column('unit_id', sa.Uuid(), nullable=False),
    sa.Column('provider_id', sa.String(length=100), nullable=False),
    sa.Column('capacity', sa.Integer(), nullable=False),
    sa.Column('occupied', sa.Integer(), nullable=False),
    sa.Column('free_places', sa.Integer(), nullable=False),
    sa.Column('taking_clients', sa.Boolean(), nullable=False),
    sa.Column('event_time', ktt_common.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('unit_id', name=op.f('pk_capacity_copy'))
    )
    op.create_table('queue_copy',
    sa.Column('unit_id', sa.Uuid(), nullable=False),
    sa.Column('product_id', sa.Uuid(), nullable=False),
    sa.Column('client_ids', sa.JSON(), nullable=False),
    sa.Column('unit_ranks', sa.JSON(), nullable=False, server_default=sa.text("'{}'")),
    sa.Column('event_time', ktt_common.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('unit_id', 'product_id', name=op.f('pk_queue_copy'))
    )
    op.create_table('representative_copy',
    sa.Column('representative_id', sa.Uuid(), nullable=False),
    sa.Column('client_id', sa.Uuid(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('scope', sa.JSON(), nullable=False),
    sa.Column('authorised_on', sa.Date(), nullable=False),
    sa.Column('valid_until', sa.Date(), nullable=True),
    sa.Column('withdrawn_on', sa.Date(), nullable=True),
    sa.PrimaryKeyConstraint('representative_id', name=op.f('pk_representative_copy'))
    )
    with op.batch_alter_table('representative_copy', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_representative_copy_client_id'), ['client_id'], unique=False)
    op.create_table('agreement_change',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('agreement_id', sa.Uuid(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('state', sa.String(length=20), nullable=False),
    sa.Column('effective_from', sa.Date(), nullable=False),
    sa.Column('end', sa.Date(), nullable=True),
    sa.Column('schedule', sa.JSON(), nullable=True),
    sa.Column('goals', sa.Text(), nullable=True),
    sa.Column('tasks', sa.JSON(), nullable=True),
    sa.Column('reduction_reason', sa.Text(), nullable=True),
    sa.Column('responsible_signature', sa.JSON(), nullable=True),
    sa.Column('client_signature', sa.JSON(), nullable=True),
    sa.Column('agreed_on', sa.Date(), nullable=True),
    sa.Column('created_by', sa.String(length=200), nullable=False),
    sa.Column('created_at', ktt_common.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['agreement_id'], ['agreement.id'], name=op.f('fk_agreement_change_agreement_id_agreement')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_agreement_change'))
    )
    with op.batch_alter_table('agreement_change', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_agreement_change_agreement_id'), ['agreement_id'], unique=False)

    # AGR-18: at most one agreement in force per client on any day.
    if op.get_bind().dialect.name == 'postgresql':
        op.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")
        op.execute(f"""
            ALTER TABLE agreement ADD CONSTRAINT ex_agreement_one_in_force_per_client
            EXCLUDE USING gist (client_id WITH =, daterange(start_date, {UNTIL}, '[]') WITH &&)
            WHERE ({IN_FORCE})
        """)
    else:
        op.execute("CREATE TRIGGER agreement_one_in_force_insert BEFORE INSERT ON agreement FOR EACH ROW"
                   + _sqlite_overlap_check("NEW"))
        op.execute("CREATE TRIGGER agreement_one_in_force_update BEFORE UPDATE ON agreement FOR EACH ROW"
                   + _sqlite_overlap_check("NEW"))


def downgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        op.execute("ALTER TABLE agreement DROP CONSTRAINT ex_agreement_one_in_force_per_client")
    else:
        op.execute("DROP TRIGGER agreement_one_in_force_insert")
        op.execute("DROP TRIGGER agreement_one_in_force_update")
    op.drop_table('agreement_change')
    op.drop_table('representative_copy')
    op.drop_table('queue_copy')
    op.drop_table('capacity_copy')
    with op.batch_alter_table('agreement_period', schema=None) as batch_op:
        batch_op.drop_column('earlier_schedules')
        batch_op.drop_column('schedule_from')
    with op.batch_alter_table('agreement', schema=None) as batch_op:
        batch_op.drop_index('ix_agreement_client_state')
        batch_op.drop_column('end_proposal')
        batch_op.drop_column('signed_at')
        batch_op.drop_column('instructor_signature')
    with op.batch_alter_table('unit_copy', schema=None) as batch_op:
        batch_op.drop_column('signing_deputies')
    with op.batch_alter_table('provider_copy', schema=None) as batch_op:
        batch_op.drop_column('insurance_event_time')
        batch_op.drop_column('insurance_lapsed_on')
        batch_op.drop_column('insurance_valid_until')
    with op.batch_alter_table('voucher_link', schema=None) as batch_op:
        batch_op.drop_column('representative_id')
    with op.batch_alter_table('voucher', schema=None) as batch_op:
        batch_op.drop_column('approved_hours')
        batch_op.drop_column('contacted_provider_id')
        batch_op.drop_column('contacted_on')
        batch_op.drop_column('received_on')
