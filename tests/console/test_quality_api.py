"""The inspection queue's API and pages on the real console (fake Rasa, real SQLite): supervisors and quality staff
only (an agent gets a polite 403 page), a quality login lands on the queue and is never counted as an agent; the
flagged contacts ranked by top severity, flags, recency and filtered; a contact's transcript read from its Rasa
conversation with the evidence highlighted, a player for the flagged call segment; confirm / dismiss stored with
reviewer, time and note; the random unflagged sample reviewed; scores per agent, team and rule with precision and
recall in use, weak rules matched to courses; bad input a Chinese 400, unknown ids a 404, never a 500.

The rows: five flagged contacts of known rank (A, B, C, D, E), two sampled unflagged ones (F, G), one unflagged not
sampled (H), one not inspectable (I), a recording of B, and the Rasa events of A."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

import quality.rules
from backend.contact_centre.metrics import live_view
from backend.db import open_database
from backend.model_base import utcnow
from backend.models import Verification
from backend.models_quality import Flag, Inspection, InspectionStatus, SampleReview
from backend.models_recordings import Recording, RecordingLeg, RecordingStatus
from console import quality_api
from quality import courses
from quality.rules import RULES_FILE, load_rules
from tests.console.console_app import CSRF_INPUT, PASSWORD, Agent, RunningConsole, running_console

TZ = ZoneInfo("Asia/Shanghai")

IMPOLITE = "这个我不知道，你自己去查吧"  # 不知道 = 3..6, 你自己去查 = 7..12
GREETLESS = "说吧什么事"


@dataclass
class Rows:
    ids: dict[str, int]  # letter -> inspection id
    flags: dict[str, int]  # "<letter>:<rule>" -> flag id
    recording: int
    conversation_a: str
    events_a: list[dict[str, Any]]


def _inspection(s: Session, key: str, ended: dt.datetime, **values: Any) -> Inspection:
    row = Inspection(
        contact_id=abs(hash(key)) % 10**8,
        conversation_id=values.pop("conversation_id", f"conv-{key}"),
        started_at=ended - dt.timedelta(minutes=5),
        ended_at=ended,
        inspected_at=ended + dt.timedelta(seconds=20),
        rules_version="test",
        **values,
    )
    s.add(row)
    s.flush()
    return row


def _flag(s: Session, inspection: Inspection, rule: str, severity: int, evidence: list[dict[str, Any]],
          **values: Any) -> int:  # fmt: skip
    f = Flag(inspection_id=inspection.id, rule_id=rule, severity=severity, message=rule, evidence=evidence, **values)
    s.add(f)
    s.flush()
    return f.id


def agent(agent_id: str, name: str, team: str) -> dict[str, Any]:
    return {"handled_by": "agent", "agent_id": agent_id, "agent_name": name, "team": team}


def add_rows(sessions: sessionmaker[Session]) -> Rows:
    now = utcnow().replace(microsecond=0)
    ids, flags = {}, {}
    with sessions.begin() as s:
        a = _inspection(s, "a", now - dt.timedelta(hours=1), channel="chat", **agent("1001", "张丽", "一班"),
                        score=60, flags=2, top_severity=3, turns=6, emotions=["calm", "angry"])  # fmt: skip
        flags["a:impolite_words"] = _flag(s, a, "impolite_words", 3, [
            {"turn": 4, "who": "agent", "text": IMPOLITE, "at": 200.0, "spans": [[3, 6], [7, 12]]}])  # fmt: skip
        flags["a:greeting"] = _flag(s, a, "greeting", 1, [
            {"turn": 3, "who": "agent", "text": GREETLESS, "at": 150.0, "spans": []}])  # fmt: skip
        kept = now + dt.timedelta(days=90)
        rec = Recording(call_sid="CA-b", leg=RecordingLeg.AGENT, conversation_id="conv-b", path="b.wav",
                        duration_seconds=300, status=RecordingStatus.TRANSCRIBED, expires_at=kept)  # fmt: skip
        s.add(rec)
        s.flush()
        b = _inspection(s, "b", now - dt.timedelta(hours=2), channel="voice", **agent("1002", "王强", "一班"),
                        score=70, flags=1, top_severity=3)  # fmt: skip
        flags["b:identity_before_disclosure"] = _flag(s, b, "identity_before_disclosure", 3, [
            {"turn": 2, "who": "agent", "text": "您这个月电费236元", "at": 42.0, "spans": [[6, 10]]}],
            recording_id=rec.id, offset_seconds=42.0)  # fmt: skip
        c = _inspection(s, "c", now - dt.timedelta(minutes=30), channel="wechat", handled_by="bot",
                        score=80, flags=2, top_severity=2)  # fmt: skip
        flags["c:bot_repeats"] = _flag(s, c, "bot_repeats", 2, [])
        flags["c:customer_repeats"] = _flag(s, c, "customer_repeats", 2, [])
        d = _inspection(s, "d", now - dt.timedelta(days=3), channel="chat", **agent("1001", "张丽", "一班"),
                        score=90, flags=1, top_severity=2)  # fmt: skip
        flags["d:callback_kept"] = _flag(s, d, "callback_kept", 2, [])
        e = _inspection(s, "e", now - dt.timedelta(minutes=10), channel="chat", **agent("1001", "张丽", "一班"),
                        score=95, flags=1, top_severity=1)  # fmt: skip
        flags["e:greeting"] = _flag(s, e, "greeting", 1, [])
        f = _inspection(
            s, "f", now - dt.timedelta(hours=5), channel="chat", **agent("1002", "王强", "一班"), sampled=True
        )
        g = _inspection(s, "g", now - dt.timedelta(hours=6), channel="voice", handled_by="bot", sampled=True)
        h = _inspection(s, "h", now - dt.timedelta(hours=7), channel="chat", **agent("1003", "李娜", "二班"))
        i = _inspection(s, "i", now - dt.timedelta(hours=8), channel="voice", handled_by="bot",
                        status=InspectionStatus.NOT_INSPECTABLE, reason="录音文件损坏")  # fmt: skip
        for key, row in zip("abcdefghi", (a, b, c, d, e, f, g, h, i), strict=True):
            ids[key] = row.id
        recording = rec.id
        start = a.started_at.replace(tzinfo=dt.timezone.utc).timestamp()
        conversation = a.conversation_id
    agent_meta = {"agent": "1001", "agent_name": "张丽"}
    events = [
        {"event": "user", "text": "我家电费怎么这么多", "timestamp": start + 1},
        {"event": "bot", "text": "您好，请问您的户号是多少？", "timestamp": start + 2},
        {"event": "pause", "timestamp": start + 100},
        {"event": "bot", "text": GREETLESS, "timestamp": start + 150, "metadata": agent_meta},
        {"event": "user", "text": "我想问问电费明细", "timestamp": start + 160},
        {"event": "bot", "text": IMPOLITE, "timestamp": start + 200, "metadata": agent_meta},
        {"event": "user", "text": "下一次的会话，不属于这个联系", "timestamp": start + 3600},
    ]
    return Rows(ids, flags, recording, conversation, events)


# ---- the console over these rows ----

AGENTS = (("1001", "张丽", "agent"), ("9001", "刘主管", "supervisor"), ("9101", "质检员", "quality"))
API = "/console/api/quality"


@pytest.fixture(scope="module")
def console(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[RunningConsole, Rows]]:
    url = f"sqlite:///{tmp_path_factory.mktemp('quality') / 'q.db'}"
    engine, sessions = open_database(url)
    rows = add_rows(sessions)
    engine.dispose()
    with running_console(url, AGENTS) as running:
        running.rasa.trackers[rows.conversation_a] = rows.events_a
        yield running, rows


@pytest.fixture(scope="module")
def checker(console: tuple[RunningConsole, Rows]) -> Agent:
    return Agent(console[0].url).login("9101")


def stored_flag(console: tuple[RunningConsole, Rows], flag_id: int) -> Flag:
    with console[0].contact.sessions() as s:
        found = s.get(Flag, flag_id)
        assert found is not None
        s.expunge(found)
        return found


def test_agents_get_a_polite_refusal_and_staff_get_the_pages(console: tuple[RunningConsole, Rows]) -> None:
    running, rows = console
    agent = Agent(running.url).login("1001")
    for path in (f"{API}/queue", f"{API}/contacts/{rows.ids['a']}", f"{API}/sample", f"{API}/scores"):
        r = agent.get(path)
        assert r.status_code == 403 and "班长和质检员" in r.json()["error"], path
    r = agent.post(f"{API}/flags/{rows.flags['a:greeting']}/review", {"verdict": "confirmed"})
    assert r.status_code == 403 and stored_flag(console, rows.flags["a:greeting"]).review == "pending"
    page = agent.get("/console/quality", html=True)
    assert page.status_code == 403 and "text/html" in page.headers["Content-Type"]
    assert "质检页面只对班长和质检员开放" in page.text and "返回工作台" in page.text
    assert 'id="quality-link"' not in agent.get("/console/history", html=True).text
    anonymous = Agent(running.url)
    assert anonymous.get(f"{API}/queue").status_code == 401
    boss = Agent(running.url).login("9001")
    for path in ("/console/quality", f"/console/quality/contacts/{rows.ids['a']}", "/console/quality/sample",
                 "/console/quality/scores"):  # fmt: skip
        r = boss.get(path, html=True)
        assert r.status_code == 200 and 'id="quality-link"' in r.text, path


def test_quality_staff_land_on_the_queue_and_are_never_an_agent(console: tuple[RunningConsole, Rows]) -> None:
    running, _ = console
    checker = Agent(running.url)
    page = checker.http.get(f"{running.url}/console/login", timeout=10).text
    token = CSRF_INPUT.search(page).group(1)  # type: ignore[union-attr]
    form = {"username": "9101", "password": PASSWORD, "csrf": token}
    r = checker.http.post(f"{running.url}/console/login", data=form, headers={"Origin": running.url},
                          allow_redirects=False, timeout=10)  # fmt: skip
    assert r.status_code == 302 and r.headers["Location"] == "/console/quality"
    assert checker.get("/console", html=True).headers["Location"] == "/console/quality"
    queue = checker.get("/console/quality", html=True).text
    assert "质检员" in queue and 'id="presence"' not in queue and 'id="online"' not in queue
    assert "排队与我的会话" not in queue
    quality = running.contact.agent_by_username("9101")
    assert quality is not None
    running.contact.heartbeat(quality.id)  # even with a console open
    running.contact.set_status(quality.id, "available")
    assert "9101" not in [a.username for a in running.contact.agents_online()]
    with running.contact.sessions() as s:
        view = live_view(s)
    assert "9101" not in [a["agent"] for a in view["agents"]] + [a["agent"] for a in view["per_agent"]]
    assert "1001" in [a["agent"] for a in view["agents"]]


def test_the_queue_is_ranked_by_severity_then_flags_then_recency(
    checker: Agent, console: tuple[RunningConsole, Rows]
) -> None:
    ids = console[1].ids
    data = checker.get(f"{API}/queue").json()
    assert [i["id"] for i in data["items"]] == [ids[k] for k in "abcde"] and data["total"] == 5
    top = data["items"][0]
    assert top["handled_label"] == "张丽" and top["channel_label"] == "网页聊天" and top["score"] == 60
    assert [f["rule_id"] for f in top["flag_list"]] == ["impolite_words", "greeting"]
    assert all(re.search(r"[\u4e00-\u9fff]", f["rule_name"]) for f in top["flag_list"])  # the rule file's words
    assert data["items"][2]["handled_label"] == "机器人"
    page = checker.get("/console/quality", html=True).text
    assert page.index(f'data-inspection="{ids["a"]}"') < page.index(f'data-inspection="{ids["e"]}"')
    assert top["flag_list"][0]["rule_name"] in page and "impolite_words</span>" not in page


def test_the_queue_filters_by_rule_channel_agent_and_date(checker: Agent, console: tuple[RunningConsole, Rows]) -> None:
    ids = console[1].ids

    def found(**params: str) -> list[int]:
        r = checker.get(f"{API}/queue", params=params)
        assert r.status_code == 200, r.text
        return [i["id"] for i in r.json()["items"]]

    assert found(rule="greeting") == [ids["a"], ids["e"]]
    assert found(channel="voice") == [ids["b"]]
    assert found(agent="1001") == [ids["a"], ids["d"], ids["e"]]
    assert found(agent="bot") == [ids["c"]]
    today = utcnow().replace(tzinfo=dt.timezone.utc).astimezone(TZ).date()
    earlier = (today - dt.timedelta(days=2)).isoformat()
    assert ids["d"] not in found(**{"from": earlier}) and found(to=earlier) == [ids["d"]]
    assert found(rule="greeting", channel="wechat") == []


def test_bad_filters_are_refused_in_chinese(checker: Agent) -> None:
    for params in ({"rule": "no_such_rule"}, {"channel": "fax"}, {"agent": "<script>"}, {"from": "2026-13-01"},
                   {"from": "yesterday"}, {"from": "2026-12-05", "to": "2026-12-01"}, {"review": "maybe"},
                   {"page": "0"}, {"page": "x"}):  # fmt: skip
        r = checker.get(f"{API}/queue", params=params)
        assert r.status_code == 400 and re.search(r"[\u4e00-\u9fff]", r.json()["error"]), params
    assert checker.get("/console/quality", params={"channel": "fax"}, html=True).status_code == 400


def test_the_contact_shows_the_transcript_with_the_evidence_highlighted(
    checker: Agent, console: tuple[RunningConsole, Rows]
) -> None:
    rows = console[1]
    item = checker.get(f"{API}/contacts/{rows.ids['a']}").json()
    said = [(t["who"], t["text"]) for t in item["transcript"]]
    assert said == [("customer", "我家电费怎么这么多"), ("bot", "您好，请问您的户号是多少？"), ("system", "转人工"),
                    ("system", "坐席接入"), ("agent", GREETLESS), ("customer", "我想问问电费明细"),
                    ("agent", IMPOLITE)]  # fmt: skip
    rude = item["transcript"][-1]
    assert [p["text"] for p in rude["pieces"] if p["mark"]] == ["不知道", "你自己去查"]
    assert rude["who_label"] == "张丽" and [f["id"] for f in rude["flags"]] == [rows.flags["a:impolite_words"]]
    flag = item["flag_list"][0]
    assert flag["evidence_lines"][0]["in_transcript"] and flag["severity_label"] == "严重"
    page = checker.get(f"/console/quality/contacts/{rows.ids['a']}", html=True).text
    assert '<mark class="evidence">不知道</mark>' in page and '<mark class="evidence">你自己去查</mark>' in page
    assert "下一次的会话" not in page  # a later contact of the same conversation


def test_a_flag_on_a_call_gets_a_player_for_its_segment(checker: Agent, console: tuple[RunningConsole, Rows]) -> None:
    rows = console[1]
    item = checker.get(f"{API}/contacts/{rows.ids['b']}").json()
    assert item["flag_list"][0]["player"] == f"/console/recordings/{rows.recording}/audio#t=39.0,69.0"
    assert item["transcript"] == [] and "读取不到" in item["transcript_note"]  # evidence alone, said politely
    assert [p["text"] for p in item["flag_list"][0]["evidence_lines"][0]["pieces"] if p["mark"]] == ["236元"]
    page = checker.get(f"/console/quality/contacts/{rows.ids['b']}", html=True).text
    assert f'<audio controls preload="none" src="/console/recordings/{rows.recording}/audio#t=39.0,69.0"' in page
    broken = checker.get(f"{API}/contacts/{rows.ids['i']}").json()
    assert broken["status"] == "not_inspectable" and broken["reason"] == "录音文件损坏"


def test_unknown_contacts_are_a_404(checker: Agent) -> None:
    for path in (f"{API}/contacts/999999", f"{API}/contacts/abc", f"{API}/contacts/1234567890123456"):
        r = checker.get(path)
        assert r.status_code == 404 and "质检" in r.json()["error"], path
    assert checker.get("/console/quality/contacts/999999", html=True).status_code == 404


def test_verdicts_are_stored_with_reviewer_time_and_note(checker: Agent, console: tuple[RunningConsole, Rows]) -> None:
    rows = console[1]
    rude, greet = rows.flags["a:impolite_words"], rows.flags["a:greeting"]
    r = checker.post(f"{API}/flags/{rude}/review", {"verdict": "confirmed", "note": "  推诿客户  "})
    assert r.status_code == 200 and r.json()["flag"]["review_label"] == "确认有问题"
    stored = stored_flag(console, rude)
    assert (stored.review, stored.reviewer, stored.note) == ("confirmed", "9101", "推诿客户")
    assert stored.reviewed_at is not None and abs((utcnow() - stored.reviewed_at).total_seconds()) < 60
    assert checker.post(f"{API}/flags/{greet}/review", {"verdict": "dismissed"}).status_code == 200
    assert (stored_flag(console, greet).review, stored_flag(console, greet).note) == ("dismissed", None)
    # the queue's review filter: A has nothing left to review
    pending = [i["id"] for i in checker.get(f"{API}/queue", params={"review": "pending"}).json()["items"]]
    reviewed = [i["id"] for i in checker.get(f"{API}/queue", params={"review": "reviewed"}).json()["items"]]
    assert rows.ids["a"] in reviewed and rows.ids["a"] not in pending and rows.ids["b"] in pending


def test_bad_verdicts_are_refused_and_store_nothing(checker: Agent, console: tuple[RunningConsole, Rows]) -> None:
    flag = console[1].flags["b:identity_before_disclosure"]
    path = f"{API}/flags/{flag}/review"
    refusals = [
        checker.post(path, data="{not json", headers={"Content-Type": "application/json"}),
        checker.post(path, ["confirmed"]),
        checker.post(path, {"verdict": "maybe"}),
        checker.post(path, {"verdict": 1}),
        checker.post(path, {"verdict": "confirmed", "note": 42}),
        checker.post(path, {"verdict": "confirmed", "note": "很长" * 101}),
    ]
    for r in refusals:
        assert r.status_code == 400 and re.search(r"[\u4e00-\u9fff]", r.json()["error"]), r.text
    assert stored_flag(console, flag).review == "pending" and stored_flag(console, flag).reviewer is None
    assert checker.post(f"{API}/flags/999999/review", {"verdict": "confirmed"}).status_code == 404
    assert checker.post(f"{API}/flags/x/review", {"verdict": "confirmed"}).status_code == 404


def test_the_random_sample_is_reviewed_for_recall(checker: Agent, console: tuple[RunningConsole, Rows]) -> None:
    running, rows = console
    data = checker.get(f"{API}/sample").json()
    assert sorted(i["id"] for i in data["items"]) == sorted([rows.ids["f"], rows.ids["g"]])
    assert checker.post(f"{API}/sample/{rows.ids['f']}", {"missed_rule": None}).status_code == 200
    r = checker.post(f"{API}/sample/{rows.ids['g']}", {"missed_rule": "safety_not_urgent", "note": "客户说冒烟了"})
    assert r.status_code == 200
    with running.contact.sessions() as s:
        verdicts = {x.inspection_id: (x.missed_rule, x.reviewer, x.note) for x in s.scalars(select(SampleReview))}
    assert verdicts == {
        rows.ids["f"]: (None, "9101", None),
        rows.ids["g"]: ("safety_not_urgent", "9101", "客户说冒烟了"),
    }
    assert checker.get(f"{API}/sample", params={"review": "pending"}).json()["total"] == 0
    for body, status in (({"missed_rule": "no_such_rule"}, 400), ({"missed_rule": 3}, 400), ([1], 400)):
        assert checker.post(f"{API}/sample/{rows.ids['f']}", body).status_code == status, body
    for not_sampled in (rows.ids["h"], rows.ids["a"], 999999):  # unflagged but not drawn; flagged; unknown
        assert checker.post(f"{API}/sample/{not_sampled}", {"missed_rule": None}).status_code == 404
    page = checker.get("/console/quality/sample", html=True).text
    assert "漏检：" in page and "没有问题" in page


def test_scores_per_agent_team_and_rule_with_precision_recall_and_courses(
    checker: Agent, console: tuple[RunningConsole, Rows]
) -> None:
    rows = console[1]
    checker.post(f"{API}/flags/{rows.flags['a:impolite_words']}/review", {"verdict": "confirmed"})
    checker.post(f"{API}/flags/{rows.flags['a:greeting']}/review", {"verdict": "dismissed"})
    data = checker.get(f"{API}/scores", params={"weeks": "4"}).json()
    assert len(data["weeks"]) == 4 and data["overall"]["contacts"] == 8  # the not inspectable one left out
    rules = {r["rule_id"]: r for r in data["rules"]}
    assert rules["impolite_words"]["precision"] == 1.0 and rules["greeting"]["precision"] == 0.0
    assert rules["greeting"]["flags"] == 2 and rules["greeting"]["pending"] == 1
    assert rules["safety_not_urgent"]["missed_in_sample"] == 1 and rules["safety_not_urgent"]["recall"] == 0.0
    # 1 confirmed; 1 miss in 2 reviewed sample contacts of 3 unflagged: 1.5 estimated missed
    assert data["overall"]["recall"] == round(1 / 2.5, 3)
    zhang = next(a for a in data["agents"] if a["agent_id"] == "1001")
    assert zhang["contacts"] == 3 and zhang["score"] == round((60 + 90 + 95) / 3, 1)
    # greeting: one dismissed, one pending (not weak); impolite_words is severe: one confirmed contact is enough
    assert [w["rule_id"] for w in zhang["weak_rules"]] == ["impolite_words"]
    teams = {t["team"]: t for t in data["teams"]}
    assert teams["一班"]["contacts"] == 5 and teams["二班"]["contacts"] == 1 and teams["机器人"]["contacts"] == 2
    assert data["lowest"][0]["id"] == rows.ids["a"]
    for weeks in ("0", "27", "x"):
        assert checker.get(f"{API}/scores", params={"weeks": weeks}).status_code == 400
    page = checker.get("/console/quality/scores", html=True).text
    assert "查全率" in page and "准确率" in page and "/console/quality/scores/chart.svg?weeks=8" in page
    chart = checker.get("/console/quality/scores/chart.svg")
    assert chart.status_code == 200 and chart.headers["Content-Type"].startswith("image/svg+xml")
    assert "<svg" in chart.text


def test_an_agent_clearly_weaker_on_a_rule_gets_its_courses_severe_rules_first(
    checker: Agent, console: tuple[RunningConsole, Rows]
) -> None:
    running, rows = console
    checker.post(f"{API}/flags/{rows.flags['a:greeting']}/review", {"verdict": "confirmed"})
    data = checker.get(f"{API}/scores").json()
    zhang = next(a for a in data["agents"] if a["agent_id"] == "1001")
    # greeting on 2 of 3 contacts, impolite words on 1: the severe rule and its course come first all the same
    weak = [(w["rule_id"], w["flagged"], w["contacts"], w["severity"]) for w in zhang["weak_rules"]]
    assert weak == [("impolite_words", 1, 3, 3), ("greeting", 2, 3, 1)]
    assert [c["title"] for c in zhang["courses"]] == ["文明用语与服务禁语", "服务礼仪：开场问候与结束语"]
    assert zhang["courses"][0]["for_rules"] == ["坐席使用了服务禁语或不礼貌用语"]
    wang = next(a for a in data["agents"] if a["agent_id"] == "1002")  # one disclosure (pending) of two contacts
    assert [w["rule_id"] for w in wang["weak_rules"]] == ["identity_before_disclosure"]
    assert [c["title"] for c in wang["courses"]] == ["客户身份核验与信息保护"]
    li = next(a for a in data["agents"] if a["agent_id"] == "1003")
    assert li["weak_rules"] == [] and li["courses"] == []
    row = checker.get("/console/quality/scores", html=True).text.split('data-agent="1001"')[1].split("</tr>")[0]
    courtesy = next(c for c in courses.load_courses() if c.id == "courtesy")
    assert row.index("文明用语与服务禁语") < row.index("服务礼仪：开场问候与结束语")
    assert courtesy.summary in row and "针对：坐席使用了服务禁语或不礼貌用语" in row  # readable, not a tooltip
    assert "严重：坐席使用了服务禁语或不礼貌用语" in row and "impolite_words" not in row.replace('"impolite', "")


def test_weak_rules_need_a_clearly_higher_share_than_colleagues() -> None:
    shares = {"contacts": {"1": 10, "2": 10, "3": 10}, "team": {"1": "一班", "2": "一班", "3": "二班"},
              "flagged": {"1": {"greeting": 3, "closing": 2}, "2": {"closing": 2}, "3": {"greeting": 9}}}  # fmt: skip
    weak = courses.weak_rules("1", shares)  # compared with its team mate only: 30% vs 0%; closing 20% vs 20%
    assert [(w.rule_id, w.share, w.colleagues_share) for w in weak] == [("greeting", 0.3, 0.0)]
    assert courses.weak_rules("3", shares)[0].rule_id == "greeting"  # alone in 二班: against everyone else
    assert courses.weak_rules("4", shares) == []


def test_weak_rules_are_weighed_by_severity() -> None:
    shares = {"contacts": {"1": 10, "2": 10}, "team": {"1": "一班", "2": "一班"},
              "flagged": {"1": {"closing": 5, "identity_before_disclosure": 1, "impolite_words": 2}}}  # fmt: skip
    severity = {r.id: r.severity for r in load_rules().rules}
    weak = courses.weak_rules("1", shares, severity)
    assert [(w.rule_id, w.severity) for w in weak] == [("impolite_words", 3), ("identity_before_disclosure", 3),
                                                       ("closing", 1)]  # fmt: skip
    assert [w.rule_id for w in courses.weak_rules("1", shares)] == ["closing", "impolite_words"]  # unweighed
    titles = [c.id for c in courses.courses_for([w.rule_id for w in weak], courses.load_courses())]
    assert titles == ["courtesy", "identity", "etiquette"]


def test_the_course_catalogue_covers_known_rules_and_refuses_a_broken_file(tmp_path: Path) -> None:
    catalogue = courses.load_courses()
    assert len(catalogue) >= 6 and all(c.rules for c in catalogue)
    known = {r.id for r in load_rules().rules}
    assert {rule for c in catalogue for rule in c.rules} <= known
    assert known <= {rule for c in catalogue for rule in c.rules}  # every rule has a course
    broken = tmp_path / "courses.yml"
    broken.write_text("courses:\n  - id: x\n    title: 没有规则\n", encoding="utf-8")
    with pytest.raises(courses.CourseFileError, match="course #1 \\(x\\)"):
        courses.load_courses(broken)


# ---- a second console: repeated replies, system evidence, the sample drawn by hand, a rule file that breaks ----

REPEAT = "请告诉我您的十位户号。户号可以在电费单或者缴费短信上找到。"
ESCALATED = "客户情绪在会话中明显升级：calm → dissatisfied"


@dataclass
class Second:
    running: RunningConsole
    repeated: int  # inspection id
    flags: dict[str, int]
    unflagged: list[int]  # inspected, no flag, not sampled
    rule_file: Path


def _second_rows(sessions: sessionmaker[Session]) -> tuple[int, dict[str, int], list[int], list[dict[str, Any]]]:
    ended = utcnow().replace(microsecond=0) - dt.timedelta(hours=1)
    with sessions.begin() as s:
        j = _inspection(s, "j", ended, channel="chat", handled_by="bot", score=55, flags=3, top_severity=2)
        flags = {
            "bot_repeats": _flag(s, j, "bot_repeats", 2, [  # the 2nd, 3rd and 4th of four identical replies
                {"turn": t, "who": "bot", "text": REPEAT, "at": at, "spans": []} for t, at in ((4, 20.0), (6, 40.0),
                                                                                               (8, 60.0))]),
            "transfer_unresolved": _flag(s, j, "transfer_unresolved", 2, [
                {"turn": 10, "who": "system", "text": "", "at": 61.5, "spans": []}]),
            "emotion_escalation": _flag(s, j, "emotion_escalation", 2, [
                {"turn": 1, "who": "customer", "text": "电费怎么这么多", "at": 1.0, "spans": []}]),
        }  # fmt: skip
        s.get_one(Flag, flags["emotion_escalation"]).message = ESCALATED
        s.add(Verification(conversation_id=j.conversation_id, account_no="3201000001", method="last4", strength=1,
                           verified_at=j.started_at + dt.timedelta(seconds=5)))  # fmt: skip
        unflagged = [_inspection(s, f"k{n}", ended - dt.timedelta(minutes=n), channel="chat", handled_by="bot").id
                     for n in range(12)]  # fmt: skip
        _inspection(s, "m", ended, channel="chat", handled_by="bot", sampled=True)
        start = j.started_at.replace(tzinfo=dt.timezone.utc).timestamp()
    said = [("user", "电费怎么这么多", 1), ("bot", REPEAT, 2), ("user", "我说了电费怎么这么多", 10),
            ("bot", REPEAT, 20), ("user", "你听不懂吗", 30), ("bot", REPEAT, 40), ("user", "叫人工", 50),
            ("bot", REPEAT, 60)]  # fmt: skip
    events: list[dict[str, Any]] = [{"event": k, "text": t, "timestamp": start + at} for k, t, at in said]
    events += [{"event": "bot", "text": "正在为您转接人工客服。", "timestamp": start + 61,
                "data": {"custom": {"handoff": {"reason": "customer_request"}}}},
               {"event": "pause", "timestamp": start + 61.5}]  # fmt: skip
    return j.id, flags, unflagged, events


@pytest.fixture(scope="module")
def second(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Second]:
    folder = tmp_path_factory.mktemp("quality-second")
    url = f"sqlite:///{folder / 'q.db'}"
    engine, sessions = open_database(url)
    repeated, flags, unflagged, events = _second_rows(sessions)
    engine.dispose()
    rule_file = folder / "rules.yml"
    rule_file.write_bytes(RULES_FILE.read_bytes())
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(quality.rules, "RULES_FILE", rule_file)
        with running_console(url, AGENTS) as running:
            running.rasa.trackers["conv-j"] = events
            yield Second(running, repeated, flags, unflagged, rule_file)


def test_each_of_three_identical_replies_is_highlighted_on_its_own_turn(second: Second) -> None:
    checker = Agent(second.running.url).login("9101")
    item = checker.get(f"{API}/contacts/{second.repeated}").json()
    repeats = [t for t in item["transcript"] if t["text"] == REPEAT]
    flagged = [[f["id"] for f in t["flags"]] for t in repeats]
    assert flagged == [[], [second.flags["bot_repeats"]], [second.flags["bot_repeats"]], [second.flags["bot_repeats"]]]
    assert [t["offset"] for t in repeats] == [2.0, 20.0, 40.0, 60.0]
    lines = next(f for f in item["flag_list"] if f["rule_id"] == "bot_repeats")["evidence_lines"]
    assert len(lines) == 3 and all(line["in_transcript"] for line in lines)
    page = checker.get(f"/console/quality/contacts/{second.repeated}", html=True).text
    assert page.count('<li class="turn bot flagged">') == 3


def test_system_events_read_as_words_in_the_transcript_and_the_evidence(second: Second) -> None:
    checker = Agent(second.running.url).login("9101")
    item = checker.get(f"{API}/contacts/{second.repeated}").json()
    system = [(t["event"], t["text"]) for t in item["transcript"] if t["who"] == "system"]
    assert system == [("verified", "身份已核验"), ("transferred", "转人工")]  # the back end's check, the hand-over
    transfer = next(t for t in item["transcript"] if t["who"] == "system" and t["event"] == "transferred")
    assert [f["id"] for f in transfer["flags"]] == [second.flags["transfer_unresolved"]]
    line = next(f for f in item["flag_list"] if f["rule_id"] == "transfer_unresolved")["evidence_lines"][0]
    assert (line["who_label"], line["text"], line["in_transcript"]) == ("系统", "转人工", True)
    page = checker.get(f"/console/quality/contacts/{second.repeated}", html=True).text
    assert "<b>系统：</b>转人工</li>" in page and "<b>系统：</b></li>" not in page


def test_rules_and_emotions_show_in_chinese_even_when_the_rule_file_breaks_under_the_console(second: Second) -> None:
    checker = Agent(second.running.url).login("9101")
    second.rule_file.write_text("rules:\n  - id: greeting\n    severity: [\n", encoding="utf-8")  # edited mid-run
    item = checker.get(f"{API}/contacts/{second.repeated}").json()
    emotion = next(f for f in item["flag_list"] if f["rule_id"] == "emotion_escalation")
    assert emotion["message"] == "客户情绪在会话中明显升级：平静 → 不满"
    pages = [checker.get(path, html=True).text for path in ("/console/quality", f"/console/quality/contacts/"
             f"{second.repeated}", "/console/quality/sample", "/console/quality/scores")]  # fmt: skip
    visible = [re.sub(r"<[^>]+>", " ", p) for p in pages]
    for text in visible:
        assert not re.search(r"\b(bot_repeats|transfer_unresolved|emotion_escalation|calm|dissatisfied)\b", text)
    assert "机器人重复了同样的回答三遍以上" in visible[0] and "转人工后问题没有解决" in visible[1]
    options = re.findall(r'<option value="([a-z_]+)"', pages[0].split('name="rule"')[1].split("</select>")[0])
    assert set(options) == {r.id for r in load_rules(RULES_FILE).rules}  # the filter is full
    assert checker.get(f"{API}/queue", params={"rule": "bot_repeats"}).json()["total"] == 1


def test_a_rule_file_that_does_not_load_at_start_is_logged_and_chinese_is_shown(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    broken = tmp_path / "rules.yml"
    broken.write_text("rules:\n  - id: greeting\n    severity: [\n", encoding="utf-8")
    catalogue = quality_api.load_rule_catalogue(broken)
    assert "质检规则文件无法读取" in caplog.text and "rules.yml" in caplog.text
    assert {r.id for r in load_rules(RULES_FILE).rules} <= set(catalogue)
    assert catalogue["impolite_words"] == {"description": "坐席使用了服务禁语或不礼貌用语", "severity": 3}
    good = quality_api.load_rule_catalogue()
    assert {r: v["description"] for r, v in good.items()} == {r.id: r.description for r in load_rules(RULES_FILE).rules}


def test_quality_staff_draw_a_sample_of_unflagged_contacts(second: Second) -> None:
    running = second.running
    checker = Agent(running.url).login("9101")
    assert Agent(running.url).login("1001").post(f"{API}/sample/draw", {}).status_code == 403
    for body in ({"count": 0}, {"count": 101}, {"count": "5"}, {"count": True}, [3]):
        r = checker.post(f"{API}/sample/draw", body)
        assert r.status_code == 400 and re.search("抽取数量|对象", r.json()["error"]), body
    first = checker.post(f"{API}/sample/draw", {}).json()  # the default: ten
    second_draw = checker.post(f"{API}/sample/draw", {"count": 5}).json()
    assert len(first["drawn"]) == 10 and len(second_draw["drawn"]) == 2 and "已抽取 2 个会话" in second_draw["message"]
    assert sorted(first["drawn"] + second_draw["drawn"]) == sorted(second.unflagged)  # never a flagged one, nor twice
    last = checker.post(f"{API}/sample/draw", {"count": 5}).json()
    assert last["drawn"] == [] and "暂时没有可抽取的会话" in last["message"]
    with running.contact.sessions() as s:
        sampled = set(s.scalars(select(Inspection.id).where(Inspection.sampled.is_(True))))
    assert set(second.unflagged) < sampled and second.repeated not in sampled
    assert checker.get(f"{API}/sample", params={"review": "pending"}).json()["total"] == 13  # with the one drawn before
    page = checker.get("/console/quality/sample", html=True).text
    assert 'id="draw-button"' in page and "抽取样本" in page
