"""Indexes for the dashboard's pages and the reports at a province's size: open clocks in due order with ties by id
(a page of the list is read off the index), clocks with anomalies (partial), every clock by due (a report reads
the clocks due in its period), reminders by recipient and step time (我的提醒), by case (the case page) and by step
time (reports), events by type and time (reports: the cases with pauses or extensions), and the cases that have co-handlers
(partial: an officer's cases are found without reading every case).

Revision ID: 0014
Revises: 0013
"""

import sqlalchemy as sa
from alembic import op


revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None

OPEN = {"sqlite_where": sa.text("open IS 1"), "postgresql_where": sa.text("open IS true")}  # as SQLAlchemy writes open.is_(True)
ANOMALOUS = {"sqlite_where": sa.text("CAST(anomalies AS VARCHAR) != '[]'"),
             "postgresql_where": sa.text("CAST(anomalies AS VARCHAR) != '[]'")}


def upgrade() -> None:
    op.create_index('ix_clocks_open_due_id', 'clocks', ['due_at', 'id'], unique=False, **OPEN)
    op.create_index('ix_clocks_anomalous', 'clocks', ['due_at', 'id'], unique=False, **ANOMALOUS)
    op.create_index('ix_clocks_due', 'clocks', ['due_at'], unique=False)
    op.create_index('ix_outbox_recipient_step', 'outbox', ['recipient', 'step_at', 'id'], unique=False)
    op.create_index('ix_outbox_case', 'outbox', ['case_id'], unique=False)
    op.create_index('ix_outbox_step', 'outbox', ['step_at'], unique=False)
    op.create_index('ix_events_type_at', 'events', ['type', 'at'], unique=False)
    op.create_index('ix_cases_co_handled', 'cases', ['id'], unique=False,
                    sqlite_where=sa.text("CAST(co_handlers AS VARCHAR) != '[]'"),
                    postgresql_where=sa.text("CAST(co_handlers AS VARCHAR) != '[]'"))


def downgrade() -> None:
    for name, table in (('ix_cases_co_handled', 'cases'), ('ix_events_type_at', 'events'), ('ix_outbox_step', 'outbox'), ('ix_outbox_case', 'outbox'), ('ix_outbox_recipient_step', 'outbox'),
                        ('ix_clocks_due', 'clocks'), ('ix_clocks_anomalous', 'clocks'), ('ix_clocks_open_due_id', 'clocks')):
        op.drop_index(name, table_name=table)
