"""Replay marks: the cases whose clocks are older than their events, committed with the events so that an
interrupted ingest loses no clock. Before this, an ingest killed between recording a batch and writing its clocks
left cases whose clocks missed events, with nothing to tell which: every case with events is marked once, so the
next scan or ingest replays the whole store (as `qixian recompute` would) and ends as a clean run would.

Revision ID: 0009
Revises: 0008
"""

from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('replay_marks',
    sa.Column('case_id', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('token', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('marked_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('case_id')
    )
    op.execute("INSERT INTO replay_marks (case_id, token, marked_at) "
               "SELECT DISTINCT case_id, 'upgrade', CURRENT_TIMESTAMP FROM events")


def downgrade() -> None:
    op.drop_table('replay_marks')
