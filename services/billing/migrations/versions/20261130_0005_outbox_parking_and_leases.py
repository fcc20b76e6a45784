"""outbox parking and leases (platform: relay and scheduler run once at a time)

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30 22:10:00
"""
from ktt_common.infra_migrations import downgrade_bus_housekeeping, upgrade_bus_housekeeping

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    upgrade_bus_housekeeping()


def downgrade() -> None:
    downgrade_bus_housekeeping()
