"""Who sees which cases, from the directory (so it follows the directory as it is reloaded):
- 法制部门 legal-affairs staff (an officer with the role `legal_affairs` in the directory): every case;
- 单位负责人 / 法制员 (the `leader` or `legal_officer` of a unit in the directory): the cases of that unit;
- 办案民警 any other officer: the cases the officer handles or co-handles.
An officer who is both sees the union (legal-affairs staff see everything anyway)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import String, cast, select, union

from qixian.casework.directory import Directory
from qixian.store.tables import CaseRow

LEGAL_ROLE = "legal_affairs"
CO_HANDLED = cast(CaseRow.co_handlers, String) != "[]"  # cases with co-handlers, as the partial index ix_cases_co_handled says it
ROLE_LABELS = {"legal": "法制部门", "leader": "单位负责人", "officer": "办案民警"}


@dataclass(frozen=True)
class Viewer:
    officer: str
    name: str
    role: str  # legal | leader | officer
    units: tuple[str, ...] = ()  # the units a leader (or unit legal officer) oversees

    @property
    def role_label(self) -> str:
        return ROLE_LABELS[self.role]

    def sees(self, case: CaseRow | None) -> bool:
        """Whether this viewer may see the case (None: a case known only by its clocks, legal staff only)."""
        if self.role == "legal":
            return True
        if case is None:
            return False
        return case.unit in self.units or case.handler == self.officer or self.officer in (case.co_handlers or [])

    def scoped(self, query, case_id=CaseRow.id):
        """`query` narrowed to the cases this viewer may see (`case_id`: the column that names the case, CaseRow.id
        by default). The cases are found by index, each way apart (handled, co-handled, of the units led), so a
        province's store is not read through; co-handlers by a text match on the JSON list of the cases that have
        any, then confirmed with `sees` by the caller."""
        if self.role == "legal":
            return query
        return query.where(case_id.in_(cases_of(self.officer, self.units)))


def cases_of(officer: str, units: tuple[str, ...] = ()):
    """SELECT of the ids of the cases `officer` handles or (by co_handled_by) co-handles, and of the `units`' cases."""
    ways = [select(CaseRow.id).where(CaseRow.handler == officer), select(CaseRow.id).where(CO_HANDLED, co_handled_by(officer))]
    if units:
        ways.append(select(CaseRow.id).where(CaseRow.unit.in_(units)))
    return union(*ways)


def co_handled_by(officer: str):
    """The condition that a case lists `officer` among its co-handlers: a text match on the JSON list (an id JSON
    would escape matches every case with a list, to be confirmed with `Viewer.sees`)."""
    listed = cast(CaseRow.co_handlers, String)
    if '"' in officer or "\\" in officer:
        return listed.is_not(None)
    escaped = officer.replace("%", "\\%").replace("_", "\\_")
    return listed.like(f'%"{escaped}"%', escape="\\")


def viewer_of(directory: Directory, officer_id: str) -> Viewer | None:
    """The viewer an officer of the directory is, or None if the directory does not know the officer."""
    officer = directory.officers.get(officer_id)
    if officer is None:
        return None
    if LEGAL_ROLE in officer.roles:
        return Viewer(officer.id, officer.name, "legal", tuple(directory.units))
    led = tuple(u.id for u in directory.units.values() if officer.id in (u.leader, u.legal_officer))
    return Viewer(officer.id, officer.name, "leader" if led else "officer", led)
