"""Deterministic synthetic CIS data: areas, customers, 12 months of bills, balances and outages.

The same seed and reference date always give the same rows. A few fixed demo customers (DEMO_CUSTOMERS)
exist for the README and the tests.

Customer.tags holds only what the CIS records as fact (低保户, 光伏用户, 预付费). Behaviour tags (高频来电, 欠费风险,
敏感客户, 老年 ...) are not drawn here: the insight jobs derive them from the customer's history (insight/refresh.py,
published to customer_tags). A prepaid balance below zero comes from a stated payment behaviour
(PREPAID_OVERDRAWN_CHANCE), not from a tag.
"""

from __future__ import annotations

import datetime as dt
import random

from sqlalchemy import delete, func, select
from sqlalchemy.orm import sessionmaker

from backend import models as m
from backend.workorders.grid import seed_grid

DISTRICTS = ["城东区", "城西区", "城南区", "城北区", "高新区", "江北区"]
GRIDS = ["一网格", "二网格", "三网格", "四网格"]
ROADS = [
    "和平路",
    "解放路",
    "建设路",
    "人民路",
    "中山路",
    "新华街",
    "文化路",
    "胜利街",
    "光明路",
    "长江路",
    "黄河路",
    "东风路",
    "青年路",
    "滨江路",
    "学府路",
    "工业路",
    "朝阳路",
    "幸福路",
    "团结路",
    "振兴路",
    "复兴路",
    "红旗街",
    "花园路",
    "北京路",
    "南京路",
    "公园路",
    "体育路",
    "科技路",
    "创业路",
    "金桥路",
    "银河路",
    "桂花巷",
    "梧桐巷",
    "柳荫街",
    "石桥街",
    "东门街",
    "西关路",
    "南湖路",
    "北苑路",
    "迎宾大道",
]
ESTATES = [
    "阳光花园",
    "幸福小区",
    "锦绣家园",
    "翠湖苑",
    "金色港湾",
    "紫荆苑",
    "枫林小区",
    "丽景湾",
    "书香苑",
    "康乐小区",
    "龙湖小区",
    "滨江花园",
]
VILLAGES = [
    "李家村",
    "王庄村",
    "张家湾",
    "东岗村",
    "杨柳村",
    "河口村",
    "石门村",
    "新兴村",
    "桃园村",
    "高家庄",
    "马家堡",
    "青山村",
]
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀英华慧建国玲桂兰红霞平刚飞鹏辉波宁志文斌燕俊峰海凤琴云"
FACT_TAGS = ["低保户", "光伏用户", "预付费"]  # CIS attributes; each customer holds each with FACT_TAG_CHANCE
FACT_TAG_CHANCE = 0.08
PREPAID_OVERDRAWN_CHANCE = 0.08  # a prepaid customer who has let the balance run below zero
FAULT_REASONS = ["线路故障抢修", "变压器故障抢修", "大风导致线路跳闸，正在抢修", "电缆被施工挖断，正在抢修"]
PLANNED_REASONS = ["线路检修", "配电设备升级改造", "变压器增容改造", "配合市政道路施工迁改线路"]

DEMO_CUSTOMERS = [  # account_no, name, phone, address, area index, CIS tags
    # 3201000002 is prepaid and overdrawn (DEMO_OVERDRAWN): the README's and the tests' customer in arrears
    ("3201000001", "王建国", "13912340001", "城东区和平路12号3单元501室", 0, []),
    ("3201000002", "李秀英", "13912340002", "城西区建设路45号2栋1单元302室", 4, ["预付费"]),
    ("3201000003", "陈明", "13912340003", "城南区中山路8号5栋2单元201室", 8, ["光伏用户"]),
    ("3201000004", "赵桂兰", "13912340004", "江北区李家村三组16号", 20, ["低保户"]),
]


DEMO_OVERDRAWN = {"3201000002"}


def _month_list(today: dt.date, n: int = 12) -> list[str]:
    y, mo = today.year, today.month
    out = []
    for _ in range(n):
        mo -= 1
        if mo == 0:
            y, mo = y - 1, 12
        out.append(f"{y:04d}-{mo:02d}")
    return out[::-1]


def build_areas() -> list[m.Area]:
    areas, roads = [], iter(ROADS)
    estates, villages = iter(ESTATES), iter(VILLAGES)
    for d in DISTRICTS:
        for g in GRIDS:
            code = f"A{len(areas) + 1:02d}"
            streets = [next(roads, None) for _ in range(2)] if d != "江北区" else [next(villages), next(villages)]
            streets += [next(estates, None)] if d != "江北区" else []
            areas.append(m.Area(code=code, name=f"{d}{g}", district=d, streets=[s for s in streets if s]))
    return areas


def _address(rng: random.Random, area: m.Area) -> str:
    street = rng.choice(area.streets)
    if street.endswith(("村", "湾", "庄", "堡")):
        return f"{area.district}{street}{rng.choice('一二三四五六')}组{rng.randint(1, 60)}号"
    if street in ESTATES:
        unit = f"{area.district}{street}{rng.randint(1, 30)}栋{rng.randint(1, 4)}单元"  # random draws in this order
        return f"{unit}{rng.randint(1, 18)}0{rng.randint(1, 4)}室"
    unit = f"{area.district}{street}{rng.randint(1, 300)}号{rng.randint(1, 12)}栋{rng.randint(1, 4)}单元"
    return f"{unit}{rng.randint(1, 9)}0{rng.randint(1, 4)}室"


