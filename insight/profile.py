"""The one-page customer profile (客户画像) of one account: the holder (masked unless the reader may see it whole),
where the customer hangs in the grid, the 36-month usage curve, how each bill was paid, the contacts by channel
and by what they were about, the tags held now with their reasons and their history, and the arrears-risk grade
with the path that gives it. History from the Parquet dataset (DuckDB), tags and risk as the insight jobs published
them (backend/models_insight.py). HTML with inline SVG charts (vl-convert), PDF printed by chromium.

    python -m insight profile ACCOUNT --out FILE.html|FILE.pdf
"""

from __future__ import annotations

import datetime as dt
import re
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any

import ibis
import jinja2
import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from analytics.charts import to_svg
from analytics.kpis_range import to_local
from analytics.report_pdf import print_pdf
from backend import models as m
from backend.customer_insight import risk_of, tags_of
from backend.models_insight import CustomerTagChange
from backend.pii import mask
from insight import charts
from insight.drill import CONTACT_CHANNELS
from insight.engine import Dataset
from insight.jobs.bills import bill_status
from insight.jobs.segments import customer_segments
from insight.periods import ARREARS_GRACE_DAYS, shift, start
from knowledge.catalog import catalog

ACCOUNT = re.compile(r"^\d{10}$")
PAY_CHANNELS = {"app": "网上国网", "wechat": "微信", "alipay": "支付宝", "bank": "银行代扣", "counter": "营业厅"}
ON_TIME, LATE, ARREARS, NOT_DUE = "按时缴费", "逾期缴清", "欠费", "未到期"
RECENT_CONTACTS = 6
DUE_DAY = 15  # a period's bill is due on the 15th of the next month (insight.generate_latent.Calendar)
SEGMENT_LIMIT = 50_000  # segments rank every customer's 12-month amount: about 1 s per 50,000 customers
TEMPLATES = jinja2.Environment(
    loader=jinja2.FileSystemLoader(Path(__file__).parent / "templates"), autoescape=True, trim_blocks=True,
    lstrip_blocks=True,
)  # fmt: skip


class ProfileError(LookupError):
    """The profile cannot be made (unknown account, no history); the message is a Chinese sentence for the reader."""


class BadAccount(ProfileError):
    """Not a 户号 at all."""


def _one(expr: Any) -> list[dict[str, Any]]:
    return list(expr.to_pandas().to_dict("records"))


def _day(value: Any) -> dt.date | None:
    return None if value is None or pd.isna(value) else pd.Timestamp(value).date()


def quarter(day: dt.date | dt.datetime) -> str:
    return f"{day.year}Q{(day.month - 1) // 3 + 1}"


