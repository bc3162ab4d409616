"""Migration 0017 on a store that has clocks, on SQLite and PostgreSQL: units and co-handlers are copied from the
cases, and the cases with open clocks are marked for replay, which writes their warning times."""

import sqlalchemy as sa
from sqlalchemy import text

from qixian.casework.recompute import replay_pending
from qixian.store.database import MIGRATIONS, connect, upgrade
from qixian.store.repository import Store
from qixian.store.tables import CaseRow, ClockRow
from qixian.supervision.clockview import warning_at


def downgrade(url: str, target: str) -> None:
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    command.downgrade(config, target)


def test_the_migration_copies_units_and_co_handlers_and_marks_open_cases_for_replay(empty_url, pack):
    from qixian.casework.feeds import ingest_path
    from qixian.legaltime.localtime import parse_local
    from tests.paths import ROOT

    upgrade(empty_url)  # a store ingested at head, then taken back to 0016 (its rows as 0016 held them)
    store = Store.open(empty_url)
    ingest_path(store, pack, ROOT / "examples" / "events.jsonl", source="case-system", now=parse_local("2025-09-29 16:00"))
    store.engine.dispose()
    downgrade(empty_url, "0016")
    engine = connect(empty_url)
    with engine.begin() as connection:
        assert not connection.execute(text("SELECT count(*) FROM replay_marks")).scalar_one()
    engine.dispose()

    upgrade(empty_url)
    store = Store.open(empty_url)
    with store.engine.connect() as connection:
        units = connection.execute(text("SELECT clocks.unit, cases.unit FROM clocks JOIN cases ON cases.id = clocks.case_id")).all()
        co = sorted(connection.execute(text("SELECT case_id, officer FROM case_co_handlers")).tuples())
        marked = set(connection.execute(text("SELECT case_id FROM replay_marks")).scalars())
        open_cases = set(connection.execute(text("SELECT case_id FROM clocks WHERE open = :t"), {"t": True}).scalars())
    assert units and all(a == b for a, b in units)
    with store.session() as session:
        cases = list(session.execute(sa.select(CaseRow)).scalars())
    assert co == sorted((c.id, o) for c in cases for o in c.co_handlers) and co
    assert marked == open_cases and marked

    replay_pending(store, pack, parse_local("2025-09-29 16:05"))
    with store.session() as session:
        clocks = list(session.execute(sa.select(ClockRow)).scalars())
    assert not store.replay_marks()
    assert any(c.warning_at for c in clocks)
    assert all(c.warning_at == (warning_at(pack, c) if c.open else None) for c in clocks)
    store.engine.dispose()
