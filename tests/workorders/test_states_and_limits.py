"""The order state machine and the service-commitment clock (Asia/Shanghai, working days, holidays)."""

from __future__ import annotations

import datetime as dt

import pytest

from backend.workorders.commitments import TZ, Commitments, Limit, commitments, to_local, to_utc
from backend.workorders.states import (
    OPEN_STATUSES,
    TRANSITIONS,
    IllegalTransition,
    OrderStatus,
    can_withdraw,
    check,
    label,
)

S = OrderStatus


def test_the_happy_path_is_allowed_step_by_step():
    path = [S.RECEIVED, S.DISPATCHED, S.ACCEPTED, S.EN_ROUTE, S.ON_SITE, S.RESOLVED, S.CLOSED]
    for before, after in zip(path, path[1:], strict=False):
        assert check(before, after) == after


@pytest.mark.parametrize(
    ("before", "after"),
    [
        ("received", "resolved"),  # nobody went there
        ("withdrawn", "accepted"),  # a field update on a withdrawn order
        ("closed", "on_site"),
        ("accepted", "accepted"),  # the second of two accepts
        ("on_site", "withdrawn"),  # the crew is there: the customer cannot take it back now
        ("dispatched", "flying"),  # not a status at all
    ],
)
def test_illegal_moves_are_refused(before, after):
    with pytest.raises(IllegalTransition):
        check(before, after)


def test_every_status_has_a_label_and_terminal_states_are_not_open():
    assert all(label(s) != s.value for s in OrderStatus)
    assert S.CLOSED not in OPEN_STATUSES and S.WITHDRAWN not in OPEN_STATUSES and S.RESOLVED in OPEN_STATUSES
    assert TRANSITIONS[S.WITHDRAWN] == frozenset()
    assert can_withdraw("dispatched") and not can_withdraw("on_site") and not can_withdraw("nonsense")


def shanghai(year: int, month: int, day: int, hour: int, minute: int) -> dt.datetime:
    return to_utc(dt.datetime(year, month, day, hour, minute, tzinfo=TZ))


def test_minute_limits_for_repairs_follow_the_area_class():
    c = commitments()
    start = shanghai(2026, 12, 4, 22, 0)  # Friday night
    arrive = {
        k: next(s for s in c.steps("fault_repair", "normal", k, start) if s.status == S.ON_SITE).due
        for k in ("urban", "rural", "remote")
    }
    assert [to_local(arrive[k]).strftime("%H:%M") for k in ("urban", "rural", "remote")] == ["22:45", "23:30", "00:00"]


def test_working_days_skip_weekends_holidays_and_count_made_up_working_saturdays():
    c = commitments()
    one = Limit(1, "wd")
    friday_afternoon = shanghai(2026, 12, 4, 15, 0)
    assert to_local(c.calendar.add(friday_afternoon, one)) == to_local(shanghai(2026, 12, 7, 15, 0))  # Monday
    saturday = shanghai(2026, 12, 5, 11, 0)  # counts from Monday's opening
    assert to_local(c.calendar.add(saturday, one)) == to_local(shanghai(2026, 12, 8, 9, 0))
    before_national_day = shanghai(2026, 9, 30, 10, 0)  # 1-7 October off, Saturday 10 October worked
    assert to_local(c.calendar.add(before_national_day, one)).date() == dt.date(2026, 10, 8)
    assert to_local(c.calendar.add(shanghai(2026, 10, 9, 10, 0), one)).date() == dt.date(2026, 10, 10)


def test_complaints_get_a_reply_within_one_working_day_and_urgent_repairs_are_taken_faster():
    c = commitments()
    start = shanghai(2026, 12, 4, 16, 30)
    reply = next(s for s in c.steps("complaint", "normal", "urban", start) if s.status == S.RESOLVED)
    assert to_local(reply.due) == to_local(shanghai(2026, 12, 7, 16, 30))
    normal = c.limits("fault_repair", "normal", "urban")[0]
    urgent = c.limits("fault_repair", "urgent", "urban")[0]
    assert normal == (S.ACCEPTED, Limit(10, "m")) and urgent == (S.ACCEPTED, Limit(5, "m"))


def test_a_bad_table_fails_at_start_up():
    with pytest.raises(ValueError):
        Commitments({"functions": {"fault_repair": {"accepted": "soon"}}})


def test_a_field_note_sits_in_the_customers_sentence_with_one_full_stop():
    from backend.workorders.wording import customer_update

    text = customer_update("resolved", service="故障报修", number="G1", note="已更换空开，恢复供电。")
    assert text == "您的故障报修工单G1已处理完毕：已更换空开，恢复供电。如果还有问题，请随时告诉我们。"
