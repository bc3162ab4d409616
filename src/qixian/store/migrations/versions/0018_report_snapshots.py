"""Assessment reports computed ahead: the dashboard's reports page reads a stored snapshot of its view (refreshed in
the background by the refresh-report deployment) instead of counting every clock of the period on each request.

Revision ID: 0018
Revises: 0017
"""

from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('report_snapshots',
    sa.Column('view', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('pack_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('computed_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('body', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.PrimaryKeyConstraint('view')
    )
    op.create_index('ix_report_snapshots_computed_at', 'report_snapshots', ['computed_at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_report_snapshots_computed_at', table_name='report_snapshots')
    op.drop_table('report_snapshots')
