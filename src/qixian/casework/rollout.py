"""Rule pack roll-outs: which pack is in force, by whom, since when, and which dues moved.

The pack's version is the hash of its files (rule files, settings, events and the calendar). A roll-out keeps the
files themselves in the case store (table rule_packs), and the pack in force is the last roll-out's: every command
that computes or shows clocks (ingest, scan, the dashboard, reports, case show) loads it from there, written once to
this machine's pack folder, so the pack in use is one thing on every machine and switches when the roll-out is
recorded. The configured folder (--rules, $QIXIAN_RULES, ./rules) is where legal staff edit the next one."""

from __future__ import annotations

import hashlib
import os
import shutil
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import select
from sqlmodel import col

from qixian.casework.recompute import Recomputed
from qixian.legaltime.localtime import SHANGHAI
from qixian.legaltime.yamlsource import Problem, outside
from qixian.rulebook.model import RulePack
from qixian.store.database import private_folder, sqlite_file
from qixian.store.repository import Store
from qixian.store.tables import RolloutRow, RulePackRow

PACKS_FOLDER = "rule-packs"  # beside a SQLite store; else $QIXIAN_PACKS or ./.qixian/rule-packs


class NotKept(ValueError):
    """A pack file that cannot be kept (a refused link, not UTF-8): the message says which."""


def _yaml_files(directory: Path) -> Iterator[tuple[str, Path, Problem | None]]:
    """(path inside the pack, path, why it is refused or None) for every YAML file of the pack, calendar included.
    A file that loading the pack refuses (a symbolic link out of the pack or in a loop) is never read; linked
    folders are not entered."""
    directory = Path(directory)
    root = Path(os.path.realpath(directory))
    for folder, _folders, names in os.walk(directory):
        for name in names:
            path = Path(folder, name)
            if path.suffix in (".yaml", ".yml"):
                inside = path.relative_to(directory).as_posix()
                yield inside, path, outside(path, root, inside)


def pack_files(directory: Path) -> dict[str, str]:
    """{path inside the pack: sha256 of its bytes}; a refused file is listed with the reason instead, unread."""
    return dict(
        sorted((inside, refused.message if refused else hashlib.sha256(path.read_bytes()).hexdigest()) for inside, path, refused in _yaml_files(directory))
    )


def snapshot(directory: Path) -> dict[str, str]:
    """{path inside the pack: text} of every YAML file, to keep in the store. Raises NotKept."""
    texts = {}
    for inside, path, refused in _yaml_files(directory):
        if refused:
            raise NotKept(f"{inside}：{refused.message}")
        try:
            texts[inside] = path.read_bytes().decode("utf-8")
        except UnicodeDecodeError:
            raise NotKept(f"{inside}：文件不是 UTF-8 编码") from None
    return dict(sorted(texts.items()))


def hashes(texts: dict[str, str]) -> dict[str, str]:
    """The pack_files listing of kept texts (UTF-8 round-trips, so the hashes are those of the files)."""
    return {name: hashlib.sha256(text.encode("utf-8")).hexdigest() for name, text in texts.items()}


def pack_hash(files: dict[str, str]) -> str:
    """One hash for the whole pack: its file names and their content hashes."""
    listing = "".join(f"{name}\0{digest}\n" for name, digest in sorted(files.items()))
    return hashlib.sha256(listing.encode("utf-8")).hexdigest()


def record(store: Store, directory: str | Path, texts: dict[str, str], by: str, now: datetime, result: Recomputed) -> RolloutRow:
    """Record a roll-out of the pack with files `texts` whose recompute gave `result`, keeping the files (once per
    pack): from this commit on the pack is in force everywhere."""
    files = hashes(texts)
    digest = pack_hash(files)
    row = RolloutRow(
        at=now,
        by=by,
        directory=str(directory),
        pack_hash=digest,
        files=files,
        cases=result.cases,
        clocks=result.clocks,
        changed=result.changed,
        moved=[
            {
                "case": m.case,
                "person": m.person or None,
                "rule": m.rule,
                "before": m.before,
                "after": m.after,
                "shift_hours": m.shift.total_seconds() / 3600 if m.shift else None,
            }
            for m in result.moved
        ],
    )
    with store.session() as session:
        if session.get(RulePackRow, digest) is None:
            session.add(RulePackRow(pack_hash=digest, files=texts, kept_at=now))
        session.add(row)
        session.commit()
    return row


