from tests.alerting.conftest import notify_folder, sink  # noqa: F401 - the local sink standing in for SMS and chat
from tests.store.conftest import db_url, pack, pg_url, store  # noqa: F401 - every report test on SQLite and PostgreSQL
