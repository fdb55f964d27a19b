"""Login sessions: one row per login (staff or delegate), the token kept only as a hash, so a logout or a revocation ends it everywhere.

Revision ID: c0ffee000001
Revises: 41957af69087
Create Date: 2026-11-23 22:55:33.969520

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c0ffee000001'
down_revision = '41957af69087'
branch_labels = None
depends_on = None


def upgrade():
    # Logins made before this revision carry ids of the old form ("u:1", "d:5"), which the
    # loader no longer accepts: everybody logs in (or opens their link) once more.
    op.create_table('login_session',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('delegate_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint('(user_id IS NULL AND delegate_id IS NOT NULL) OR (user_id IS NOT NULL AND delegate_id IS NULL)', name=op.f('ck_login_session_one_principal')),
    sa.ForeignKeyConstraint(['delegate_id'], ['delegate.id'], name=op.f('fk_login_session_delegate_id_delegate'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_login_session_user_id_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_login_session')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_login_session_token_hash'))
    )
    with op.batch_alter_table('login_session', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_login_session_delegate_id'), ['delegate_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_login_session_user_id'), ['user_id'], unique=False)


def downgrade():
    with op.batch_alter_table('login_session', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_login_session_user_id'))
        batch_op.drop_index(batch_op.f('ix_login_session_delegate_id'))

    op.drop_table('login_session')
