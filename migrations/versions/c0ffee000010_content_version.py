"""A workshop's content and joined versions: bumped whenever its lines of work or its joined delegates change, so what is drawn from them can be kept and shared.

Revision ID: c0ffee000010
Revises: c0ffee000009
Create Date: 2026-12-03 19:30:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "c0ffee000010"
down_revision = "c0ffee000009"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("workshop", schema=None) as batch_op:
        batch_op.add_column(sa.Column("content_version", sa.Integer(), nullable=False,
                                      server_default="0"))
        batch_op.add_column(sa.Column("joined_version", sa.Integer(), nullable=False,
                                      server_default="0"))


def downgrade():
    with op.batch_alter_table("workshop", schema=None) as batch_op:
        batch_op.drop_column("joined_version")
        batch_op.drop_column("content_version")
