"""decision_version.body_hash: a keyed hash of the request body a version was pushed with, indexed, so that
a retry of the very same request is answered from the index before any parsing, validation or sealing
(issue 15, ktt_decision.decisions.reading). Null for versions stored before it and after retention.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01 10:30:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("decision_version", sa.Column("body_hash", sa.String(64), nullable=True))
    op.create_index("ix_decision_version_body_hash", "decision_version", ["body_hash"])


def downgrade() -> None:
    op.drop_index("ix_decision_version_body_hash", table_name="decision_version")
    op.drop_column("decision_version", "body_hash")
