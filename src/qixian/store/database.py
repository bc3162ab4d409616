"""Opening the case store: one URL (QIXIAN_DB / --db), SQLite in WAL mode by default, PostgreSQL for
production, the schema brought up to date by Alembic migrations.

A SQLite store holds password hashes, phone numbers and suspects' names: its file is created readable by its owner
only (0600) in folders created 0700, and SQLite gives the -wal, -shm and -journal files it makes later the
database file's mode."""

from __future__ import annotations

import errno
import json
import logging
import os
import re
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import closing, contextmanager, suppress
from functools import lru_cache
from pathlib import Path

from sqlalchemy import Engine, create_engine, event, inspect, make_url, text
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, SQLAlchemyError

DEFAULT_URL = "sqlite:///.qixian/qixian.db"
PRIVATE_FILE, PRIVATE_FOLDER = 0o600, 0o700
SIDE_FILES = ("-wal", "-shm", "-journal")  # what SQLite keeps beside the database file
MIGRATIONS = Path(__file__).with_name("migrations")
VERSION_TABLE = "alembic_version"  # where Alembic keeps the migration a database is at
log = logging.getLogger(__name__)


def database_url(option: str | None = None) -> str:
    """--db, else $QIXIAN_DB, else a SQLite file under ./.qixian/. Plain postgresql:// URLs use psycopg 3."""
    url = option or os.environ.get("QIXIAN_DB") or DEFAULT_URL
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        url = "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def connect(url: str) -> Engine:
    """An engine for `url`; for SQLite the file and its folder are created private (if missing) and WAL, foreign
    keys, a busy timeout and a larger page cache are set."""
    if url.startswith("sqlite"):
        path = sqlite_file(url)
        if path is not None:
            private_file(path)
        engine = create_engine(url, connect_args={"timeout": 30}, json_serializer=dump_json)

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_connection, _record):
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            # 16 MiB of page cache, not 2: an ingest batch's transaction touches more pages than 2 MiB holds, which
            # SQLite would read again or spill to the WAL before the commit (measured: write_clocks 1-2 µs/event less)
            cursor.execute("PRAGMA cache_size=-16384")
            cursor.close()

        return engine
    return create_engine(url, pool_pre_ping=True, json_serializer=dump_json)


class UnusableDatabase(RuntimeError):
    """The store's URL cannot be used: not a URL, a database we do not support, a server that does not answer, a
    file that cannot be made. The message is one line for the person who typed the URL."""


def shown(url: str) -> str:
    """`url` with its password hidden, for messages."""
    with suppress(ArgumentError):
        url = make_url(url).render_as_string(hide_password=True)
    return url.replace("postgresql+psycopg://", "postgresql://", 1)  # as typed (see database_url)


# a database driver's English (first line) -> Chinese
_DRIVER = (
    ("Connection refused", "连接被拒绝：数据库服务没有运行，或主机、端口不对"),
    ('role "', "数据库服务器上没有这个用户"),
    ("permission denied", "数据库用户没有权限"),
    ("does not exist", "数据库不存在：先在服务器上建库（如 createdb）"),
    ("password authentication failed", "用户名或密码不对"),
    ("no password supplied", "需要密码：写在地址中，或用 PGPASSWORD、~/.pgpass"),
    ("could not translate host name", "主机名无法解析"),
    ("Name or service not known", "主机名无法解析"),
    ("timeout expired", "连接超时：主机不通或防火墙阻挡"),
    ("timed out", "连接超时：主机不通或防火墙阻挡"),
    ("No route to host", "主机不通"),
    ("unable to open database file", "无法打开数据库文件：文件夹不存在或没有权限"),
    ("file is not a database", "这个文件不是 SQLite 数据库"),
    ("database is locked", "数据库文件被占用"),
    ("readonly database", "数据库文件只读"),
    ("disk I/O error", "磁盘读写出错"),
)
_ERRNO: dict[int | None, str] = {  # keyed by OSError.errno, which is None when the error carries no number
    errno.ENOENT: "路径不存在",
    errno.EACCES: "没有权限",
    errno.EPERM: "没有权限",
    errno.EROFS: "只读文件系统",
    errno.ENOSPC: "磁盘已满",
    errno.ENOTDIR: "路径中有一段不是文件夹",
}


