"""会话记录 (issue 17 item 6): finished cases by filter and by Chinese transcript search (character bigrams in
case_terms, the phrase checked on the text), the read-only transcript and the CSV export; against the real
console app and database, the conversations kept by the Rasa stand-in of tests/console/console_app.py."""

from __future__ import annotations

import csv
import io
import random
import time

import pytest

from backend.contact_centre import CaseStatus
from backend.contact_centre.search import Filters, TranscriptSearch, phrases, reindex, terms
from console.config import CONFIG
from tests.console.console_app import Agent, running_console

AGENTS = (("1001", "张丽", "agent"), ("1002", "王强", "agent"), ("9001", "刘主管", "supervisor"))


@pytest.fixture(scope="module")
def console(tmp_path_factory):
    with running_console(f"sqlite:///{tmp_path_factory.mktemp('history') / 'h.db'}", AGENTS) as running:
        yield running


def said(who: str, text: str, at: float, agent: str = "") -> dict:
    if who == "customer":
        return {"event": "user", "text": text, "timestamp": at, "metadata": {"channel": "chat"}}
    meta = {"agent": "1001", "agent_name": agent} if agent else {}
    return {"event": "bot", "text": text, "timestamp": at, "metadata": meta}


def ended_case(console, conversation: str, lines: list[tuple[str, str]], *, by: str = "1001", channel: str = "chat",
               account: str | None = None, disposition: str = "resolved") -> int:  # fmt: skip
    """A case whose conversation said `lines` (who, text), handled by `by` and closed in the store."""
    now = time.time() - 30
    console.rasa.trackers[conversation] = [said(w, t, now + i) for i, (w, t) in enumerate(lines)]
    case, _ = console.contact.escalate(
        conversation, channel, "customer_request", summary="客户要求转人工", context={}, account_no=account
    )
    console.contact.claim(case.id, console.contact.agent_by_username(by).id)
    console.contact.finish(case.id, CaseStatus.CLOSED, disposition)
    return case.id


def ids(response) -> list[int]:
    assert response.status_code == 200, response.text
    return [c["id"] for c in response.json()["cases"]]


def test_terms_are_bigrams_of_chinese_runs_and_latin_words():
    assert terms("这个月电费很高！户号3201000001，G2611") == {
        "这个", "个月", "月电", "电费", "费很", "很高", "户号", "3201000001", "g2611",
    }  # fmt: skip
    assert terms("停") == {"停"} and phrases("  电费 很高。") == ["电费", "很高"] and phrases("😀😀") == []


def test_a_phrase_is_found_in_the_transcript_and_bigram_coincidences_are_dropped(console):
    hit = ended_case(console, "chat:h-hit", [("customer", "这个月电费很高，怎么回事"), ("bot", "请提供户号")])
    scattered = ended_case(
        console, "chat:h-scattered", [("customer", "电费很少，可是收费很高")]
    )  # every bigram, no phrase
    split = ended_case(console, "chat:h-split", [("customer", "我想问电费"), ("bot", "很高兴为您服务")])
    console.rasa.trackers["chat:h-late"] = []
    supervisor = Agent(console.url).login("9001")
    found = ids(supervisor.get("/console/api/history", params={"q": "电费很高"}))
    assert hit in found and scattered not in found and split not in found
    with console.contact.sessions() as s:  # the scattered case really is a bigram candidate
        from backend import models as m

        have = {t for (t,) in s.query(m.CaseTerm.term).filter(m.CaseTerm.case_id == scattered)}
    assert {"电费", "费很", "很高"} <= have
    r = supervisor.get("/console/api/history", params={"q": "电费很高"}).json()["cases"]
    snippet = next(c["snippet"] for c in r if c["id"] == hit)
    assert snippet["hit"] == "电费很高" and snippet["who"] == "客户" and snippet["before"].endswith("这个月")
    assert ids(supervisor.get("/console/api/history", params={"q": "费"}))  # one character: looked up in the text
    assert hit in ids(supervisor.get("/console/api/history", params={"q": "电费 怎么回事"}))  # both phrases


