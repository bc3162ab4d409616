"""Reading the directory of units and officers (engine.directory: who is who, and whom a reminder goes to).

File shape (more keys allowed; they are kept):
  units:    - {id: chengguan, name: 城关派出所, leader: officer-9, legal_officer: officer-8, duty_phone: "13800000000"}
  officers: - {id: officer-1, name: 刘明, unit: chengguan, phone: "13900000001", urls: ["qxdingtalk://${DING_TOKEN}"]}
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from qixian.engine.directory import Directory, Officer, Unit
from qixian.legaltime.yamlsource import LineDict, LineList, Problem, ProblemsFound, read_yaml


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
