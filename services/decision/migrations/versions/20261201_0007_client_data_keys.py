"""client data keys (crypto-shredding, DATA-2): client_key table, client.erased_at

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 03:40:00

Existing hetu ciphertexts (under the one key derived from PII_KEY) stay readable; a client's is
sealed under a data key of their own when the client is next written, and erased outright by the
retention job (the migration does not hold PII_KEY).
"""
import sqlalchemy as sa
from alembic import op

import ktt_common.db

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'client_key',
        sa.Column('client_id', sa.Uuid(), nullable=False),
        sa.Column('wrapped_key', sa.Text(), nullable=True),
        sa.Column('created_at', ktt_common.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('erased_at', ktt_common.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['client_id'], ['client.id'], name=op.f('fk_client_key_client_id_client')),
        sa.PrimaryKeyConstraint('client_id', name=op.f('pk_client_key')),
    )
    with op.batch_alter_table('client') as batch:
        batch.add_column(sa.Column('erased_at', ktt_common.db.UTCDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('client') as batch:
        batch.drop_column('erased_at')
    op.drop_table('client_key')
