"""initial schema

Revision ID: 0001
Revises: 
Create Date: 2026-11-30 11:00:35.089984
"""
from ktt_common import infra_migrations

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    infra_migrations.create_infrastructure_tables()


def downgrade() -> None:
    infra_migrations.drop_infrastructure_tables()
