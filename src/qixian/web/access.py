"""Who sees which cases, from the directory (so it follows the directory as it is reloaded):
- 法制部门 legal-affairs staff (an officer with the role `legal_affairs` in the directory): every case;
- 单位负责人 / 法制员 (the `leader` or `legal_officer` of a unit in the directory): the cases of that unit;
- 办案民警 any other officer: the cases the officer handles or co-handles.
An officer who is both sees the union (legal-affairs staff see everything anyway)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import CompoundSelect, or_, select, union
from sqlmodel import col

from qixian.engine.directory import Directory
from qixian.store.tables import CaseRow, CoHandlerRow

LEGAL_ROLE = "legal_affairs"
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

    def scoped(self, query, case_id=CaseRow.id, unit=CaseRow.unit):
        """`query` narrowed to the cases this viewer may see (`case_id` and `unit`: the columns that name the case
        and its unit, CaseRow's by default; clocks carry both). Found by index, each way apart (the units led; the
        cases handled, and co-handled by case_co_handlers), so a province's store is not read through."""
        if self.role == "legal":
            return query
        mine = case_id.in_(cases_of(self.officer))
        return query.where(or_(unit.in_(self.units), mine) if self.units else mine)


def cases_of(officer: str) -> CompoundSelect:
    """SELECT of the ids of the cases `officer` handles or co-handles."""
    return union(select(col(CaseRow.id)).where(col(CaseRow.handler) == officer), select(col(CoHandlerRow.case_id)).where(col(CoHandlerRow.officer) == officer))


def viewer_of(directory: Directory, officer_id: str) -> Viewer | None:
    """The viewer an officer of the directory is, or None if the directory does not know the officer."""
    officer = directory.officers.get(officer_id)
    if officer is None:
        return None
    if LEGAL_ROLE in officer.roles:
        return Viewer(officer.id, officer.name, "legal", tuple(directory.units))
    led = tuple(u.id for u in directory.units.values() if officer.id in (u.leader, u.legal_officer))
    return Viewer(officer.id, officer.name, "leader" if led else "officer", led)