def last(store: Store) -> RolloutRow | None:
    with store.session() as session:
        return session.execute(select(RolloutRow).order_by(col(RolloutRow.id).desc()).limit(1)).scalars().first()


def shown(row: RolloutRow) -> str:
    return f"{row.pack_hash[:12]}（{row.by}，{row.at.astimezone(SHANGHAI):%Y-%m-%d %H:%M} 上线）"


@dataclass(frozen=True)
class InForce:
    """The last roll-out and the folder on this machine holding its files; folder is None for a roll-out recorded
    before packs were kept (commands then use the configured folder, as they did)."""

    row: RolloutRow
    folder: Path | None


def in_force(store: Store) -> InForce | None:
    """The pack in force (None before the first roll-out)."""
    row = last(store)
    return None if row is None else InForce(row, unpacked(store, row.pack_hash))


def previous(store: Store) -> RolloutRow | None:
    """The roll-out of the pack that was in force before the current one: the latest with another pack hash."""
    current = last(store)
    if current is None:
        return None
    with store.session() as session:
        query = select(RolloutRow).where(col(RolloutRow.pack_hash) != current.pack_hash).order_by(col(RolloutRow.id).desc()).limit(1)
        return session.execute(query).scalars().first()


def kept(store: Store, digest: str) -> dict[str, str] | None:
    """The kept files of the pack with hash `digest`, or None."""
    with store.session() as session:
        row = session.get(RulePackRow, digest)
        return dict(row.files) if row is not None else None


def packs_folder(store: Store) -> Path:
    """Where this machine writes kept packs out: $QIXIAN_PACKS, else beside a SQLite store, else ./.qixian/."""
    chosen = os.environ.get("QIXIAN_PACKS")
    if chosen:
        return Path(chosen)
    database = sqlite_file(store.engine.url.render_as_string(hide_password=False))
    return (database.parent if database else Path(".qixian")) / PACKS_FOLDER


def unpacked(store: Store, digest: str) -> Path | None:
    """The folder holding the kept pack `digest` on this machine, written (atomically, by renaming a finished
    folder into place) if missing or not matching its hash; None if the store kept no such pack."""
    home = packs_folder(store)
    folder = home / digest
    if folder.is_dir() and pack_hash(pack_files(folder)) == digest:
        return folder
    texts = kept(store, digest)
    if texts is None:
        return None
    private_folder(home)
    staging = home / f".{digest}.{os.getpid()}.tmp"
    shutil.rmtree(staging, ignore_errors=True)
    for name, text in texts.items():
        target = staging / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(text.encode("utf-8"))
    if folder.exists():  # edited or half-written by hand: set aside, never loaded
        aside = home / f".{digest}.{os.getpid()}.old"
        os.replace(folder, aside)
        shutil.rmtree(aside, ignore_errors=True)
    try:
        os.replace(staging, folder)
    except OSError:  # another process put the same files in place first
        shutil.rmtree(staging, ignore_errors=True)
    return folder


def folder_for(store: Store, configured: Path) -> Path:
    """The folder to load the pack from to compute or show the store's clocks: the pack in force, else (no roll-out
    kept its files yet) `configured`."""
    current = in_force(store)
    return current.folder if current is not None and current.folder is not None else Path(configured)


def differs(store: Store, folder: Path) -> RolloutRow | None:
    """The roll-out in force when the files in `folder` are another pack than it (None when they are the same, or
    nothing kept is in force)."""
    current = in_force(store)
    if current is None or current.folder is None or pack_hash(pack_files(folder)) == current.row.pack_hash:
        return None
    return current.row


class PackInForce:
    """The pack in force for a process that runs on (the dashboard): one small query per use, the pack reloaded
    only when a roll-out or rollback has put another one in force."""

    def __init__(self, store: Store, configured: Path, load: Callable[[Path], RulePack]):
        self.store, self.configured, self.load = store, Path(configured), load
        self._loaded: tuple[str, RulePack] | None = None  # (hash of the last roll-out, the pack)
        self._lock = threading.Lock()

    def __call__(self) -> RulePack:
        row = last(self.store)
        digest = row.pack_hash if row is not None else ""
        with self._lock:
            if self._loaded is None or self._loaded[0] != digest:
                self._loaded = (digest, self.load(folder_for(self.store, self.configured)))
            return self._loaded[1]


def pack_in_force(store: Store, configured: Path) -> RulePack:
    """The pack in force, loaded (for the flows, which have no terminal to print a pack's problems on)."""
    from qixian.rulebook import load_pack

    return load_pack(folder_for(store, configured))
