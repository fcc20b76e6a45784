"""agreement copies by the producer's revision; an end remembered apart from the copy (issue 12 item 3)

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01 08:00:00
"""
import sqlalchemy as sa
from alembic import op

import ktt_common.db

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("agreement_copy") as batch:
        batch.add_column(sa.Column("facts_revision", sa.BigInteger(), nullable=True))
    op.create_table(
        "agreement_end",
        sa.Column("agreement_id", sa.Uuid(), nullable=False),
        sa.Column("ended_on", sa.Date(), nullable=False),
        sa.Column("revision", sa.BigInteger(), nullable=True),
        sa.Column("ended_at", ktt_common.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("agreement_id", name=op.f("pk_agreement_end")),
    )
    # The ends known so far, at the time of the facts they were applied over.
    op.execute("INSERT INTO agreement_end (agreement_id, ended_on, revision, ended_at) "
               "SELECT agreement_id, ended_on, NULL, facts_at FROM agreement_copy WHERE ended_on IS NOT NULL")


def downgrade() -> None:
    op.drop_table("agreement_end")
    with op.batch_alter_table("agreement_copy") as batch:
        batch.drop_column("facts_revision")
