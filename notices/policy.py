"""Who gets a notice on which channel, and when: channel choice, opt-out, quiet hours, the daily cap, SMS length.

Rules (stated once, here):
- Channel: the customer's preference (notice_preferences.channel) when it can be reached; else what the CIS
  knows: a WeChat binding (a channel_bindings `wechat:<openid>` whose conversation verified the account, or the
  openid in the preference) -> WeChat; else a mobile number -> SMS; else a landline -> an outbound call.
  Nothing of these -> the notice is written as skipped with the reason `no_channel`.
- Opt-out: a kind listed in the preference's opted_out (or "all") -> skipped, reason `opted_out`.
- Quiet hours (22:00-07:00 Asia/Shanghai unless the customer set others): a non-urgent notice waits until the
  quiet hours end. Urgent kinds (a fault outage) go at once on WeChat and SMS; a call still waits for morning.
- Daily cap: at most DAILY_LIMIT customer notices per account in 24 hours; a non-urgent one over it waits a day.
- SMS text: at most SMS_MAX_CHARS characters (one segment of Chinese text); a longer text is refused, never cut.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from backend import models as m
from backend.models_notices import NoticeChannel, NoticeKind, NoticePreference, NoticeStatus, OutboundNotice
from backend.spoken import LOCAL_TZ, local_time
from channels.phone import LANDLINE, MOBILE

SMS_MAX_CHARS = 70
DAILY_LIMIT = 3
URGENT_KINDS = frozenset({NoticeKind.FAULT_OUTAGE})
QUIET_DEFAULT = ("22:00", "07:00")
CHUNK = 500  # accounts per IN (...) query


class NoticeTooLong(ValueError):
    """A customer notice's text does not fit one SMS: refused, so nobody gets a silently cut message."""


def check_sms_length(text: str) -> None:
    if len(text) > SMS_MAX_CHARS:
        raise NoticeTooLong(
            f"通知文字 {len(text)} 字，超过短信上限 {SMS_MAX_CHARS} 字（一条短信），请缩短后再发：{text[:20]}…"
        )


@dataclass(frozen=True)
class Route:
    """Where one customer's notice goes: a channel and recipient, or why it cannot go."""

    account_no: str
    channel: str  # NoticeChannel value, '' when skipped
    recipient: str
    skip_reason: str = ""
    quiet: tuple[str, str] = QUIET_DEFAULT
    opted_out: frozenset[str] = frozenset()

    def refuses(self, kind: str) -> bool:
        return kind in self.opted_out or "all" in self.opted_out


def chunks(items: list[str], size: int = CHUNK) -> Iterator[list[str]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def routes(session: Session, accounts: Iterable[str]) -> dict[str, Route]:
    """The route of each account (unknown accounts are skipped with the reason `unknown_account`)."""
    wanted = sorted(set(accounts))
    out: dict[str, Route] = {}
    for part in chunks(wanted):
        phones = dict(
            session.execute(select(m.Customer.account_no, m.Customer.phone).where(m.Customer.account_no.in_(part)))
            .tuples()
            .all()
        )
        prefs = {
            p.account_no: p
            for p in session.scalars(select(NoticePreference).where(NoticePreference.account_no.in_(part)))
        }
        openids = _bound_openids(session, part)
        for account in part:
            if account not in phones:
                out[account] = Route(account, "", "", "unknown_account")
                continue
            out[account] = _route(account, phones[account] or "", prefs.get(account), openids.get(account))
    return out


def _bound_openids(session: Session, accounts: list[str]) -> dict[str, str]:
    """account -> the WeChat openid most recently bound to a conversation in which that account was verified."""
    q = (
        select(m.Verification.account_no, m.ChannelBinding.channel_user)
        .join(m.ChannelBinding, m.ChannelBinding.conversation_id == m.Verification.conversation_id)
        .where(m.Verification.account_no.in_(accounts), m.ChannelBinding.channel_user.like("wechat:%"))
        .order_by(m.ChannelBinding.updated_at)
    )
    return {account: user.removeprefix("wechat:") for account, user in session.execute(q).tuples()}


def _route(account: str, phone: str, pref: NoticePreference | None, bound_openid: str | None) -> Route:
    openid = (pref.wechat_openid if pref else None) or bound_openid
    reachable = {
        NoticeChannel.WECHAT: openid or "",
        NoticeChannel.SMS: phone if MOBILE.fullmatch(phone) else "",
        NoticeChannel.VOICE: phone if MOBILE.fullmatch(phone) or LANDLINE.fullmatch(phone) else "",
    }
    order = [NoticeChannel.WECHAT, NoticeChannel.SMS, NoticeChannel.VOICE]
    if pref is not None and pref.channel in reachable:
        order.insert(0, NoticeChannel(pref.channel))
    quiet = (pref.quiet_start, pref.quiet_end) if pref else QUIET_DEFAULT
    opted = frozenset(pref.opted_out or ()) if pref else frozenset()
    for channel in order:
        if reachable[channel]:
            return Route(account, channel.value, reachable[channel], quiet=quiet, opted_out=opted)
    return Route(account, "", "", "no_channel", quiet=quiet, opted_out=opted)


def _hhmm(value: str) -> dt.time:
    try:
        hour, minute = value.split(":")
        return dt.time(int(hour), int(minute))
    except ValueError:
        return dt.time(0, 0)


def quiet_until(now: dt.datetime, quiet: tuple[str, str] | list[str]) -> dt.datetime | None:
    """When the quiet hours around `now` (UTC naive) end, as UTC naive; None outside them."""
    start, end = _hhmm(quiet[0]), _hhmm(quiet[1])
    if start == end:
        return None
    local = local_time(now)
    t = local.time().replace(tzinfo=None)
    inside = (t >= start or t < end) if start > end else (start <= t < end)
    if not inside:
        return None
    day = local.date() if t < end else local.date() + dt.timedelta(days=1)
    until = dt.datetime.combine(day, end, tzinfo=LOCAL_TZ)
    return until.astimezone(dt.timezone.utc).replace(tzinfo=None)


def send_time(now: dt.datetime, route: Route, urgent: bool) -> dt.datetime:
    """When a customer notice may go: now, or the end of the quiet hours (urgent ones by text at once)."""
    if urgent and route.channel != NoticeChannel.VOICE:
        return now
    return quiet_until(now, route.quiet) or now


def sent_today(session: Session, accounts: list[str], now: dt.datetime) -> dict[str, int]:
    """Customer notices (not skipped) written for each account in the last 24 hours."""
    counts: dict[str, int] = {}
    for part in chunks(accounts):
        q = (
            select(OutboundNotice.account_no, func.count())
            .where(
                OutboundNotice.account_no.in_(part),
                OutboundNotice.created_at >= now - dt.timedelta(days=1),
                OutboundNotice.status != NoticeStatus.SKIPPED,
            )
            .group_by(OutboundNotice.account_no)
        )
        counts.update({str(a): int(n) for a, n in session.execute(q).tuples()})
    return counts
