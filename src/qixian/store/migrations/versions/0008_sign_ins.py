"""Dashboard sign-in attempts, kept: who signed in when, and the failures that pause signing in for an officer id
or an address (guessing passwords).

Revision ID: 0008
Revises: 0007
"""

from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('sign_ins',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('officer', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('client', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('ok', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_sign_ins_officer_at', 'sign_ins', ['officer', 'at'], unique=False)
    op.create_index('ix_sign_ins_client_at', 'sign_ins', ['client', 'at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_sign_ins_client_at', table_name='sign_ins')
    op.drop_index('ix_sign_ins_officer_at', table_name='sign_ins')
    op.drop_table('sign_ins')
