"""The directory of units and officers, and whom a reminder goes to.

File shape (more keys allowed; they are kept):
  units:    - {id: chengguan, name: 城关派出所, leader: officer-9, legal_officer: officer-8, duty_phone: "13800000000"}
  officers: - {id: officer-1, name: 刘明, unit: chengguan, phone: "13900000001", urls: ["qxdingtalk://${DING_TOKEN}"]}
Roles (rules' notify / overdue.escalate): handler, co_handlers, unit_leader, legal_officer, duty, command_center.
An officer id the directory does not know is reported, and the unit's duty phone is used instead.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from qixian.legaltime.yamlsource import LineDict, LineList, Problem, ProblemsFound, read_yaml

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


def read_directory(path: Path) -> Directory:
    """Read and check a directory file. Raises ProblemsFound naming file and line."""
    source = str(path)
    data = read_yaml(path, source)
    problems: list[Problem] = []
    if not isinstance(data, LineDict):
        raise ProblemsFound([Problem(source, 1, 1, "名录文件应为键值对", "以 units: 和 officers: 开头")])
    units: dict[str, Unit] = {}
    officers: dict[str, Officer] = {}
    for key, kind in (("units", "单位"), ("officers", "民警")):
        entries = data.get(key) or LineList()
        if not isinstance(entries, LineList):  # every YAML list is read as a LineList
            problems.append(Problem(source, *data.line_of(key), f"{key} 应为列表", ""))
            continue
        for index, entry in enumerate(entries):
            line, column = entries.line_of(index)
            if not isinstance(entry, dict) or not entry.get("id") or not entry.get("name"):
                problems.append(Problem(source, line, column, f"每个{kind}至少要有 id 和 name", ""))
                continue
            ident = str(entry["id"])
            if ident in units or ident in officers:
                problems.append(Problem(source, line, column, f"编号 {ident} 重复", ""))
                continue
            if key == "units":
                units[ident] = Unit(
                    ident,
                    str(entry["name"]),
                    _text(entry.get("leader")),
                    _text(entry.get("legal_officer")),
                    _text(entry.get("duty_phone")),
                    _extra(entry, Unit),
                )
            else:
                urls = entry.get("urls") or []
                if not isinstance(urls, list):
                    problems.append(Problem(source, line, column, f"民警 {ident} 的 urls 应为列表", ""))
                    urls = []
                officers[ident] = Officer(
                    ident,
                    str(entry["name"]),
                    _text(entry.get("unit")),
                    _text(entry.get("phone")),
                    tuple(str(u) for u in urls),
                    tuple(str(r) for r in entry.get("roles") or ()),
                    _extra(entry, Officer),
                )
    for officer in officers.values():
        if officer.unit and officer.unit not in units:
            problems.append(Problem(source, 1, 1, f"民警 {officer.id} 的单位 {officer.unit} 不在 units 中", ""))
    for unit in units.values():
        for who in (unit.leader, unit.legal_officer):
            if who and who not in officers:
                problems.append(Problem(source, 1, 1, f"单位 {unit.id} 的负责人或法制员 {who} 不在 officers 中", ""))
    if problems:
        raise ProblemsFound(problems)
    return Directory(units, officers)


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def _extra(entry: dict, kind) -> dict:
    known = set(kind.__dataclass_fields__)
    return {k: v for k, v in entry.items() if k not in known}
