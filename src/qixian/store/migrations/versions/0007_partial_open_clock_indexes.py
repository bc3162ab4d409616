"""Clocks: the scan's two indexes (by due, by next reminder) hold open clocks only. The scan, the board and health
read nothing else, and most clocks of a bureau's years are closed: a closed clock is written to neither index, and
the indexes stay the size of the work in hand.

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None

OPEN = {"sqlite_where": sa.text("open IS 1"), "postgresql_where": sa.text("open IS true")}  # as SQLAlchemy writes open.is_(True)


def upgrade() -> None:
    op.drop_index('ix_clocks_open_due', table_name='clocks')
    op.drop_index('ix_clocks_open_next_reminder', table_name='clocks')
    op.create_index('ix_clocks_open_due', 'clocks', ['due_at'], unique=False, **OPEN)
    op.create_index('ix_clocks_open_next_reminder', 'clocks', ['next_reminder_at'], unique=False, **OPEN)


def downgrade() -> None:
    op.drop_index('ix_clocks_open_due', table_name='clocks')
    op.drop_index('ix_clocks_open_next_reminder', table_name='clocks')
    op.create_index('ix_clocks_open_due', 'clocks', ['open', 'due_at'], unique=False)
    op.create_index('ix_clocks_open_next_reminder', 'clocks', ['open', 'next_reminder_at'], unique=False)
