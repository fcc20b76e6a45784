"""one open dispute per settlement line, held by a partial unique index (issue 12 item 8)

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01 03:40:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("uq_dispute_open_line", "dispute", ["line_id"], unique=True,
                    postgresql_where=sa.text("state = 'open'"), sqlite_where=sa.text("state = 'open'"))


def downgrade() -> None:
    op.drop_index("uq_dispute_open_line", table_name="dispute")
