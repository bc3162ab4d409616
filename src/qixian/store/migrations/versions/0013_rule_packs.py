"""The files of each rolled-out rule pack, kept in the store: the pack in force is the last roll-out's, on every
machine, and `qixian rules rollback` can restore an earlier one.

Revision ID: 0013
Revises: 0011
"""

from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0013'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('rule_packs',
    sa.Column('pack_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('files', sa.JSON(), nullable=False),
    sa.Column('kept_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('pack_hash')
    )


def downgrade() -> None:
    op.drop_table('rule_packs')
