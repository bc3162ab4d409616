"""Every store test runs twice: on SQLite (a fresh file) and on PostgreSQL at 127.0.0.1:5432 (a database made for
this test run, emptied between tests). PostgreSQL tests skip, saying why, only where no server answers."""

import os
import uuid

import pytest
from sqlalchemy import text
from sqlmodel import SQLModel

import qixian.store.tables  # noqa: F401 - registers the tables

from qixian.rulebook import load_pack
from qixian.store.database import connect, upgrade
from qixian.store.repository import Store
from tests.conftest import RULES

PG_SERVER = os.environ.get("QIXIAN_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
TABLES = sorted(SQLModel.metadata.tables)  # every table the code declares, so a new one is emptied too


@pytest.fixture(scope="session")
def pack():
    return load_pack(RULES)


@pytest.fixture(scope="session")
def pg_url():
    try:
        import psycopg

        admin = psycopg.connect(PG_SERVER.replace("postgresql+psycopg", "postgresql"), autocommit=True, connect_timeout=3)
    except Exception as exc:  # noqa: BLE001 - any failure to reach the server means: no PostgreSQL here
        pytest.skip(f"PostgreSQL at {PG_SERVER} is not reachable ({type(exc).__name__}: {exc})")
    name = f"qixian_test_{uuid.uuid4().hex[:10]}"
    admin.execute(f'CREATE DATABASE "{name}"')
    url = PG_SERVER.rsplit("/", 1)[0] + "/" + name
    upgrade(url)
    yield url
    connect(url).dispose()
    admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.close()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request, tmp_path):
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path}/qixian.db"
        upgrade(url)
        return url
    url = request.getfixturevalue("pg_url")
    engine = connect(url)
    with engine.begin() as connection:
        # a session an earlier test left open would make TRUNCATE wait for ever: end it, and never wait long
        connection.execute(text("SET LOCAL lock_timeout = '20s'"))
        connection.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                "WHERE datname = current_database() AND pid <> pg_backend_pid()"))
        connection.execute(text("TRUNCATE " + ", ".join(TABLES) + " RESTART IDENTITY"))
    engine.dispose()
    return url


@pytest.fixture
def store(db_url):
    store = Store.open(db_url)
    yield store
    store.engine.dispose()
