"""Synthetic topology and grid teams for the stand-in: per service area 2 feeders with 4 台区 each, and one
grid team (台区经理, 抢修班, 营业) with shifts that cover every hour. Deterministic for a seed."""

from __future__ import annotations

import random

from sqlalchemy import select
from sqlalchemy.orm import Session

from backend import models as m

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华建国志红"
FIELD = ["fault_repair", "safety_hazard", "power_quality", "meter_issue", "arrears_reconnect"]
MANAGER = [
    "meter_issue", "power_quality", "new_connection", "temporary_supply", "appliance_damage_claim", "theft_report",
    "arrears_reconnect", "fault_repair", "safety_hazard",
]  # fmt: skip
BUSINESS = ["complaint", "suggestion", "tou_apply", "contact_change", "new_connection", "temporary_supply"]
EVERY_DAY, WEEKDAYS = list(range(7)), list(range(5))
# (role, leader, skills, shifts): 抢修 in day / night / 24h rota, 台区经理 by day, 营业 in office hours
STAFF = [
    ("district_manager", True, MANAGER, [[EVERY_DAY, "07:00", "23:00"]]),
    ("district_manager", False, MANAGER, [[WEEKDAYS, "08:00", "18:00"]]),
    ("repair", False, FIELD, [[EVERY_DAY, "08:00", "20:00"]]),
    ("repair", False, FIELD, [[EVERY_DAY, "20:00", "08:00"]]),
    ("repair", False, FIELD, [[EVERY_DAY, "00:00", "24:00"]]),
    ("business", False, BUSINESS, [[WEEKDAYS, "08:30", "17:30"]]),
]
ROLE_NAMES = {"district_manager": "台区经理", "repair": "抢修班", "business": "营业"}


def area_class(area: m.Area) -> str:
    if area.district == "江北区":  # the villages across the river
        return "remote" if area.name.endswith("四网格") else "rural"
    return "urban"


def seed_grid(s: Session, areas: list[m.Area], rng: random.Random) -> dict[str, list[str]]:
    """Lines, 台区, teams and members for the areas (merged: ids are stable); area -> its 台区 codes."""
    districts: dict[str, list[str]] = {}
    phones = set(s.scalars(select(m.TeamMember.phone)))
    for i, area in enumerate(areas, start=1):
        area.area_class = area_class(area)
        s.merge(area)
        codes = []
        for line_no in (1, 2):
            line = f"L{i:02d}{line_no}"
            s.merge(
                m.FeederLine(
                    code=line,
                    name=f"10kV {area.district}{line_no + 2 * i}号线",
                    substation=f"{area.district}变电站",
                    area_code=area.code,
                )
            )
            for tq in range(1, 5):
                code = f"TQ{i:02d}{line_no}{tq}"
                codes.append(code)
                s.merge(
                    m.TransformerDistrict(
                        code=code,
                        name=f"{area.name}{(line_no - 1) * 4 + tq}号台区",
                        line_code=line,
                        area_code=area.code,
                        capacity_kva=rng.choice((200, 315, 400, 630)),
                    )
                )
        districts[area.code] = codes
        s.merge(m.GridTeam(id=i, area_code=area.code, name=f"{area.name}供电服务班"))
        for j, (role, leader, skills, shifts) in enumerate(STAFF, start=1):
            phone = f"139{i:02d}{j:02d}{rng.randint(0, 9999):04d}"
            while phone in phones:
                phone = f"139{i:02d}{j:02d}{rng.randint(0, 9999):04d}"
            phones.add(phone)
            name = rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2))))
            member_id = i * 100 + j
            existing = s.get(m.TeamMember, member_id)
            s.merge(
                m.TeamMember(
                    id=member_id,
                    team_id=i,
                    username=f"g{member_id}",
                    display_name=name,
                    phone=existing.phone if existing else phone,
                    role=role,
                    leader=leader,
                    skills=list(skills),
                    shifts=shifts,
                    password_hash=existing.password_hash if existing else "",
                )
            )
    s.flush()
    return districts
