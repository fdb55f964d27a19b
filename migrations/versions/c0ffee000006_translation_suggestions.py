"""Translations by others are suggestions: suggested translations (waiting, accepted, rejected, with who decided), the history of every applied translation (who translated, who accepted), and who accepted the current one.

The translations already stored start the history, as written by whoever stored them.
Downgrading drops the suggestions and the history; the current translations stay.

Revision ID: c0ffee000006
Revises: c0ffee000003
Create Date: 2026-11-25 10:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "c0ffee000006"
down_revision = "c0ffee000003"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("proposal_translation", schema=None) as batch_op:
        batch_op.add_column(sa.Column("accepted_by", sa.String(length=120), server_default="",
                                      nullable=False))

    op.create_table(
        "proposal_translation_revision",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("proposal_id", sa.Integer(), nullable=False),
        sa.Column("language", sa.String(length=5), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("translated_by", sa.String(length=120), nullable=False),
        sa.Column("accepted_by", sa.String(length=120), server_default="", nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["proposal_id"], ["proposal.id"],
                                name=op.f("fk_proposal_translation_revision_proposal_id_proposal"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_proposal_translation_revision")),
    )
    with op.batch_alter_table("proposal_translation_revision", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_proposal_translation_revision_proposal_id"),
                              ["proposal_id"], unique=False)

    op.create_table(
        "translation_suggestion",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("proposal_id", sa.Integer(), nullable=False),
        sa.Column("delegate_id", sa.Integer(), nullable=True),
        sa.Column("language", sa.String(length=5), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("suggested_by", sa.String(length=120), nullable=False),
        sa.Column("status", sa.String(length=10), server_default="pending", nullable=False),
        sa.Column("decided_by", sa.String(length=120), server_default="", nullable=False),
        sa.Column("decided_at", sa.DateTime(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["delegate_id"], ["delegate.id"],
                                name=op.f("fk_translation_suggestion_delegate_id_delegate"),
                                ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["proposal_id"], ["proposal.id"],
                                name=op.f("fk_translation_suggestion_proposal_id_proposal"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_translation_suggestion")),
    )
    with op.batch_alter_table("translation_suggestion", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_translation_suggestion_delegate_id"),
                              ["delegate_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_translation_suggestion_proposal_id"),
                              ["proposal_id"], unique=False)

    # The translations already stored are the first entries of their history.
    op.execute(
        "INSERT INTO proposal_translation_revision "
        "(proposal_id, language, title, description, translated_by, accepted_by, created_at) "
        "SELECT proposal_id, language, title, description, translated_by, '', created_at "
        "FROM proposal_translation ORDER BY id"
    )


def downgrade():
    with op.batch_alter_table("translation_suggestion", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_translation_suggestion_proposal_id"))
        batch_op.drop_index(batch_op.f("ix_translation_suggestion_delegate_id"))
    op.drop_table("translation_suggestion")

    with op.batch_alter_table("proposal_translation_revision", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_proposal_translation_revision_proposal_id"))
    op.drop_table("proposal_translation_revision")

    with op.batch_alter_table("proposal_translation", schema=None) as batch_op:
        batch_op.drop_column("accepted_by")
