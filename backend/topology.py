"""Where an address is: the service area a text names (by district, area name, street, estate or village)."""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.orm import Session

from backend import models as m

DISTRICT_RE = re.compile(r"[\u4e00-\u9fa5]{2}新?(?<![小社园校景片])(?:区|县)")  # 城东区, 高新区; not 港湾小区, 社区


def area_named_in(session: Session, text: str) -> m.Area | None:
    """The service area an address mentions. A district the customer names decides: a street of that name in
    another district is not this address's area (None: the dispatcher places it within the district, or, for a
    district outside the territory, places it by hand)."""
    if not text:
        return None
    areas = list(session.scalars(select(m.Area)))
    districts = {a.district for a in areas if a.district and a.district in text}
    if districts:
        areas = [a for a in areas if a.district in districts]
    elif DISTRICT_RE.search(text):
        return None  # "鼓楼区中山路…": a district we do not serve; its 中山路 is not ours
    best: tuple[int, m.Area] | None = None
    for a in areas:
        for token in [a.name, *(a.streets or [])]:
            if token and token in text and (best is None or len(token) > best[0]):
                best = (len(token), a)
    return best[1] if best else None


def district_area(session: Session, text: str) -> m.Area | None:
    """The first grid of the one district a text names (None unless exactly one is named): where an order goes
    when its street is not one we know in that district, for that grid's team to pass on."""
    areas = list(session.scalars(select(m.Area).order_by(m.Area.code)))
    named = {a.district for a in areas if a.district and a.district in (text or "")}
    if len(named) != 1:
        return None
    return next(a for a in areas if a.district in named)