def test_agents_find_and_open_only_their_own_cases_supervisors_everyone(console):
    mine = ended_case(console, "chat:h-mine", [("customer", "我家跳闸了一直合不上")], by="1001", channel="wechat")
    theirs = ended_case(console, "chat:h-theirs", [("customer", "隔壁也跳闸了一直合不上")], by="1002")
    zhang, wang, boss = (Agent(console.url).login(u) for u in ("1001", "1002", "9001"))
    assert ids(zhang.get("/console/api/history", params={"q": "跳闸"})) == [mine]
    assert ids(wang.get("/console/api/history", params={"q": "跳闸", "agent": "1001"})) == [theirs]  # fixed to self
    assert set(ids(boss.get("/console/api/history", params={"q": "跳闸"}))) == {mine, theirs}
    assert ids(boss.get("/console/api/history", params={"q": "跳闸", "agent": "1002"})) == [theirs]
    assert ids(boss.get("/console/api/history", params={"q": "跳闸", "channel": "wechat"})) == [mine]
    r = zhang.get(f"/console/history/{theirs}", html=True)
    assert r.status_code == 403 and "这个会话已由其他同事处理" in r.text
    page = zhang.get(f"/console/history/{mine}", html=True)
    assert page.status_code == 200 and "我家跳闸了一直合不上" in page.text and "导出对话记录" in page.text
    export = zhang.get(f"/console/api/cases/{mine}/export")
    assert export.status_code == 200 and "我家跳闸了一直合不上" in export.text
    r = zhang.get("/console/history", html=True, params={"q": "跳闸"})
    assert r.status_code == 200 and f'href="/console/history/{mine}"' in r.text and "<mark>跳闸</mark>" in r.text
    assert f'href="/console/history/{theirs}"' not in r.text and 'name="agent"' not in r.text


def test_filters_by_account_disposition_and_date_and_numbers_are_masked(console):
    case = ended_case(
        console, "chat:h-masked", [("customer", "我手机13912345678，户号3201000007，停电三小时了")],
        account="3201000007", disposition="callback",
    )  # fmt: skip
    boss = Agent(console.url).login("9001")
    assert ids(boss.get("/console/api/history", params={"account": "3201000007"})) == [case]
    assert case in ids(boss.get("/console/api/history", params={"disposition": "callback"}))
    assert case not in ids(boss.get("/console/api/history", params={"disposition": "resolved"}))
    assert case not in ids(boss.get("/console/api/history", params={"from": "2020-01-01", "to": "2020-01-31"}))
    today = time.strftime("%Y-%m-%d", time.gmtime(time.time() + 8 * 3600))
    assert case in ids(boss.get("/console/api/history", params={"from": today, "to": today}))
    found = boss.get("/console/api/history", params={"q": "停电三小时"}).json()["cases"]
    row = next(c for c in found if c["id"] == case)
    text = str(row)
    assert "139****5678" in text and "******0007" in text and "13912345678" not in text and "3201000007" not in text
    page = boss.get(f"/console/history/{case}", html=True).text
    assert "139****5678" in page and "13912345678" not in page and "3201000007" not in page
    for bad, words in (
        ({"account": "12ab"}, "户号应为10位数字"),
        ({"from": "2026-13-40"}, "不是有效的日期"),
        ({"from": "2026-12-05", "to": "2026-12-01"}, "结束日期不能早于开始日期"),
        ({"channel": "fax"}, "请从列表中选择渠道"),
        ({"q": "😀"}, "没有可以查找的文字"),
        ({"q": "电" * 51}, "50字以内"),
    ):
        r = boss.get("/console/api/history", params=bad)
        assert r.status_code == 400 and words in r.json()["error"], (bad, r.text)
    r = boss.get("/console/history", params={"account": "12ab"}, html=True)
    assert r.status_code == 400 and "户号应为10位数字" in r.text and "会话记录" in r.text


