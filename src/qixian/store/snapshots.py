"""Assessment reports kept ahead in the store (table report_snapshots): written by the background refresh and by
the reports page when it had to count live, read by the reports page. What a snapshot holds and when it is fresh
is qixian.supervision.snapshots; here only the rows."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import col

from qixian.store.part import StorePart
from qixian.store.rows import utc
from qixian.store.tables import ReportSnapshotRow


class ReportSnapshots(StorePart):
    """Report snapshots, one per view (a part of Store)."""

    def report_snapshot(self, view: str) -> ReportSnapshotRow | None:
        with self.session() as session:
            return session.get(ReportSnapshotRow, view)

    def keep_report_snapshot(self, view: str, pack_hash: str, computed_at: datetime, body: str) -> None:
        """Write the view's snapshot, replacing the one it had: one statement (INSERT … ON CONFLICT DO UPDATE, on
        SQLite and PostgreSQL alike), so two writers of one view never collide on its key."""
        dialect = postgresql if self.engine.dialect.name == "postgresql" else sqlite
        values = {"view": view, "pack_hash": pack_hash, "computed_at": utc(computed_at), "body": body}
        statement = dialect.insert(ReportSnapshotRow.__table__).values(**values)  # type: ignore[attr-defined]
        statement = statement.on_conflict_do_update(
            index_elements=["view"], set_={name: statement.excluded[name] for name in ("pack_hash", "computed_at", "body")}
        )
        with self.engine.begin() as connection:
            connection.execute(statement)

    def drop_report_snapshots(self, before: datetime) -> int:
        """Delete the snapshots computed before `before`; how many."""
        with self.session() as session:
            dropped = session.execute(delete(ReportSnapshotRow).where(col(ReportSnapshotRow.computed_at) < utc(before))).rowcount  # type: ignore[attr-defined]
            session.commit()
        return dropped or 0
