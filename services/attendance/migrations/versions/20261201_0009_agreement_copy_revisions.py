"""agreement copies applied by the producer's revision (issue 12 item 3)

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01 08:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("agreement_copy") as batch:
        batch.add_column(sa.Column("facts_revision", sa.BigInteger(), nullable=True))
        batch.add_column(sa.Column("ended_revision", sa.BigInteger(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("agreement_copy") as batch:
        batch.drop_column("ended_revision")
        batch.drop_column("facts_revision")