def driver_reason(exc: BaseException) -> str:
    """Why the database refused, in Chinese; the driver's own words when we do not know them."""
    if isinstance(exc, OSError):
        return _ERRNO.get(exc.errno, "无法建立文件")
    original = getattr(exc, "orig", None) or exc
    text = str(original).strip()
    said = next((chinese for english, chinese in _DRIVER if english in text), None)
    return said or f"数据库报告：{text.splitlines()[0] if text else type(original).__name__}"


def unusable(url: str, exc: BaseException) -> UnusableDatabase:
    """One Chinese line for an error met while making an engine for `url` or in its first query."""
    if isinstance(exc, (NoSuchModuleError, ImportError)):  # (NoSuchModuleError is an ArgumentError)
        return UnusableDatabase(
            f"不支持的数据库 {url.split('://', 1)[0]!r}：案件库只用 SQLite（sqlite:///文件路径）或 PostgreSQL（postgresql://用户@主机:5432/库名）"
        )
    if isinstance(exc, ArgumentError):
        example = f"sqlite:///{url}" if "://" not in url else "sqlite:///文件路径"
        return UnusableDatabase(f"无法识别的数据库地址 {url!r}：SQLite 写成 {example}，PostgreSQL 写成 postgresql://用户@主机:5432/库名")
    return UnusableDatabase(f"无法使用案件库 {shown(url)}：{driver_reason(exc)}")


def engine_for(url: str) -> Engine:
    """connect(url), or UnusableDatabase saying in one line why not."""
    try:
        return connect(url)
    except (ArgumentError, NoSuchModuleError, ImportError, OSError) as exc:
        raise unusable(url, exc) from None


def revision(engine: Engine) -> str | None:
    """The migration the schema is at (None: no tables yet), as Alembic keeps it in its table; UnusableDatabase if the
    database cannot be read. (Read directly: opening a store does not import Alembic.)"""
    try:
        with engine.connect() as connection:
            if not inspect(connection).has_table(VERSION_TABLE):
                return None
            at = connection.execute(text(f"SELECT version_num FROM {VERSION_TABLE}")).scalars().all()
    except SQLAlchemyError as exc:
        raise unusable(engine.url.render_as_string(hide_password=False), exc) from None
    return ", ".join(sorted(at)) or None  # one migration, the migrations being one line


def sqlite_file(url: str) -> Path | None:
    """The database file of a SQLite URL; None for an in-memory one or another database."""
    if not url.startswith("sqlite"):
        return None
    path = make_url(url).database
    return Path(path) if path and path != ":memory:" else None


def private_folder(folder: Path) -> None:
    """Create `folder` and any missing folder above it, each readable by the owner only (0700); folders that
    exist are left as they are."""
    missing = [f for f in (folder, *folder.parents) if not f.exists()]
    for each in reversed(missing):
        each.mkdir(mode=PRIVATE_FOLDER, exist_ok=True)  # the umask can only take bits away


def private_file(path: Path) -> None:
    """Create the (empty) file `path`, and its folders, readable by the owner only; an existing file is left as
    it is (`qixian health` names one others can read)."""
    private_folder(path.parent)
    with suppress(FileExistsError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE))


AUTOCHECKPOINT = 1000  # SQLite's default: the writer copies the WAL into the database once it holds 1,000 pages


