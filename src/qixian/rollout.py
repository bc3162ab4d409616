"""Rule pack roll-outs: which files (content hashes) were put in force, by whom, when, and which dues moved.
The pack's version is the hash of its files (rule files, settings, events and the calendar), so `qixian health`
can tell whether the pack on disk is the one last rolled out."""

from __future__ import annotations

import hashlib
import os
from datetime import datetime
from pathlib import Path

from sqlalchemy import select

from qixian.localtime import SHANGHAI
from qixian.recompute import Recomputed
from qixian.store.repository import Store
from qixian.store.tables import RolloutRow
from qixian.yamlsource import outside


def pack_files(directory: Path) -> dict[str, str]:
    """{path inside the pack: sha256 of its bytes} for every YAML file of the pack, calendar included. A file
    that loading the pack refuses (a symbolic link out of the pack or in a loop) is listed with the reason
    instead, unread; linked folders are not entered."""
    directory = Path(directory)
    root = Path(os.path.realpath(directory))
    files = {}
    for folder, _folders, names in os.walk(directory):
        for name in names:
            path = Path(folder, name)
            if path.suffix not in (".yaml", ".yml"):
                continue
            inside = path.relative_to(directory).as_posix()
            refused = outside(path, root, inside)
            files[inside] = refused.message if refused else hashlib.sha256(path.read_bytes()).hexdigest()
    return dict(sorted(files.items()))


def pack_hash(files: dict[str, str]) -> str:
    """One hash for the whole pack: its file names and their content hashes."""
    listing = "".join(f"{name}\0{digest}\n" for name, digest in sorted(files.items()))
    return hashlib.sha256(listing.encode("utf-8")).hexdigest()


def record(store: Store, directory: Path, files: dict[str, str], by: str, now: datetime, result: Recomputed) -> RolloutRow:
    """Record a roll-out whose recompute gave `result`."""
    row = RolloutRow(at=now, by=by, directory=str(directory), pack_hash=pack_hash(files), files=files,
                     cases=result.cases, clocks=result.clocks, changed=result.changed,
                     moved=[{"case": m.case, "person": m.person or None, "rule": m.rule, "before": m.before,
                             "after": m.after, "shift_hours": m.shift.total_seconds() / 3600 if m.shift else None}
                            for m in result.moved])
    with store.session() as session:
        session.add(row)
        session.commit()
    return row


def last(store: Store) -> RolloutRow | None:
    with store.session() as session:
        return session.exec(select(RolloutRow).order_by(RolloutRow.id.desc()).limit(1)).scalars().first()


def shown(row: RolloutRow) -> str:
    return f"{row.pack_hash[:12]}（{row.by}，{row.at.astimezone(SHANGHAI):%Y-%m-%d %H:%M} 上线）"
