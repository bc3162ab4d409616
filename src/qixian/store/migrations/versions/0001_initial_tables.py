"""Initial tables: cases, persons, events, quarantine, clocks, units, officers, watermarks.

Revision ID: 0001
Revises: 
"""

from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('cases',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True),
    sa.Column('title', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('unit', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
    sa.Column('handler', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
    sa.Column('co_handlers', sa.JSON(), nullable=False),
    sa.Column('facts', sa.JSON(), nullable=False),
    sa.Column('updated_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_cases_handler'), ['handler'], unique=False)
        batch_op.create_index(batch_op.f('ix_cases_unit'), ['unit'], unique=False)

    op.create_table('clocks',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('person', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('rule_id', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('rule_version', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('lead_of', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
    sa.Column('open', sa.Boolean(), nullable=False),
    sa.Column('outcome', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=True),
    sa.Column('paused', sa.Boolean(), nullable=False),
    sa.Column('provisional', sa.Boolean(), nullable=False),
    sa.Column('started_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('due_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('due_display', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=True),
    sa.Column('ended_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('ended_by', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
    sa.Column('explanation', sa.JSON(), nullable=False),
    sa.Column('anomalies', sa.JSON(), nullable=False),
    sa.Column('next_reminder_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('updated_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('case_id', 'rule_id', 'person', 'number', name='uq_clocks_identity')
    )
    with op.batch_alter_table('clocks', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_clocks_case_id'), ['case_id'], unique=False)
        batch_op.create_index('ix_clocks_open_due', ['open', 'due_at'], unique=False)
        batch_op.create_index('ix_clocks_open_next_reminder', ['open', 'next_reminder_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_clocks_rule_id'), ['rule_id'], unique=False)

    op.create_table('events',
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('source', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('source_id', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('case_id', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('type', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('person', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
    sa.Column('data', sa.JSON(), nullable=False),
    sa.Column('received_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('seq'),
    sa.UniqueConstraint('source', 'source_id', name='uq_events_source')
    )
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_events_case_id'), ['case_id'], unique=False)

    op.create_table('officers',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('unit', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
    sa.Column('phone', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True),
    sa.Column('urls', sa.JSON(), nullable=False),
    sa.Column('roles', sa.JSON(), nullable=False),
    sa.Column('extra', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('officers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_officers_unit'), ['unit'], unique=False)

    op.create_table('persons',
    sa.Column('case_id', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('person', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('facts', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('case_id', 'person')
    )
    op.create_table('quarantine',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('source', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('line', sa.Integer(), nullable=False),
    sa.Column('source_id', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
    sa.Column('raw', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('reason', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('received_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('resolved_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('quarantine', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_quarantine_resolved_at'), ['resolved_at'], unique=False)

    op.create_table('units',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('leader', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
    sa.Column('legal_officer', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
    sa.Column('duty_phone', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True),
    sa.Column('extra', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('watermarks',
    sa.Column('source', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('value', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('updated_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('source')
    )


def downgrade() -> None:
    op.drop_table('watermarks')
    op.drop_table('units')
    with op.batch_alter_table('quarantine', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_quarantine_resolved_at'))

    op.drop_table('quarantine')
    op.drop_table('persons')
    with op.batch_alter_table('officers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_officers_unit'))

    op.drop_table('officers')
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_events_case_id'))

    op.drop_table('events')
    with op.batch_alter_table('clocks', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_clocks_rule_id'))
        batch_op.drop_index('ix_clocks_open_next_reminder')
        batch_op.drop_index('ix_clocks_open_due')
        batch_op.drop_index(batch_op.f('ix_clocks_case_id'))

    op.drop_table('clocks')
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_cases_unit'))
        batch_op.drop_index(batch_op.f('ix_cases_handler'))

    op.drop_table('cases')
