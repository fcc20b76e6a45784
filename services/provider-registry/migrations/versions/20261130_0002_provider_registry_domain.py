"""provider registry domain: providers, units, staff, products and values, groups, queues,
subcontractors, feedback, agreement places

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-30 11:35:28.720887
"""
import sqlalchemy as sa
from alembic import op

import ktt_common.db

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('agreement_place',
    sa.Column('agreement_id', sa.Uuid(), nullable=False),
    sa.Column('unit_id', sa.Uuid(), nullable=False),
    sa.Column('product_id', sa.Uuid(), nullable=False),
    sa.Column('client_id', sa.Uuid(), nullable=False),
    sa.Column('form', sa.String(length=20), nullable=False),
    sa.Column('signed_on', sa.Date(), nullable=False),
    sa.Column('ended_on', sa.Date(), nullable=True),
    sa.Column('created_at', ktt_common.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('agreement_id', name=op.f('pk_agreement_place'))
    )
    with op.batch_alter_table('agreement_place', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_agreement_place_unit_id'), ['unit_id'], unique=False)

    op.create_table('provider',
    sa.Column('id', sa.String(length=100), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('business_id', sa.String(length=9), nullable=False),
    sa.Column('legal_form', sa.String(length=50), nullable=False),
    sa.Column('registration_register', sa.String(length=20), nullable=False),
    sa.Column('registration_number', sa.String(length=100), nullable=False),
    sa.Column('registration_date', sa.Date(), nullable=False),
    sa.Column('data_protection_officer', sa.JSON(), nullable=False),
    sa.Column('contact', sa.JSON(), nullable=False),
    sa.Column('website', sa.String(length=300), nullable=True),
    sa.Column('supplier_number', sa.String(length=50), nullable=True),
    sa.Column('payment_terms_days', sa.Integer(), nullable=False),
    sa.Column('iban', sa.String(length=34), nullable=False),
    sa.Column('presentation', sa.Text(), nullable=True),
    sa.Column('phone_hours', sa.String(length=300), nullable=True),
    sa.Column('insurance_insurer', sa.String(length=200), nullable=True),
    sa.Column('insurance_policy_number', sa.String(length=100), nullable=True),
    sa.Column('insurance_valid_from', sa.Date(), nullable=True),
    sa.Column('insurance_valid_until', sa.Date(), nullable=True),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('status_reason', sa.Text(), nullable=True),
    sa.Column('status_changed_on', sa.Date(), nullable=False),
    sa.Column('applied_on', sa.Date(), nullable=False),
    sa.Column('created_at', ktt_common.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', ktt_common.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_provider')),
    sa.UniqueConstraint('business_id', name=op.f('uq_provider_business_id'))
    )
    with op.batch_alter_table('provider', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_provider_status'), ['status'], unique=False)

    op.create_table('product',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('provider_id', sa.String(length=100), nullable=False),
    sa.Column('kind', sa.String(length=30), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('tasks', sa.JSON(), nullable=False),
    sa.Column('themes', sa.JSON(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', ktt_common.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', ktt_common.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['provider_id'], ['provider.id'], name=op.f('fk_product_provider_id_provider')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_product'))
    )
    with op.batch_alter_table('product', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_product_provider_id'), ['provider_id'], unique=False)

    op.create_table('provider_status_change',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('provider_id', sa.String(length=100), nullable=False),
    sa.Column('from_status', sa.String(length=20), nullable=False),
    sa.Column('to_status', sa.String(length=20), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('changed_by', sa.String(length=200), nullable=False),
    sa.Column('changed_on', sa.Date(), nullable=False),
    sa.Column('created_at', ktt_common.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['provider_id'], ['provider.id'], name=op.f('fk_provider_status_change_provider_id_provider')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_provider_status_change'))
    )
    with op.batch_alter_table('provider_status_change', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_provider_status_change_provider_id'), ['provider_id'], unique=False)

    op.create_table('subcontractor',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('provider_id', sa.String(length=100), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('business_id', sa.String(length=9), nullable=False),
    sa.Column('services', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('forbidden_reason', sa.Text(), nullable=True),
    sa.Column('forbidden_on', sa.Date(), nullable=True),
    sa.Column('declared_on', sa.Date(), nullable=False),
    sa.Column('created_at', ktt_common.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['provider_id'], ['provider.id'], name=op.f('fk_subcontractor_provider_id_provider')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_subcontractor')),
    sa.UniqueConstraint('provider_id', 'business_id', name=op.f('uq_subcontractor_provider_id_business_id'))
    )
    with op.batch_alter_table('subcontractor', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_subcontractor_provider_id'), ['provider_id'], unique=False)

    op.create_table('unit',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('provider_id', sa.String(length=100), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('street_address', sa.String(length=300), nullable=False),
    sa.Column('postal_code', sa.String(length=5), nullable=False),
    sa.Column('city', sa.String(length=100), nullable=False),
    sa.Column('district', sa.String(length=100), nullable=True),
    sa.Column('service_producer_code', sa.String(length=50), nullable=False),
    sa.Column('responsible_person', sa.JSON(), nullable=False),
    sa.Column('foli_reachable', sa.Boolean(), nullable=False),
    sa.Column('step_free_access', sa.Boolean(), nullable=False),
    sa.Column('suits_partial_work_ability', sa.Boolean(), nullable=False),
    sa.Column('languages', sa.JSON(), nullable=False),
    sa.Column('phone_hours', sa.String(length=300), nullable=True),
    sa.Column('premises', sa.JSON(), nullable=False),
    sa.Column('meals', sa.JSON(), nullable=False),
    sa.Column('occupied', sa.Integer(), nullable=False),
    sa.Column('unable_reason', sa.Text(), nullable=True),
    sa.Column('unable_since', sa.Date(), nullable=True),
    sa.Column('created_at', ktt_common.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', ktt_common.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['provider_id'], ['provider.id'], name=op.f('fk_unit_provider_id_provider')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_unit')),
    sa.UniqueConstraint('service_producer_code', name=op.f('uq_unit_service_producer_code'))
    )
    with op.batch_alter_table('unit', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_unit_postal_code'), ['postal_code'], unique=False)
        batch_op.create_index(batch_op.f('ix_unit_provider_id'), ['provider_id'], unique=False)

    op.create_table('feedback',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('provider_id', sa.String(length=100), nullable=False),
    sa.Column('unit_id', sa.Uuid(), nullable=True),
    sa.Column('client_id', sa.Uuid(), nullable=True),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('channel', sa.String(length=30), nullable=False),
    sa.Column('rating', sa.Integer(), nullable=True),
    sa.Column('comment', sa.Text(), nullable=True),
    sa.Column('status', sa.String(length=20), nullable=True),
    sa.Column('resolution', sa.Text(), nullable=True),
    sa.Column('received_on', sa.Date(), nullable=False),
    sa.Column('resolved_on', sa.Date(), nullable=True),
    sa.Column('created_by', sa.String(length=200), nullable=False),
    sa.Column('created_at', ktt_common.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', ktt_common.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['provider_id'], ['provider.id'], name=op.f('fk_feedback_provider_id_provider')),
    sa.ForeignKeyConstraint(['unit_id'], ['unit.id'], name=op.f('fk_feedback_unit_id_unit')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_feedback'))
    )
    with op.batch_alter_table('feedback', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_feedback_provider_id'), ['provider_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_feedback_received_on'), ['received_on'], unique=False)

    op.create_table('instructor',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('unit_id', sa.Uuid(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('qualification', sa.String(length=200), nullable=False),
    sa.Column('methods', sa.JSON(), nullable=False),
    sa.Column('phone', sa.String(length=40), nullable=True),
    sa.Column('email', sa.String(length=200), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', ktt_common.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['unit_id'], ['unit.id'], name=op.f('fk_instructor_unit_id_unit')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_instructor'))
    )
    with op.batch_alter_table('instructor', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_instructor_unit_id'), ['unit_id'], unique=False)

    op.create_table('product_value',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('product_id', sa.Uuid(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('effective_from', sa.Date(), nullable=False),
    sa.Column('day_value_first_year_cents', sa.Integer(), nullable=True),
    sa.Column('base_day_value_cents', sa.Integer(), nullable=True),
    sa.Column('hour_value_cents', sa.Integer(), nullable=True),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('set_by', sa.String(length=200), nullable=False),
    sa.Column('created_at', ktt_common.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['product_id'], ['product.id'], name=op.f('fk_product_value_product_id_product')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_product_value')),
    sa.UniqueConstraint('product_id', 'version', name=op.f('uq_product_value_product_id_version'))
    )
    with op.batch_alter_table('product_value', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_product_value_product_id'), ['product_id'], unique=False)

    op.create_table('queue_entry',
    sa.Column('seq', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), sa.Identity(always=False), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('unit_id', sa.Uuid(), nullable=False),
    sa.Column('product_id', sa.Uuid(), nullable=False),
    sa.Column('client_id', sa.Uuid(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=True),
    sa.Column('joined_on', sa.Date(), nullable=False),
    sa.Column('expected_start', sa.Date(), nullable=True),
    sa.Column('left_on', sa.Date(), nullable=True),
    sa.Column('outcome', sa.String(length=20), nullable=True),
    sa.Column('created_at', ktt_common.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['product_id'], ['product.id'], name=op.f('fk_queue_entry_product_id_product')),
    sa.ForeignKeyConstraint(['unit_id'], ['unit.id'], name=op.f('fk_queue_entry_unit_id_unit')),
    sa.PrimaryKeyConstraint('seq', name=op.f('pk_queue_entry')),
    sa.UniqueConstraint('id', name=op.f('uq_queue_entry_id')),
    sa.UniqueConstraint('unit_id', 'product_id', 'client_id', 'active', name=op.f('uq_queue_entry_unit_id_product_id_client_id_active'))
    )
    with op.batch_alter_table('queue_entry', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_queue_entry_client_id'), ['client_id'], unique=False)
        batch_op.create_index('ix_queue_entry_queue', ['unit_id', 'product_id', 'active', 'seq'], unique=False)

    op.create_table('ktt_group',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('unit_id', sa.Uuid(), nullable=False),
    sa.Column('product_id', sa.Uuid(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('starts_on', sa.Date(), nullable=False),
    sa.Column('ends_on', sa.Date(), nullable=False),
    sa.Column('places', sa.Integer(), nullable=False),
    sa.Column('enrolled', sa.Integer(), nullable=False),
    sa.Column('places_full', sa.Boolean(), nullable=False),
    sa.Column('lead_instructor_id', sa.Uuid(), nullable=False),
    sa.Column('second_responsible_id', sa.Uuid(), nullable=False),
    sa.Column('instructors_present', sa.Integer(), nullable=False),
    sa.Column('created_at', ktt_common.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', ktt_common.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['lead_instructor_id'], ['instructor.id'], name=op.f('fk_ktt_group_lead_instructor_id_instructor')),
    sa.ForeignKeyConstraint(['product_id'], ['product.id'], name=op.f('fk_ktt_group_product_id_product')),
    sa.ForeignKeyConstraint(['second_responsible_id'], ['instructor.id'], name=op.f('fk_ktt_group_second_responsible_id_instructor')),
    sa.ForeignKeyConstraint(['unit_id'], ['unit.id'], name=op.f('fk_ktt_group_unit_id_unit')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ktt_group'))
    )
    with op.batch_alter_table('ktt_group', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ktt_group_unit_id'), ['unit_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('ktt_group', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ktt_group_unit_id'))

    op.drop_table('ktt_group')
    with op.batch_alter_table('queue_entry', schema=None) as batch_op:
        batch_op.drop_index('ix_queue_entry_queue')
        batch_op.drop_index(batch_op.f('ix_queue_entry_client_id'))

    op.drop_table('queue_entry')
    with op.batch_alter_table('product_value', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_product_value_product_id'))

    op.drop_table('product_value')
    with op.batch_alter_table('instructor', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_instructor_unit_id'))

    op.drop_table('instructor')
    with op.batch_alter_table('feedback', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_feedback_received_on'))
        batch_op.drop_index(batch_op.f('ix_feedback_provider_id'))

    op.drop_table('feedback')
    with op.batch_alter_table('unit', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_unit_provider_id'))
        batch_op.drop_index(batch_op.f('ix_unit_postal_code'))

    op.drop_table('unit')
    with op.batch_alter_table('subcontractor', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_subcontractor_provider_id'))

    op.drop_table('subcontractor')
    with op.batch_alter_table('provider_status_change', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_provider_status_change_provider_id'))

    op.drop_table('provider_status_change')
    with op.batch_alter_table('product', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_product_provider_id'))

    op.drop_table('product')
    with op.batch_alter_table('provider', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_provider_status'))

    op.drop_table('provider')
    with op.batch_alter_table('agreement_place', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_agreement_place_unit_id'))

    op.drop_table('agreement_place')
