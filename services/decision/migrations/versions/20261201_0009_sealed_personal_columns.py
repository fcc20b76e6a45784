"""sealed personal columns: names and contact data are stored sealed under the client's data key
(ktt_decision.sealing, DATA-2), about twice as long as the clear text: unbounded on PostgreSQL.
SQLite does not enforce lengths, so nothing changes there. The rows are sealed by the job
``seal-personal-data`` (a migration does not hold PII_KEY).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01 07:10:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None

COLUMNS = {
    "client": {"first_name": 200, "last_name": 200, "phone": 40, "email": 200, "address": 300},
    "start_notice": {"first_name": 200, "last_name": 200},
    "representative": {"name": 200, "phone": 40, "email": 200, "relation": 200},
}


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table, columns in COLUMNS.items():
        for column, length in columns.items():
            op.alter_column(table, column, type_=sa.Text(), existing_type=sa.String(length))


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table, columns in COLUMNS.items():
        for column, length in columns.items():
            op.alter_column(table, column, type_=sa.String(length), existing_type=sa.Text())
