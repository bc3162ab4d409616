"""The directory read once per revision, on SQLite and PostgreSQL: a Store reads the units and officers again only
after a replace_directory (by any process, any Store over the database), and a replaced directory is seen on the very
next read, so a role taken away in `qixian directory load` ends at the dashboard's next request."""

import dataclasses

from qixian.engine.directory import Directory, Officer, Unit
from qixian.store.repository import Store

UNIT = Unit("jiaodong", "胶东派出所", "officer-9")
LEGAL = Officer("officer-7", "郑洁", "jiaodong", roles=("legal_affairs",))


def test_the_directory_is_read_again_only_when_replaced(db_url):
    dashboard, loader = Store.open(db_url), Store.open(db_url)  # say, `qixian web` and `qixian directory load`
    loader.replace_directory(Directory({UNIT.id: UNIT}, {LEGAL.id: LEGAL}))
    first = dashboard.directory()
    assert first.officers[LEGAL.id].roles == ("legal_affairs",)
    assert dashboard.directory() is first  # unchanged: not read again

    loader.replace_directory(Directory({UNIT.id: UNIT}, {LEGAL.id: dataclasses.replace(LEGAL, roles=())}))
    after = dashboard.directory()
    assert after is not first and after.officers[LEGAL.id].roles == ()  # the role is gone on the next read

    loader.replace_directory(Directory({UNIT.id: UNIT}, {}))
    assert dashboard.directory().officers == {}
    for store in (dashboard, loader):
        store.engine.dispose()


def test_a_store_whose_directory_was_never_replaced_reads_it_each_time(store):
    assert store.directory() == Directory({}, {}) and store.directory() is not store.directory()
