"""Ops tests use the alerting fixtures: the store on SQLite and PostgreSQL, a real local HTTP sink, a notify/ folder."""

from tests.alerting.conftest import notify_folder, sink  # noqa: F401
from tests.store.conftest import db_url, pack, pg_url, store  # noqa: F401
