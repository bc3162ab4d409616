"""The daily overdue digest: an outbox row that lists the clocks it covers (outbox.clocks), and an index to find
whether a day's digests are owed (ix_outbox_digest).

Revision ID: 0016
Revises: 0014
"""

from alembic import op
import sqlalchemy as sa


revision = '0016'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('outbox') as batch_op:
        batch_op.add_column(sa.Column('clocks', sa.JSON(), nullable=True))
        batch_op.create_index('ix_outbox_digest', ['step', 'step_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('outbox') as batch_op:
        batch_op.drop_index('ix_outbox_digest')
        batch_op.drop_column('clocks')