@contextmanager
def checkpoints_aside(engine: Engine) -> Iterator[None]:
    """For a bulk load into a SQLite file: a thread of its own copies the write-ahead log into the database as
    batches commit, instead of the writer doing it inside a commit and waiting on the disk syncs (a tenth of the
    ingest time). The same work is done, and the last checkpoint has run when this returns. Elsewhere a no-op."""
    path = engine.url.database
    if engine.dialect.name != "sqlite" or not path or path == ":memory:":
        yield
        return
    done = threading.Event()
    failure: list[BaseException] = []

    def checkpoint() -> None:
        try:
            with closing(sqlite3.connect(path, timeout=30, isolation_level=None)) as connection:
                while not done.wait(0.05):
                    connection.execute("PRAGMA wal_checkpoint(PASSIVE)")  # never blocks the writer
                connection.execute("PRAGMA wal_checkpoint(PASSIVE)")
        except sqlite3.Error as exc:  # the log is still whole: the writer's own checkpoints take over again
            failure.append(exc)

    def hold(dbapi_connection, _record, _proxy) -> None:
        dbapi_connection.execute("PRAGMA wal_autocheckpoint=0")

    def release(dbapi_connection, _record) -> None:
        dbapi_connection.execute(f"PRAGMA wal_autocheckpoint={AUTOCHECKPOINT}")

    event.listen(engine, "checkout", hold)
    event.listen(engine, "checkin", release)
    worker = threading.Thread(target=checkpoint, name="qixian-checkpoint", daemon=True)
    worker.start()
    try:
        yield
    finally:
        event.remove(engine, "checkout", hold)
        event.remove(engine, "checkin", release)
        done.set()
        worker.join()
        if failure:
            log.warning("后台 WAL 检查点失败（%s）：由写入连接照常完成", failure[0])


_encode_json = json.JSONEncoder(ensure_ascii=False).encode  # one encoder: json.dumps would build one on every call


def dump_json(value) -> str:
    # Chinese explanations stored as UTF-8, not \uXXXX escapes: a third of the bytes to write and read
    return _encode_json(value)


def upgrade(url: str, target: str = "head") -> tuple[str | None, str | None]:
    """Bring the schema at `url` to migration `target` with the project's Alembic migrations; returns the migration
    it was at (None: no tables) and the one it is at now. UnusableDatabase if `url` cannot be used; a SQLite file
    made for the attempt is removed again."""
    from alembic import command
    from alembic.config import Config

    path = sqlite_file(url)
    made = path if path is not None and not path.exists() else None  # the SQLite file this attempt makes
    engine = engine_for(url)  # for SQLite: the file, private, and its folder
    try:
        before = revision(engine)
    except UnusableDatabase:
        engine.dispose()
        if made is not None:
            for leftover in (made, *(made.with_name(made.name + side) for side in SIDE_FILES)):
                leftover.unlink(missing_ok=True)
        raise
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    command.upgrade(config, target)
    after = revision(engine)
    engine.dispose()
    return before, after


def is_current(engine: Engine) -> bool:
    """Whether the schema is at the newest migration (`qixian db upgrade` has been run since the last update)."""
    return revision(engine) == head_revision()


@lru_cache(maxsize=1)
def head_revision() -> str | None:
    """The newest migration: the one no other revises. Read from the migration files' `revision` and `down_revision`
    lines, without importing Alembic and every migration (tests compare it with Alembic's own answer)."""
    revises: dict[str, str] = {}
    for script in (MIGRATIONS / "versions").glob("*.py"):
        found = dict(_REVISION_LINE.findall(script.read_text(encoding="utf-8")))
        revises[found["revision"].strip("'\"")] = found.get("down_revision", "None").strip("'\"")
    heads = set(revises) - set(revises.values())
    if len(heads) != 1:
        raise RuntimeError(f"迁移文件应只有一个最新迁移，现有：{sorted(heads)}")
    return heads.pop()


_REVISION_LINE = re.compile(r"^(revision|down_revision)(?:\s*:[^=]*)?\s*=\s*(\S+)\s*$", re.M)