def test_the_search_results_export_as_csv_excel_opens(console):
    case = ended_case(console, "chat:h-csv", [("customer", "=HYPERLINK(1) 表计箱门坏了，电话13900001111")])
    boss = Agent(console.url).login("9001")
    r = boss.get("/console/api/history/export.csv", params={"q": "表计箱门"})
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/csv")
    assert "attachment" in r.headers["Content-Disposition"]
    assert r.content.startswith(b"\xef\xbb\xbf")  # UTF-8 BOM: Excel reads the Chinese right
    rows = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert rows[0] == ["会话编号", "结束时间", "渠道", "坐席", "处理结果", "户号", "摘要", "匹配内容"]
    assert [row[0] for row in rows[1:]] == [str(case)]
    assert rows[1][2] == "网页客服" or rows[1][2]  # a channel name, not an id
    assert "139****1111" in rows[1][7] and "13900001111" not in r.content.decode("utf-8-sig")
    assert rows[1][3] == "张丽" and rows[1][4] == "问题已解决"


def test_a_case_closed_in_the_console_is_searchable_at_once(console):
    agent = Agent(console.url).login("1001")
    case, _ = console.contact.escalate("chat:h-live", "chat", "customer_request", summary="转人工", context={})
    console.rasa.trackers["chat:h-live"] = [said("customer", "智能电表显示屏不亮了", time.time() - 5)]
    assert agent.post(f"/console/api/cases/{case.id}/claim").status_code == 200
    assert agent.post(f"/console/api/cases/{case.id}/messages", {"text": "请您拍一下电表的照片"}).status_code == 200
    assert agent.post(f"/console/api/cases/{case.id}/close", {"disposition": "resolved"}).status_code == 200
    stored = TranscriptSearch(console.contact.sessions).transcript(case.id)
    assert stored is not None and [t.who for t in stored][:3] == ["customer", "agent", "agent"]
    assert ids(agent.get("/console/api/history", params={"q": "电表显示屏"})) == [case.id]
    assert ids(agent.get("/console/api/history", params={"q": "拍一下电表"})) == [case.id]  # agent turns too


WORDS = ["电费", "很高", "停电", "跳闸", "报修", "户号", "缴费", "电表", "不亮", "欠费", "复电", "师傅", "投诉", "电压"]


def test_hundreds_of_generated_cases_search_exactly_like_reading_every_transcript(console, tmp_path):
    rng = random.Random(17)
    made: dict[int, list[str]] = {}
    for n in range(300):
        lines = ["".join(rng.choice(WORDS) for _ in range(rng.randint(2, 5))) for _ in range(rng.randint(1, 4))]
        case_id = ended_case(
            console, f"chat:gen-{n}", [("customer" if i % 2 == 0 else "bot", t) for i, t in enumerate(lines)],
            by=rng.choice(["1001", "1002"]),
        )  # fmt: skip
        made[case_id] = lines
    search = TranscriptSearch(console.contact.sessions)
    assert reindex(console.contact.sessions, console.app[CONFIG].rasa_url, "", limit=1000) >= 300  # the CLI's work
    assert search.unindexed() == []
    queries = ["电费很高", "停电跳闸", "很高停电", "表不亮", "欠费复电", "师傅投诉", "电压", "费很", "户号缴费电表"]
    for query in queries:
        expected = {c for c, lines in made.items() if any(query in line for line in lines)}
        found, total = search.search(Filters(query=query), limit=1000)
        got = {f.case_id for f in found} & made.keys()
        assert got == expected, query
        assert all(f.snippet[1] == query for f in found if f.case_id in made)
    assert search.search(Filters(query="电费 停电"), limit=1000)[1] >= 1
