"""Known providers from the registry's events: a consent names a real provider (DATA-1)

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30 22:20:00.000000
"""
import sqlalchemy as sa
from alembic import op

import ktt_common.db

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('known_provider',
    sa.Column('provider_id', sa.String(length=100), nullable=False),
    sa.Column('name', sa.String(length=300), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('event_time', ktt_common.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('provider_id', name=op.f('pk_known_provider'))
    )


def downgrade() -> None:
    op.drop_table('known_provider')
