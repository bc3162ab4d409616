"""The delivery log becomes append-only and hash-chained (rows already there are chained in id order); completed
scans (scan_runs) and rule pack roll-outs (rollouts) are recorded.

Revision ID: 0003
Revises: 0002
"""

from alembic import op
import sqlalchemy as sa
import sqlmodel

from qixian.store.deliverylog import row_hash


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None

REFUSED = "发送记录只能追加，不能修改或删除"


def upgrade() -> None:
    with op.batch_alter_table('deliveries', schema=None) as batch_op:
        batch_op.add_column(sa.Column('prev_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False, server_default=''))
    _chain_existing_rows()
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE FUNCTION qixian_append_only() RETURNS trigger LANGUAGE plpgsql AS "
                   f"$$ BEGIN RAISE EXCEPTION '{REFUSED}（%）', TG_TABLE_NAME; END $$")
        op.execute("CREATE TRIGGER deliveries_append_only BEFORE UPDATE OR DELETE ON deliveries "
                   "FOR EACH ROW EXECUTE FUNCTION qixian_append_only()")
    else:
        for action in ("UPDATE", "DELETE"):
            op.execute(f"CREATE TRIGGER deliveries_append_only_{action.lower()} BEFORE {action} ON deliveries "
                       f"BEGIN SELECT RAISE(ABORT, '{REFUSED}'); END")

    op.create_table('scan_runs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('as_of', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('finished_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('clocks', sa.Integer(), nullable=False),
    sa.Column('owed', sa.Integer(), nullable=False),
    sa.Column('sent', sa.Integer(), nullable=False),
    sa.Column('failed', sa.Integer(), nullable=False),
    sa.Column('undeliverable', sa.Integer(), nullable=False),
    sa.Column('caught_up', sa.Integer(), nullable=False),
    sa.Column('late', sa.JSON(), nullable=False),
    sa.Column('audit_id', sa.Integer(), nullable=True),
    sa.Column('audit_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('scan_runs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_scan_runs_finished_at'), ['finished_at'], unique=False)

    op.create_table('rollouts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('by', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('directory', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('pack_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('files', sa.JSON(), nullable=False),
    sa.Column('cases', sa.Integer(), nullable=False),
    sa.Column('clocks', sa.Integer(), nullable=False),
    sa.Column('changed', sa.Integer(), nullable=False),
    sa.Column('moved', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('rollouts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_rollouts_at'), ['at'], unique=False)


def _chain_existing_rows() -> None:
    """Hash the rows already in the log, in id order (before the triggers forbid updates)."""
    bind = op.get_bind()
    deliveries = sa.table('deliveries', sa.column('id', sa.Integer()), sa.column('at', sqlmodel.sql.sqltypes.UTCDateTime()),
                          sa.column('recipient'), sa.column('keys', sa.JSON()), sa.column('attempt'), sa.column('channel'),
                          sa.column('url'), sa.column('ok', sa.Boolean()), sa.column('answer'), sa.column('prev_hash'),
                          sa.column('hash'))
    head, last_id = "", -1
    while True:  # in pages, so a large log is not held in memory
        rows = bind.execute(sa.select(deliveries).where(deliveries.c.id > last_id).order_by(deliveries.c.id)
                            .limit(2000)).mappings().all()
        if not rows:
            return
        updates = []
        for row in rows:
            chained = row_hash(head, row)
            updates.append({"row_id": row["id"], "prev": head, "new": chained})
            head, last_id = chained, row["id"]
        bind.execute(deliveries.update().where(deliveries.c.id == sa.bindparam("row_id"))
                     .values(prev_hash=sa.bindparam("prev"), hash=sa.bindparam("new")), updates)


def downgrade() -> None:
    with op.batch_alter_table('rollouts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_rollouts_at'))
    op.drop_table('rollouts')
    with op.batch_alter_table('scan_runs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_scan_runs_finished_at'))
    op.drop_table('scan_runs')
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER deliveries_append_only ON deliveries")
        op.execute("DROP FUNCTION qixian_append_only()")
    else:
        for action in ("update", "delete"):
            op.execute(f"DROP TRIGGER deliveries_append_only_{action}")
    with op.batch_alter_table('deliveries', schema=None) as batch_op:
        batch_op.drop_column('hash')
        batch_op.drop_column('prev_hash')
