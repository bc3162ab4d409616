"""Campaign tests use the store fixtures (SQLite and PostgreSQL), the shipped pack, and the real local HTTP sink."""

from tests.alerting.conftest import notify_folder, sink  # noqa: F401 - the local sink and its notify folder
from tests.store.conftest import db_url, pack, pg_url, store  # noqa: F401 - the same SQLite/PostgreSQL fixtures
