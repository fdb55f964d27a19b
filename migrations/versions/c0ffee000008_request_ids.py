"""Idempotency keys of proposals and comments: a phone that resends an action after a lost answer gets the first one back, never a second.

Revision ID: c0ffee000008
Revises: c0ffee000006
Create Date: 2026-12-03 09:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "c0ffee000008"
down_revision = "c0ffee000006"
branch_labels = None
depends_on = None


def upgrade():
    for table in ("proposal", "comment"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column("request_id", sa.String(length=40), nullable=True))
            batch_op.create_unique_constraint(f"uq_{table}_request_id", ["request_id"])


def downgrade():
    for table in ("comment", "proposal"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_constraint(f"uq_{table}_request_id", type_="unique")
            batch_op.drop_column("request_id")
