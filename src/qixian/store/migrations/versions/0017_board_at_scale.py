"""The dashboard at a province's size: each clock carries its case's unit (clocks.unit, filtered and ordered by
index) and the time its warning window opens (clocks.warning_at: 橙 and 绿 are told apart in the database), each
co-handler of a case is a row of case_co_handlers (an officer's cases by index, not by a text match on the JSON
list), and an index on clocks.ended_at lets a report read only the clocks whose life reaches into its period.

Existing rows: units and co-handlers are copied here; the warning time comes from the rule pack, so every case
with an open clock is marked for replay (replay_marks), and the next ingest, scan or `qixian recompute --pending`
writes it.

Revision ID: 0017
Revises: 0016
"""

import json
from datetime import datetime, timezone

import sqlalchemy as sa
from alembic import op


revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None

OPEN = {"sqlite_where": sa.text("open IS 1"), "postgresql_where": sa.text("open IS true")}
RUNNING = {"sqlite_where": sa.text("open IS 1 AND paused IS 0"), "postgresql_where": sa.text("open IS true AND paused IS false")}
CO_HANDLED = {"sqlite_where": sa.text("CAST(co_handlers AS VARCHAR) != '[]'"),
              "postgresql_where": sa.text("CAST(co_handlers AS VARCHAR) != '[]'")}
TOKEN = "migration-0017"


def upgrade() -> None:
    with op.batch_alter_table('clocks') as batch_op:
        batch_op.add_column(sa.Column('warning_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('unit', sa.String(length=100), nullable=True))
    op.create_table('case_co_handlers',
                    sa.Column('case_id', sa.String(length=200), nullable=False),
                    sa.Column('officer', sa.String(length=100), nullable=False),
                    sa.PrimaryKeyConstraint('case_id', 'officer'))
    op.create_index('ix_case_co_handlers_officer', 'case_co_handlers', ['officer'], unique=False)
    op.drop_index('ix_cases_co_handled', table_name='cases')
    connection = op.get_bind()
    connection.execute(sa.text("UPDATE clocks SET unit = (SELECT unit FROM cases WHERE cases.id = clocks.case_id)"))
    rows = [{"case_id": case_id, "officer": str(officer)}
            for case_id, listed in connection.execute(sa.text("SELECT id, co_handlers FROM cases WHERE "
                                                              "CAST(co_handlers AS VARCHAR) != '[]'"))
            for officer in dict.fromkeys(json.loads(listed) if isinstance(listed, str) else listed or [])]
    if rows:
        connection.execute(sa.text("INSERT INTO case_co_handlers (case_id, officer) VALUES (:case_id, :officer)"), rows)
    connection.execute(sa.text("INSERT INTO replay_marks (case_id, token, marked_at) SELECT DISTINCT case_id, :token, :now "
                               "FROM clocks WHERE open = :yes AND case_id NOT IN (SELECT case_id FROM replay_marks)"),
                       {"token": TOKEN, "now": _now(connection), "yes": True})
    op.create_index('ix_clocks_open_unit_due', 'clocks', ['unit', 'due_at', 'id'], unique=False, **OPEN)
    op.create_index('ix_clocks_running_warning', 'clocks', ['warning_at', 'due_at'], unique=False, **RUNNING)
    op.create_index('ix_clocks_ended', 'clocks', ['ended_at'], unique=False)


def _now(connection):
    """Now as the column takes it: SQLite holds naive UTC text (as SQLAlchemy writes it), PostgreSQL a timestamptz."""
    now = datetime.now(timezone.utc)
    return now if connection.dialect.name == "postgresql" else now.strftime("%Y-%m-%d %H:%M:%S.%f")


def downgrade() -> None:
    op.drop_index('ix_clocks_ended', table_name='clocks')
    op.drop_index('ix_clocks_running_warning', table_name='clocks')
    op.drop_index('ix_clocks_open_unit_due', table_name='clocks')
    op.execute(sa.text("DELETE FROM replay_marks WHERE token = '%s'" % TOKEN))
    op.create_index('ix_cases_co_handled', 'cases', ['id'], unique=False, **CO_HANDLED)
    op.drop_index('ix_case_co_handlers_officer', table_name='case_co_handlers')
    op.drop_table('case_co_handlers')
    with op.batch_alter_table('clocks') as batch_op:
        batch_op.drop_column('unit')
        batch_op.drop_column('warning_at')
