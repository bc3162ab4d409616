"""Who is who: the units and officers of the directory, and whom a reminder's roles (rules' notify and
overdue.escalate: handler, co_handlers, unit_leader, legal_officer, duty, command_center) name on a case. An officer
id the directory does not know is reported, and the unit's duty phone is used instead. Plain Python: the store
keeps a Directory, casework.directory reads one from its file, the reminders are addressed by it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

DUTY = "duty:"  # recipient ids of a unit's duty phone: duty:<unit id>
COMMAND_CENTER = "duty:command_center"
NAMED_ROLES = ("handler", "co_handlers", "unit_leader", "legal_officer")  # the roles that name an officer of the case


@dataclass(frozen=True)
class Unit:
    id: str
    name: str
    leader: str | None = None
    legal_officer: str | None = None
    duty_phone: str | None = None
    extra: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Officer:
    id: str
    name: str
    unit: str | None = None
    phone: str | None = None
    urls: tuple[str, ...] = ()
    roles: tuple[str, ...] = ()
    extra: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Directory:
    units: dict[str, Unit]
    officers: dict[str, Officer]

    def recipients(
        self, roles: tuple[str, ...], *, unit: str | None, handler: str | None, co_handlers: list[str], named: Mapping[str, Sequence[str | None]] | None = None
    ) -> tuple[list[str], list[str]]:
        """(recipient ids, problems) for these roles on a case of `unit` handled by `handler`; `named` gives the
        officers of roles a case's own events name (a listing's leader and contact; None where it names none)."""
        found: list[str] = []
        problems: list[str] = []
        home = self.units.get(unit or "")
        for role in roles:
            if role == "handler":
                wanted = [handler] if handler else []
            elif role == "co_handlers":
                wanted = list(co_handlers)
            elif role == "unit_leader":
                wanted = [home.leader] if home and home.leader else []
            elif role == "legal_officer":
                wanted = [home.legal_officer] if home and home.legal_officer else []
            elif role == "duty":
                wanted = [DUTY + unit] if unit else []
            elif role == "command_center":
                wanted = [COMMAND_CENTER]
            elif named is not None and role in named:
                wanted = [p for p in named[role] if p]
            else:
                problems.append(f"未知的角色 {role}")
                continue
            if not wanted and role not in ("co_handlers",):
                problems.append(f"案件单位 {unit or '（未填）'} 没有{role}（见 notify/directory.yaml），改发单位值班电话")
                wanted = [DUTY + unit] if unit else [COMMAND_CENTER]
            for person in wanted:
                if person.startswith(DUTY) or person in self.officers:
                    found.append(person)
                else:
                    problems.append(f"名录中没有民警 {person}，改发单位值班电话")
                    found.append(DUTY + (unit or "command_center"))
        return list(dict.fromkeys(found)), problems

    def on_case(self, officer: str, *, unit: str | None, handler: str | None, co_handlers: list[str]) -> bool:
        """Whether `officer` is in the directory and, on a case of `unit` handled by `handler`, one of those its
        reminders go to by name: the handler, a co-handler, or the unit's leader or legal officer."""
        return officer in self.recipients(NAMED_ROLES, unit=unit, handler=handler, co_handlers=co_handlers)[0]

    def unit_name(self, unit: str | None) -> str:
        """A unit's name, or its id if the directory does not have it."""
        if not unit:
            return "—"
        return self.units[unit].name if unit in self.units else unit

    def name_of(self, recipient: str) -> str:
        if recipient.startswith(DUTY):
            unit = self.units.get(recipient[len(DUTY) :])
            return f"{unit.name if unit else recipient[len(DUTY) :]}值班室"
        officer = self.officers.get(recipient)
        return officer.name if officer else recipient
