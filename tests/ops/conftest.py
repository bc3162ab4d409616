"""Fixtures of the delivery-log tests: the guard dropped as a database owner would, and a database with no schema
yet."""

import uuid

import pytest
from sqlalchemy import text


@pytest.fixture
def drop_guard(store):
    """What someone with the database owner's rights would do first; put back afterwards (the PostgreSQL test
    database lives for the whole run)."""
    pg = store.engine.dialect.name == "postgresql"
    names = ["deliveries_append_only"] if pg else ["deliveries_append_only_update", "deliveries_append_only_delete"]

    def drop():
        with store.engine.begin() as connection:
            for name in names:
                connection.execute(text(f"DROP TRIGGER {name}" + (" ON deliveries" if pg else "")))

    yield drop
    if pg:
        with store.engine.begin() as connection:
            connection.execute(text("DROP TRIGGER IF EXISTS deliveries_append_only ON deliveries"))
            connection.execute(
                text("CREATE TRIGGER deliveries_append_only BEFORE UPDATE OR DELETE ON deliveries FOR EACH ROW EXECUTE FUNCTION qixian_append_only()")
            )


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_url(request, tmp_path):
    """A database with no schema yet."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path}/old.db"
        return
    request.getfixturevalue("pg_url")  # skips, saying why, when no PostgreSQL answers
    import psycopg

    from tests.fixtures.stores import PG_SERVER

    admin = psycopg.connect(PG_SERVER.replace("postgresql+psycopg", "postgresql"), autocommit=True)
    name = f"qixian_migration_{uuid.uuid4().hex[:10]}"
    admin.execute(f'CREATE DATABASE "{name}"')
    yield PG_SERVER.rsplit("/", 1)[0] + "/" + name
    admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.close()