def quarters(first: dt.date, last: dt.date) -> list[str]:
    """Every quarter from first's to last's, both included."""
    out, year, q = [], first.year, (first.month - 1) // 3
    while (year, q) <= (last.year, (last.month - 1) // 3):
        out.append(f"{year}Q{q + 1}")
        year, q = (year + 1, 0) if q == 3 else (year, q + 1)
    return out


def due_date(period: str, bills: list[dict[str, Any]]) -> dt.date:
    """The period's bill's due date: as the history has it, else the 15th of the next month."""
    known = next((b["due_date"] for b in bills if b["period"] == period and b["due_date"]), None)
    return known if isinstance(known, dt.date) else start(shift(period, 1)).replace(day=DUE_DAY)


def as_of(ds: Dataset) -> dt.date:
    """The day the history runs to: its last payment (bills later than that are not yet known to be late)."""
    p = ds["payments"]
    last = p.paid_on.max().to_pyarrow().as_py()
    return last if isinstance(last, dt.date) else dt.date.today()


def customer(ds: Dataset, account: str) -> dict[str, Any] | None:
    """The account's row of the history's customers (None: the history does not know it)."""
    cust = ds["customers"]
    found = _one(cust.filter(cust.account_no == account).limit(1))
    return found[0] if found else None


def holder(s: Session | None, account: str, whole: bool) -> dict[str, str] | None:
    """The account holder as the CIS has them, masked as the console masks (None: not a customer of the CIS)."""
    c = s.get(m.Customer, account) if s is not None else None
    if c is None:
        return None
    return {
        "name": c.name if whole else c.name[:1] + "*" * (len(c.name) - 1),
        "phone": c.phone if whole else mask(c.phone),
        "address": c.address if whole else f"{c.area.name}（详细地址核验后显示）",
    }


def grid_place(ds: Dataset, c: dict[str, Any]) -> dict[str, str]:
    a, ln, t = ds["areas"], ds["lines"], ds["districts"]
    area = _one(a.filter(a.area_code == c["area_code"]).select("area_name").limit(1))
    line = _one(ln.filter(ln.line_code == (c["line_code"] or "")).select("line_name").limit(1))
    tq = _one(t.filter(t.tq_code == (c["tq_code"] or "")).select("tq_name").limit(1))
    return {
        "area": area[0]["area_name"] if area else c["area_code"],
        "line": line[0]["line_name"] if line else (c["line_code"] or "未知"),
        "tq": tq[0]["tq_name"] if tq else (c["tq_code"] or "未知"),
    }


def usage(ds: Dataset, account: str) -> list[dict[str, Any]]:
    b = ds["bills"]
    rows = _one(b.filter(b.account_no == account).order_by("period"))
    return [{"period": r["period"], "kwh": round(float(r["kwh"]), 1), "amount": round(float(r["amount"]), 2),
             "due_date": _day(r["due_date"])} for r in rows]  # fmt: skip


def usage_summary(bills: list[dict[str, Any]]) -> dict[str, Any]:
    kwh = [b["kwh"] for b in bills]
    last12, before = sum(kwh[-12:]), sum(kwh[-24:-12])
    peak = max(bills, key=lambda b: b["kwh"]) if bills else None
    return {
        "total": round(sum(kwh), 1),
        "monthly": round(sum(kwh) / len(kwh), 1) if kwh else 0.0,
        "last12": round(last12, 1),
        "change": round((last12 - before) / before * 100, 1) if len(kwh) >= 24 and before else None,
        "peak": peak,
    }


def payments(ds: Dataset, account: str, bills: list[dict[str, Any]], today: dt.date) -> list[dict[str, Any]]:
    """Each bill: paid on time, paid late within the grace, in arrears (unpaid once the grace is over, or paid after
    it: the bill-status job's rule, insight.jobs.bills), or not yet due (unpaid, its grace not over by `today`)."""
    status = bill_status(ds)
    known = {r["period"]: r for r in _one(status.filter(status.account_no == account))}
    out = []
    for b in bills:
        r = known.get(b["period"], {})
        settled = _day(r.get("settled_on"))
        late = None if settled is None else (settled - b["due_date"]).days
        if late is None:
            grace_over = b["due_date"] + dt.timedelta(days=ARREARS_GRACE_DAYS) <= today
            state = ARREARS if grace_over else NOT_DUE
        else:
            state = ARREARS if late > ARREARS_GRACE_DAYS else (LATE if late > 0 else ON_TIME)
        out.append({"period": b["period"], "amount": b["amount"], "due_date": b["due_date"], "status": state,
                    "settled_on": settled, "days_late": late})  # fmt: skip
    return out


def payment_channels(ds: Dataset, account: str, today: dt.date) -> list[dict[str, Any]]:
    """How the customer paid in the 12 months to `today`, most used first (the history's payments, not the CIS's
    registered self-service channels the agent's customer panel shows as 常用渠道)."""
    p = ds["payments"]
    f = p.filter(p.account_no == account, p.paid_on > ibis.literal(today - dt.timedelta(days=365)))
    rows = _one(f.group_by("channel").aggregate(count=f.count()).order_by(ibis.desc("count")))
    return [{"name": PAY_CHANNELS.get(r["channel"], r["channel"]), "count": int(r["count"])} for r in rows]


def contacts(ds: Dataset, account: str, today: dt.date, since: dt.date | None = None) -> dict[str, Any]:
    """The contacts counted by channel, by function and per quarter (every quarter from `since`'s, else the first
    contact's, to `today`'s, those without contacts too) and the latest few."""
    c = ds["contacts"]
    rows = _one(c.filter(c.account_no == account).order_by(ibis.desc("started_at")))
    names = catalog()
    by_channel = Counter(CONTACT_CHANNELS.get(r["channel"], r["channel"]) for r in rows)
    by_function = Counter(names.name(r["function"]) for r in rows)
    per_quarter = Counter((quarter(r["started_at"]), CONTACT_CHANNELS.get(r["channel"], r["channel"])) for r in rows)
    return {
        "total": len(rows),
        "last12": sum(1 for r in rows if r["started_at"].date() > today - dt.timedelta(days=365)),
        "by_channel": [{"name": k, "count": v} for k, v in by_channel.most_common()],
        "by_function": [{"name": k, "count": v} for k, v in by_function.most_common()],
        "per_quarter": [{"quarter": q, "channel": ch, "count": n} for (q, ch), n in sorted(per_quarter.items())],
        "quarters": quarters(since or rows[-1]["started_at"].date(), today) if rows else [],
        "recent": [
            {
                "at": r["started_at"].strftime("%Y-%m-%d %H:%M"),
                "channel": CONTACT_CHANNELS.get(r["channel"], r["channel"]),
                "function": names.name(r["function"]),
            }
            for r in rows[:RECENT_CONTACTS]
        ],  # fmt: skip
    }


def segment(ds: Dataset, account: str, period: str) -> dict[str, str] | None:
    """The customer's segment as of `period` (insight.jobs.segments), on a history small enough to segment at once
    (the product's CIS customers); None beyond SEGMENT_LIMIT customers or without bills."""
    customers = int(ds["customers"].count().to_pyarrow().as_py())
    if not period or customers > SEGMENT_LIMIT:
        return None
    seg = customer_segments(ds, period)
    found = _one(seg.filter(seg.account_no == account))
    return {"name": found[0]["segment"], "reason": found[0]["reason"], "period": period} if found else None


def tag_history(s: Session, account: str) -> list[dict[str, str]]:
    rows = s.scalars(
        select(CustomerTagChange)
        .where(CustomerTagChange.account_no == account)
        .order_by(CustomerTagChange.gained_period.desc(), CustomerTagChange.tag)
    )
    return [{"tag": r.tag, "gained": r.gained_period, "lost": r.lost_period or ""} for r in rows]


def profile_data(ds: Dataset, s: Session | None, account: str, whole: bool = False) -> dict[str, Any]:
    """Everything the profile shows; ProfileError for an account that is not a 10-digit 户号 or has no history."""
    account = (account or "").strip()
    if not ACCOUNT.match(account):
        raise BadAccount("户号应为10位数字，请核对后再试。")
    c = customer(ds, account)
    if c is None:
        known = s is not None and s.get(m.Customer, account) is not None
        raise ProfileError(f"户号 {mask(account)} 暂无用电、缴费和联系历史，请先运行分析。" if known
                           else f"没有户号为 {mask(account)} 的客户，请核对户号。")  # fmt: skip
    today = as_of(ds)
    bills = usage(ds, account)
    paid = payments(ds, account, bills, today)
    talks = contacts(ds, account, today, start(bills[0]["period"]) if bills else None)
    tags = [t.as_json() for t in tags_of(s, account)] if s is not None else []
    risk = risk_of(s, account) if s is not None else None
    data = {
        "account": account if whole else mask(account),
        "holder": holder(s, account, whole),
        "place": grid_place(ds, c),
        "facts": {
            "prepaid": bool(c["prepaid"]),
            "solar": bool(c["solar"]),
            "low_income": bool(c["low_income"]),
            "age": today.year - int(c["birth_year"]) if c["birth_year"] else None,
            "opened": _day(c["opened"]),
        },  # fmt: skip
        "as_of": today,
        "periods": (bills[0]["period"], bills[-1]["period"]) if bills else ("", ""),
        "usage": bills,
        "usage_summary": usage_summary(bills),
        "payments": paid,
        "payment_counts": {k: sum(1 for p in paid if p["status"] == k) for k in (ON_TIME, LATE, ARREARS, NOT_DUE)},
        "payment_channels": payment_channels(ds, account, today),
        "contacts": talks,
        "tags": tags,
        "tag_history": tag_history(s, account) if s is not None else [],
        "risk": {**risk.as_json(), "due_date": due_date(risk.period, bills)} if risk else None,
        "segment": segment(ds, account, bills[-1]["period"] if bills else ""),
    }
    data["charts"] = {
        "usage": charts.usage(bills),
        "payments": charts.payments(paid),
        "contacts": charts.contacts_over_time(talks["per_quarter"], talks["quarters"]),
        "functions": charts.contacts_by_function(talks["by_function"]),
    }
    return data


def render_html(data: dict[str, Any], by: str = "", svgs: dict[str, str] | None = None) -> str:
    svgs = svgs if svgs is not None else {name: to_svg(spec) for name, spec in data["charts"].items()}
    generated = to_local(m.utcnow()).strftime("%Y-%m-%d %H:%M")
    return TEMPLATES.get_template("profile.html").render(**data, svgs=svgs, generated_at=generated, by=by)


def pdf_bytes(html: str) -> tuple[bytes | None, str | None]:
    """The HTML printed to PDF by chromium: (bytes, None), or (None, why not in Chinese)."""
    with tempfile.TemporaryDirectory(prefix="p95598-profile-") as folder:
        page, pdf = Path(folder) / "profile.html", Path(folder) / "profile.pdf"
        page.write_text(html, encoding="utf-8")
        error = print_pdf(page, pdf)
        return (None, error) if error else (pdf.read_bytes(), None)