def seed(
    sessions: sessionmaker,
    *,
    customers: int = 2400,
    seed_value: int = 95598,
    today: dt.date | None = None,
    now: dt.datetime | None = None,
) -> dict:
    """Replaces reference data (areas, customers, bills, balances, outages). Work orders are kept."""
    rng = random.Random(seed_value)
    today = today or dt.date.today()
    now = now or m.utcnow()
    months = _month_list(today)
    areas = build_areas()
    with sessions.begin() as s:
        for model in (m.Bill, m.Balance, m.Outage):
            s.execute(delete(model))
        s.execute(
            delete(m.Customer).where(
                ~m.Customer.account_no.in_(select(m.WorkOrder.account_no).where(m.WorkOrder.account_no.is_not(None)))
            )
        )
        districts = seed_grid(s, areas, random.Random(seed_value + 1))  # its own stream: customers stay the same
        seen_phones: set[str] = set()
        rows = [
            (acc, name, phone, addr, areas[i], tags, acc in DEMO_OVERDRAWN)
            for acc, name, phone, addr, i, tags in DEMO_CUSTOMERS
        ]
        while len(rows) < customers:
            acc = f"32{rng.randint(10_000_000, 99_999_999)}"
            phone = f"1{rng.choice('3456789')}{rng.randint(0, 999_999_999):09d}"
            if phone in seen_phones or acc.startswith("3201000"):
                continue
            seen_phones.add(phone)
            area = rng.choice(areas)
            name = rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2))))
            tags = [t for t in FACT_TAGS if rng.random() < FACT_TAG_CHANCE]
            rng.random()  # the draw that once gave 高频来电: kept so every later customer's data stays as it was
            overdrawn = rng.random() < PREPAID_OVERDRAWN_CHANCE
            rows.append((acc, name, phone, _address(rng, area), area, tags, overdrawn))
        seen: set[str] = set()
        customers_rows = []
        for acc, name, phone, addr, area, tags, overdrawn in rows:
            if acc in seen:
                continue
            seen.add(acc)
            id_masked = f"{rng.randint(110000, 659000)}********{rng.randint(100, 999)}{rng.choice('0123456789X')}"
            channels = [c for c in ("app", "wechat", "alipay") if rng.random() < 0.45]
            s.merge(
                m.Customer(
                    account_no=acc,
                    name=name,
                    id_number_masked=id_masked,
                    phone=phone,
                    address=addr,
                    area_code=area.code,
                    tags=tags,
                    channels=channels,
                    tou_enabled=rng.random() < 0.2,
                    tq_code=districts[area.code][int(acc[-3:]) % len(districts[area.code])],
                )
            )
            customers_rows.append((acc, tags, overdrawn))
        s.flush()  # bills reference customers by a bare foreign key: customers must exist first
        for acc, tags, overdrawn in customers_rows:
            base = rng.uniform(80, 420)
            for i, month in enumerate(months):
                season = 1.35 if month[5:] in ("01", "02", "07", "08", "12") else 1.0
                kwh = round(base * season * rng.uniform(0.85, 1.15), 1)
                amount = round(kwh * (0.5653 if kwh <= 230 else 0.6153), 2)
                paid = i < len(months) - 1 or rng.random() < 0.7
                s.add(m.Bill(account_no=acc, month=month, kwh=kwh, amount=amount, paid=paid))
            if "预付费" in tags:
                bal = round(rng.uniform(-80, -5), 2) if overdrawn else round(rng.uniform(5, 300), 2)
                s.add(m.Balance(account_no=acc, balance=bal, updated_at=now))
        # Active outages: a fault in the demo customer's area and some others; past and future planned ones.
        h = dt.timedelta(hours=1)
        outages = [("A01", "fault", now - h, now + 3 * h, FAULT_REASONS[0])]
        for area in rng.sample(areas[1:], 5):
            if area.code == "A05":  # keep the second demo customer's area free of outages
                continue
            kind = rng.choice(["fault", "planned"])
            reason = rng.choice(FAULT_REASONS if kind == "fault" else PLANNED_REASONS)
            outages.append((area.code, kind, now - rng.randint(1, 3) * h, now + rng.randint(2, 6) * h, reason))
        for area in rng.sample(areas, 4):
            day = now + dt.timedelta(days=rng.randint(1, 6))
            start = day.replace(hour=8, minute=0, second=0, microsecond=0)
            outages.append((area.code, "planned", start, start + 9 * h, rng.choice(PLANNED_REASONS)))
        for code, kind, start, end, reason in outages:
            s.add(m.Outage(area_code=code, kind=kind, start=start, expected_end=end, reason=reason))
    return counts(sessions)


def counts(sessions: sessionmaker) -> dict:
    with sessions() as s:
        return {
            model.__tablename__: s.scalar(select(func.count()).select_from(model))
            for model in (m.Area, m.Customer, m.Bill, m.Balance, m.Outage, m.WorkOrder, m.GridTeam, m.TeamMember)
        }
