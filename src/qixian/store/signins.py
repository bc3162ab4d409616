"""The dashboard's accounts in the store: password hashes, sessions and the sign-in log."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlmodel import col

from qixian.store.part import StorePart
from qixian.store.rows import utc
from qixian.store.tables import SignInRow, WebSessionRow, WebUserRow

# Failures are counted over PAUSE, and signing in pauses that long. An officer id's count starts again at a success
# or a new password; its first limit pauses it at that address only, so nobody elsewhere can lock an officer out.
PAUSE = timedelta(minutes=15)
OFFICER_FAILURES = 5  # failed sign-ins in a row for one officer id from one address
OFFICER_EVERYWHERE = 50  # failed sign-ins in a row for one officer id from anywhere: guessing from many places
ADDRESS_FAILURES = 20  # failed sign-ins from one address, whatever the ids (one place trying many)


def paused_until(here: list[datetime], everywhere: list[datetime], address: list[datetime]) -> datetime | None:
    """Until when signing in pauses, given the failures within PAUSE (oldest first) for the officer id from this
    address, for the id from anywhere, and from this address for any id; None when it may go on. A pause ends
    when enough of its failures have left the window."""
    ends = [
        failures[-limit] + PAUSE
        for failures, limit in ((here, OFFICER_FAILURES), (everywhere, OFFICER_EVERYWHERE), (address, ADDRESS_FAILURES))
        if len(failures) >= limit
    ]
    return max(ends, default=None)


class SignIns(StorePart):
    """Dashboard accounts, sessions and sign-ins (a part of Store)."""

    def set_password_hash(self, officer: str, password_hash: str, now: datetime) -> None:
        """Set the officer's password; the officer's open sessions end with the old one."""
        with self.session() as session:
            row = session.get(WebUserRow, officer) or WebUserRow(officer=officer, password_hash=password_hash, updated_at=utc(now))
            row.password_hash, row.updated_at = password_hash, utc(now)
            session.add(row)
            session.execute(delete(WebSessionRow).where(col(WebSessionRow.officer) == officer))
            session.commit()

    def password_hash(self, officer: str) -> str | None:
        with self.session() as session:
            row = session.get(WebUserRow, officer)
            return row.password_hash if row else None

    def remove_web_user(self, officer: str) -> bool:
        """Whether the officer had a password (now removed: signing in and open sessions stop working)."""
        with self.session() as session:
            removed = session.exec(delete(WebUserRow).where(col(WebUserRow.officer) == officer)).rowcount
            session.execute(delete(WebSessionRow).where(col(WebSessionRow.officer) == officer))
            session.commit()
        return bool(removed)

    def open_web_session(self, key: str, officer: str, now: datetime, expires: datetime) -> None:
        """Hold a new dashboard session (`key`: the digest of the cookie's id), dropping the sessions that expired."""
        with self.session() as session:
            session.execute(delete(WebSessionRow).where(col(WebSessionRow.expires_at) <= utc(now)))
            session.add(WebSessionRow(id=key, officer=officer, created_at=utc(now), expires_at=utc(expires)))
            session.commit()

    def web_session(self, key: str, now: datetime) -> str | None:
        """The officer of the dashboard session `key` if it is held and has not expired, else None."""
        with self.session() as session:
            row = session.get(WebSessionRow, key)
        return row.officer if row is not None and row.expires_at > utc(now) else None

    def end_web_session(self, key: str) -> None:
        with self.session() as session:
            session.execute(delete(WebSessionRow).where(col(WebSessionRow.id) == key))
            session.commit()

    def web_users(self) -> list[WebUserRow]:
        with self.session() as session:
            return list(session.execute(select(WebUserRow).order_by(col(WebUserRow.officer))).scalars())

    def record_sign_in(self, officer: str, client: str, ok: bool, now: datetime) -> None:
        with self.session() as session:
            session.add(SignInRow(officer=officer, client=client[:64], at=utc(now), ok=ok))
            session.commit()

    def last_sign_ins(self) -> dict[str, datetime]:
        """Each officer's last successful sign-in."""
        with self.session() as session:
            return {
                officer: at
                for officer, at in session.execute(
                    select(col(SignInRow.officer), func.max(col(SignInRow.at))).where(col(SignInRow.ok).is_(True)).group_by(col(SignInRow.officer))
                )
            }

    def sign_ins(self) -> list[SignInRow]:
        with self.session() as session:
            return list(session.execute(select(SignInRow).order_by(col(SignInRow.id))).scalars())

    def failed_sign_ins(self, since: datetime, *, officer: str | None = None, client: str | None = None) -> list[tuple[datetime, str]]:
        """(time, address) of the failed sign-ins after `since`, oldest first: for an officer id (only those after its
        last success and after its password was last set), or from an address."""
        since = utc(since)
        with self.session() as session:
            if officer is not None:
                user = session.get(WebUserRow, officer)
                last_ok = session.execute(select(func.max(col(SignInRow.at))).where(col(SignInRow.officer) == officer, col(SignInRow.ok).is_(True))).scalar()
                since = max([since] + [t for t in (user.updated_at if user else None, last_ok) if t is not None])
                whose = col(SignInRow.officer) == officer
            else:
                whose = col(SignInRow.client) == client
            return list(
                session.execute(
                    select(col(SignInRow.at), col(SignInRow.client))
                    .where(whose, col(SignInRow.ok).is_(False), col(SignInRow.at) > since)
                    .order_by(col(SignInRow.at))
                ).tuples()
            )
