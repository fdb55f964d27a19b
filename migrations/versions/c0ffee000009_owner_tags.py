"""Owner tags of secret papers: a voter who lost their phone's secret can replace their paper while the ballot is open (erased at close).

Revision ID: c0ffee000009
Revises: c0ffee000008
Create Date: 2026-12-03 12:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "c0ffee000009"
down_revision = "c0ffee000008"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("ballot_vote", schema=None) as batch_op:
        batch_op.add_column(sa.Column("owner_tag", sa.String(length=64), nullable=True))
        batch_op.create_unique_constraint("uq_ballot_vote_owner_tag", ["ballot_id", "owner_tag"])


def downgrade():
    with op.batch_alter_table("ballot_vote", schema=None) as batch_op:
        batch_op.drop_constraint("uq_ballot_vote_owner_tag", type_="unique")
        batch_op.drop_column("owner_tag")
