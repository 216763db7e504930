"""Outbound notices through one notification interface: customers (WeChat, SMS, an outbound call) and staff
(console alerts).

How to call it (in the transaction of the change that causes the notice; nothing is sent until it commits):

    from notices import notify
    from backend.models_notices import Audience, NoticeKind

    with sessions.begin() as s:
        ...  # the change (an incident opened, an outage confirmed, a KPI past its threshold)
        notify(s, audience=Audience.SUPERVISOR, kind=NoticeKind.INCIDENT_ALERT, key=f"incident:{incident.id}",
               text="疑似停电：城东区近15分钟停电来电42通", payload={"incident": incident.id, "areas": ["A01"]})
        notify(s, audience=Audience.CUSTOMER, kind=NoticeKind.FAULT_OUTAGE, key=f"fault:{outage.id}",
               accounts=["3201000001", ...], text="【95598】…（不超过70字）", spoken="…（电话里说的话）")

- audience: "customer" (each account in `accounts`), "staff" (every console) or "supervisor" (supervisors only).
- key: the event's dedupe key; each recipient gets a key once, however often `notify` is called with it.
- Customers: the channel, opt-out, quiet hours and daily cap are applied here (notices/policy.py); a customer
  with no channel gets a `skipped` row with its reason; a text over 70 characters raises NoticeTooLong.
- Staff alerts reach the console as a hub message {"type": "notice_alert", "kind", "text", "audience",
  **payload}, pushed by the console process (notices.console_alerts).
- Outage, restoration and arrears notices are written by the triggers (notices/triggers.py), run by
  `python -m notices run`, which also sends the customer notices.
"""

from __future__ import annotations

from notices.outbox import Written, notify
from notices.policy import NoticeTooLong

__all__ = ["NoticeTooLong", "Written", "notify"]
