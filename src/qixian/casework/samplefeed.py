"""A realistic made-up feed of case events, for the demo and the benchmarks: criminal cases (detention, arrest
or bail), public-order cases (summons, questioning, the case period) and incidents, with Chinese titles, units
and officers. Deterministic for a seed."""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

from qixian.legaltime.localtime import SHANGHAI

UNITS = [("chengguan", "城关派出所"), ("jiaodong", "胶东派出所"), ("jiaoxi", "胶西派出所"), ("xingzheng", "刑侦大队"), ("zhian", "治安大队")]
SURNAMES = "张王李赵刘陈杨黄周吴徐孙马朱胡郭何林高罗"
PLACES = ["某超市", "某小区", "某网吧", "某KTV", "某工地", "某菜市场", "某宾馆", "某物流园", "某学校门口", "某加油站"]
CRIMES = ["盗窃案", "诈骗案", "故意伤害案", "抢夺案", "寻衅滋事案", "非法拘禁案"]
ORDER = ["殴打他人案", "盗窃案（治安）", "扰乱公共秩序案", "故意损毁财物案", "赌博案"]


def officers(per_unit: int = 3) -> list[dict]:
    """`per_unit` officers a unit (three unless told); the first is the unit's leader, the second its legal officer."""
    people = []
    for index, (unit, _) in enumerate(UNITS):
        for n in range(per_unit):
            number = index * per_unit + n + 1
            people.append({"id": f"officer-{number}", "name": SURNAMES[(number - 1) % len(SURNAMES)] + "警官", "unit": unit, "phone": f"1390000{number:04d}"})
    return people


def directory(chat: str | None = None, per_unit: int = 3):
    """The sample units and officers as a Directory; with `chat` (a URL prefix), every other officer has a chat
    robot at `<chat>/<officer id>` and the rest are reached by SMS."""
    from qixian.engine.directory import Directory, Officer, Unit

    people = officers(per_unit)
    units = {}
    for index, (unit, name) in enumerate(UNITS):
        leader, legal_officer = ([p["id"] for p in people if p["unit"] == unit] + [None, None])[:2]
        units[unit] = Unit(unit, name, leader, legal_officer, f"1380000{index:04d}")
    staff = {p["id"]: Officer(p["id"], p["name"], p["unit"], p["phone"], (f"{chat}/{p['id']}",) if chat and n % 2 == 0 else ()) for n, p in enumerate(people)}
    return Directory(units, staff)


class Feed:
    """Generates cases; each case is a list of event dicts in the ingest format."""

    def __init__(self, seed: int = 7, start: datetime | None = None, days: int = 60, per_unit: int = 3):
        self.random = random.Random(seed)
        self.start = start or datetime(2025, 9, 1, tzinfo=SHANGHAI)
        self.days = days
        self.officers = officers(per_unit)
        self.serial = 0

    def cases(self, count: int) -> Iterator[list[dict]]:
        for _ in range(count):
            roll = self.random.random()
            yield self._criminal() if roll < 0.45 else self._public_order() if roll < 0.85 else self._incident()

    def lines(self, count: int) -> Iterator[str]:
        for case in self.cases(count):
            for event in case:
                yield json.dumps(event, ensure_ascii=False)

    # -- case shapes ------------------------------------------------------------------------------

    def _new_case(self, kind: str, word: str, titles: list[str]) -> tuple[str, dict, datetime]:
        self.serial += 1
        officer = self.random.choice(self.officers)
        unit = officer["unit"]
        number = f"（{self.start.year}）{dict(UNITS)[unit][:2]}{word}字第{self.serial:05d}号"
        info = {"kind": kind, "title": f"{self.random.choice(PLACES)}{self.random.choice(titles)}", "unit": unit, "handler": officer["id"]}
        when = self.start + timedelta(minutes=self.random.randrange(self.days * 24 * 60))
        return number, info, when

    def _event(self, case: str, kind: str, at: datetime, person: str | None = None, data: dict | None = None, info: dict | None = None) -> dict:
        event: dict[str, Any] = {"id": f"{case}#{kind}#{person or ''}#{at:%Y%m%d%H%M}", "case": case, "type": kind, "at": at.strftime("%Y-%m-%d %H:%M")}
        if person:
            event["person"] = person
        if data:
            event["data"] = data
        if info:
            event["case_info"] = info
        return event

    def _later(self, at: datetime, low_minutes: int, high_minutes: int) -> datetime:
        return at + timedelta(minutes=self.random.randint(low_minutes, high_minutes))

    def _criminal(self) -> list[dict]:
        case, info, at = self._new_case("criminal", "刑", CRIMES)
        events = [self._event(case, "case_registered_online", at, data={"channel": "上门报案"}, info=info), self._event(case, "receipt_issued", at)]
        accepted = self._later(at, 30, 600)
        filed = self._later(accepted, 600, 4000)
        events += [self._event(case, "case_accepted", accepted), self._event(case, "case_filed", filed)]
        for n in range(self.random.choice((1, 1, 2, 3))):
            person = self.random.choice(SURNAMES) + "某" + ("甲乙丙"[n] if n else "")
            detained = self._later(filed, 60, 3000)
            events += [
                self._event(case, "detained", detained, person),
                self._event(case, "sent_to_custody", self._later(detained, 60, 600), person),
                self._event(case, "family_notified", self._later(detained, 120, 1500), person),
                self._event(case, "first_interrogated", self._later(detained, 30, 1200), person),
            ]
            outcome = self.random.random()
            if outcome < 0.55:
                requested = self._later(detained, 600, 4000)
                events.append(self._event(case, "arrest_requested", requested, person))
                approved = self._later(requested, 1440, 8640)
                arrested = self._later(approved, 10, 240)
                events += [
                    self._event(case, "arrest_approved", approved, person),
                    self._event(case, "arrested", arrested, person),
                    self._event(case, "first_interrogated", self._later(arrested, 30, 1300), person, {"after": "逮捕"}),
                    self._event(case, "family_notified", self._later(arrested, 60, 1500), person, {"notice": "逮捕"}),
                ]
                if self.random.random() < 0.8:
                    events.append(self._event(case, "arrest_receipt_sent", self._later(approved, 600, 3600), person))
            elif outcome < 0.9:
                events.append(self._event(case, "bail_granted", self._later(detained, 600, 4000), person))
            # else: still detained, the arrest request pending
        return events

    def _public_order(self) -> list[dict]:
        case, info, at = self._new_case("administrative", "治", ORDER)
        info["public_order"] = True
        events = [self._event(case, "case_registered_online", at, data={"channel": "110警情"}, info=info)]
        accepted = self._later(at, 20, 300)
        events += [self._event(case, "case_accepted", accepted), self._event(case, "case_filed", accepted)]
        for n in range(self.random.choice((1, 1, 2))):
            person = self.random.choice(SURNAMES) + "某" + ("甲乙"[n] if n else "")
            summoned = self._later(accepted, 30, 2000)
            events.append(self._event(case, "summoned", summoned, person))
            events.append(self._event(case, "questioning_ended", self._later(summoned, 60, 560), person))
        if self.random.random() < 0.5:
            events.append(self._event(case, "admin_decision_made", self._later(accepted, 2000, 40000)))
        return events

    def _incident(self) -> list[dict]:
        case, info, at = self._new_case("incident", "警", ["纠纷警情", "求助警情", "噪音扰民警情"])
        events = [self._event(case, "emergency_handled", at, info=info)]
        if self.random.random() < 0.8:
            events.append(self._event(case, "case_registered_online", self._later(at, 30, 1800), data={"channel": "110警情"}))
        return events
