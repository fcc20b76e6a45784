"""registry fidelity (issue 11): queue entries' rank among the unit's individual places (PRV-7);
social guidance and the staff report (PRV-16); premises inspections (PRV-17); insurance policy
periods and registry alerts (PRV-10); quality records (QUA-2)

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-30 18:00:00
"""
import datetime as dt
import uuid

import sqlalchemy as sa
from alembic import op

import ktt_common.db

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # PRV-7: rank among every client waiting for the unit's individual places.
    with op.batch_alter_table('queue_entry', schema=None) as batch_op:
        batch_op.add_column(sa.Column('unit_position', sa.Integer(), nullable=True))

    # PRV-16: who gives social guidance; the staff data given to the city.
    op.create_table('social_guidance',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('provider_id', sa.String(length=100), nullable=False),
    sa.Column('unit_id', sa.Uuid(), nullable=True),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('qualification', sa.String(length=50), nullable=False),
    sa.Column('registration_number', sa.String(length=50), nullable=False),
    sa.Column('availability', sa.Text(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('started_on', sa.Date(), nullable=False),
    sa.Column('ended_on', sa.Date(), nullable=True),
    sa.Column('created_by', sa.String(length=200), nullable=False),
    sa.Column('created_at', ktt_common.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['provider_id'], ['provider.id'], name=op.f('fk_social_guidance_provider_id_provider')),
    sa.ForeignKeyConstraint(['unit_id'], ['unit.id'], name=op.f('fk_social_guidance_unit_id_unit')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_social_guidance'))
    )
    with op.batch_alter_table('social_guidance', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_social_guidance_provider_id'), ['provider_id'], unique=False)

    op.create_table('staff_member',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('provider_id', sa.String(length=100), nullable=False),
    sa.Column('unit_id', sa.Uuid(), nullable=True),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('role', sa.String(length=100), nullable=False),
    sa.Column('qualification', sa.String(length=200), nullable=False),
    sa.Column('education_level', sa.String(length=30), nullable=True),
    sa.Column('responsibilities', sa.Text(), nullable=True),
    sa.Column('reported_on', sa.Date(), nullable=False),
    sa.Column('reported_by', sa.String(length=200), nullable=False),
    sa.Column('created_at', ktt_common.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['provider_id'], ['provider.id'], name=op.f('fk_staff_member_provider_id_provider')),
    sa.ForeignKeyConstraint(['unit_id'], ['unit.id'], name=op.f('fk_staff_member_unit_id_unit')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_staff_member'))
    )
    with op.batch_alter_table('staff_member', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_staff_member_provider_id'), ['provider_id'], unique=False)

    # PRV-17: Typake's inspections of units' premises and its statements to AVI.
    op.create_table('premises_inspection',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('unit_id', sa.Uuid(), nullable=False),
    sa.Column('provider_id', sa.String(length=100), nullable=False),
    sa.Column('inspected_on', sa.Date(), nullable=False),
    sa.Column('inspector', sa.String(length=200), nullable=False),
    sa.Column('outcome', sa.String(length=20), nullable=False),
    sa.Column('remarks', sa.Text(), nullable=True),
    sa.Column('avi_statement_on', sa.Date(), nullable=True),
    sa.Column('recorded_by', sa.String(length=200), nullable=False),
    sa.Column('created_at', ktt_common.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['provider_id'], ['provider.id'], name=op.f('fk_premises_inspection_provider_id_provider')),
    sa.ForeignKeyConstraint(['unit_id'], ['unit.id'], name=op.f('fk_premises_inspection_unit_id_unit')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_premises_inspection'))
    )
    with op.batch_alter_table('premises_inspection', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_premises_inspection_provider_id'), ['provider_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_premises_inspection_unit_id'), ['unit_id'], unique=False)

    # PRV-10: every recorded policy period; the one provider columns held so far become the first rows.
    op.create_table('insurance_policy',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('provider_id', sa.String(length=100), nullable=False),
    sa.Column('insurer', sa.String(length=200), nullable=False),
    sa.Column('policy_number', sa.String(length=100), nullable=False),
    sa.Column('valid_from', sa.Date(), nullable=False),
    sa.Column('valid_until', sa.Date(), nullable=False),
    sa.Column('recorded_on', sa.Date(), nullable=False),
    sa.Column('recorded_by', sa.String(length=200), nullable=False),
    sa.Column('created_at', ktt_common.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['provider_id'], ['provider.id'], name=op.f('fk_insurance_policy_provider_id_provider')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_insurance_policy')),
    sa.UniqueConstraint('provider_id', 'policy_number', 'valid_from', name=op.f('uq_insurance_policy_provider_id_policy_number_valid_from'))
    )
    with op.batch_alter_table('insurance_policy', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_insurance_policy_provider_id'), ['provider_id'], unique=False)
    provider = sa.table('provider', sa.column('id', sa.String), sa.column('insurance_insurer', sa.String),
                        sa.column('insurance_policy_number', sa.String), sa.column('insurance_valid_from', sa.Date),
                        sa.column('insurance_valid_until', sa.Date), sa.column('updated_at', ktt_common.db.UTCDateTime))
    policy = sa.table('insurance_policy', sa.column('id', sa.Uuid), sa.column('provider_id', sa.String),
                      sa.column('insurer', sa.String), sa.column('policy_number', sa.String),
                      sa.column('valid_from', sa.Date), sa.column('valid_until', sa.Date), sa.column('recorded_on', sa.Date),
                      sa.column('recorded_by', sa.String), sa.column('created_at', ktt_common.db.UTCDateTime))
    rows = op.get_bind().execute(sa.select(provider).where(provider.c.insurance_valid_until.is_not(None))).all()
    if rows:
        op.bulk_insert(policy, [{
            'id': uuid.uuid4(), 'provider_id': r.id, 'insurer': r.insurance_insurer or '', 'policy_number': r.insurance_policy_number or '',
            'valid_from': r.insurance_valid_from or r.insurance_valid_until, 'valid_until': r.insurance_valid_until,
            'recorded_on': r.updated_at.date() if r.updated_at else dt.date.today(), 'recorded_by': 'migration 0003',
            'created_at': r.updated_at or dt.datetime.now(dt.UTC),
        } for r in rows])

    # PRV-10 (and later kinds): alerts officials see and acknowledge.
    op.create_table('registry_alert',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('provider_id', sa.String(length=100), nullable=False),
    sa.Column('rule', sa.String(length=20), nullable=False),
    sa.Column('since', sa.Date(), nullable=False),
    sa.Column('message', sa.Text(), nullable=False),
    sa.Column('open', sa.Boolean(), nullable=True),
    sa.Column('resolved_on', sa.Date(), nullable=True),
    sa.Column('acknowledged', sa.Boolean(), nullable=False),
    sa.Column('acknowledged_by', sa.String(length=200), nullable=True),
    sa.Column('acknowledged_on', sa.Date(), nullable=True),
    sa.Column('created_at', ktt_common.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['provider_id'], ['provider.id'], name=op.f('fk_registry_alert_provider_id_provider')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_registry_alert')),
    sa.UniqueConstraint('provider_id', 'kind', 'open', name='uq_registry_alert_open'),
    sa.UniqueConstraint('provider_id', 'kind', 'since', name='uq_registry_alert_since')
    )
    with op.batch_alter_table('registry_alert', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_registry_alert_kind'), ['kind'], unique=False)
        batch_op.create_index(batch_op.f('ix_registry_alert_provider_id'), ['provider_id'], unique=False)

    # QUA-2: spot checks, visits, client panels, self-monitoring plans and annual reports received.
    op.create_table('quality_record',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('provider_id', sa.String(length=100), nullable=False),
    sa.Column('unit_id', sa.Uuid(), nullable=True),
    sa.Column('kind', sa.String(length=30), nullable=False),
    sa.Column('occurred_on', sa.Date(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=True),
    sa.Column('summary', sa.Text(), nullable=True),
    sa.Column('participants', sa.Integer(), nullable=True),
    sa.Column('recorded_by', sa.String(length=200), nullable=False),
    sa.Column('created_at', ktt_common.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['provider_id'], ['provider.id'], name=op.f('fk_quality_record_provider_id_provider')),
    sa.ForeignKeyConstraint(['unit_id'], ['unit.id'], name=op.f('fk_quality_record_unit_id_unit')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_quality_record')),
    sa.UniqueConstraint('provider_id', 'kind', 'year', name=op.f('uq_quality_record_provider_id_kind_year'))
    )
    with op.batch_alter_table('quality_record', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_quality_record_occurred_on'), ['occurred_on'], unique=False)
        batch_op.create_index(batch_op.f('ix_quality_record_provider_id'), ['provider_id'], unique=False)


def downgrade() -> None:
    op.drop_table('quality_record')
    op.drop_table('registry_alert')
    op.drop_table('insurance_policy')
    op.drop_table('premises_inspection')
    op.drop_table('staff_member')
    op.drop_table('social_guidance')
    with op.batch_alter_table('queue_entry', schema=None) as batch_op:
        batch_op.drop_column('unit_position')
