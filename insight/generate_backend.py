"""The product's own CIS customers and topology as a generator population (insight.generate.generate_for)."""

from __future__ import annotations

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from backend import models as m
from insight.generate_latent import calendar_for
from insight.generate_population import Population, Topology, birth_year_of, opened_of

PREPAID_TAG, SOLAR_TAG, LOW_INCOME_TAG = "预付费", "光伏用户", "低保户"


def population_from_backend(
    sessions: sessionmaker[Session], *, months: int = 36, end_period: str | None = None
) -> Population:
    """Areas, feeder lines, 台区 and customers as the back end has them. prepaid: tagged 预付费 or holding a
    prepaid balance; solar: tagged 光伏用户; low income: tagged 低保户. The CIS has no birth year nor opening date:
    both are derived from the account number (the same every run), a few openings falling inside the history
    that `months` and `end_period` (as given to generate_for) span. A negative prepaid balance today is a fact the
    history must end with (owing_now: its last months unpaid)."""
    cal = calendar_for(months, end_period)
    window_start, window_days = cal.starts[0], cal.days
    with sessions() as s:
        areas = s.scalars(select(m.Area).order_by(m.Area.code)).all()
        lines = s.scalars(select(m.FeederLine).order_by(m.FeederLine.code)).all()
        tqs = s.scalars(select(m.TransformerDistrict).order_by(m.TransformerDistrict.code)).all()
        customers = s.execute(
            select(m.Customer.account_no, m.Customer.area_code, m.Customer.tq_code, m.Customer.tags).order_by(
                m.Customer.account_no
            )
        ).all()
        with_balance = set(s.scalars(select(m.Balance.account_no)))
        owing = set(s.scalars(select(m.Balance.account_no).where(m.Balance.balance < 0)))
    area_index = {a.code: i for i, a in enumerate(areas)}
    line_index = {ln.code: i for i, ln in enumerate(lines)}
    tq_index = {t.code: i for i, t in enumerate(tqs)}
    topology = Topology(
        area_code=np.array([a.code for a in areas]),
        area_name=np.array([a.name for a in areas]),
        area_class=np.array([a.area_class or "urban" for a in areas]),
        line_code=np.array([ln.code for ln in lines]),
        line_name=np.array([ln.name for ln in lines]),
        line_area=np.array([area_index[ln.area_code] for ln in lines], dtype=np.int64),
        tq_code=np.array([t.code for t in tqs]),
        tq_name=np.array([t.name for t in tqs]),
        tq_line=np.array([line_index[t.line_code] for t in tqs], dtype=np.int64),
    )
    tags = [set(c.tags or ()) for c in customers]
    accounts = [c.account_no for c in customers]
    return Population(
        topology=topology,
        account_no=np.array(accounts),
        area=np.array([area_index[c.area_code] for c in customers], dtype=np.int64),
        tq=np.array([tq_index.get(c.tq_code or "", -1) for c in customers], dtype=np.int64),
        prepaid=np.array([PREPAID_TAG in t or a in with_balance for t, a in zip(tags, accounts)], dtype=bool),
        solar=np.array([SOLAR_TAG in t for t in tags], dtype=bool),
        low_income=np.array([LOW_INCOME_TAG in t for t in tags], dtype=bool),
        birth_year=np.array([birth_year_of(a) for a in accounts], dtype=np.int64),
        opened=np.array([opened_of(a, window_start, window_days) for a in accounts], dtype="datetime64[D]"),
        owing_now=np.array([a in owing for a in accounts], dtype=bool),
    )
