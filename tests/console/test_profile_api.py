"""The customer profile (客户画像) in the console: an agent sees the case's customer only once the caller proved who
they are in this case (then whole), never a colleague's case; a supervisor sees any account, the holder masked;
a bad 户号 is a Chinese 400, an unknown one a 404; the PDF is a PDF (or a Chinese 503 without chromium)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from backend.contact_centre import Channel, ContactStore, EscalationReason
from backend.db import open_database
from backend.synthetic import seed
from tests.console.console_app import Agent, RunningConsole, running_console
from tests.insight.handmade import ACCOUNT, publish_run, write_history

AGENTS = (("1001", "张丽", "agent"), ("1002", "李强", "agent"), ("9001", "刘主管", "supervisor"))


@pytest.fixture(scope="module")
def console(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[RunningConsole, sessionmaker[Session]]]:
    folder = tmp_path_factory.mktemp("profile")
    url = f"sqlite:///{folder / 'p.db'}"
    engine, sessions = open_database(url)
    seed(sessions, customers=30)
    history = write_history(sessions, folder / "history")
    publish_run(sessions)
    with running_console(url, AGENTS, insight_history=str(history)) as running:
        yield running, sessions
    engine.dispose()


def open_case(sessions: sessionmaker[Session], conversation: str, claim_by: str = "1001") -> int:
    contact = ContactStore(sessions)
    case, _ = contact.escalate(conversation, Channel.CHAT, EscalationReason.CUSTOMER_REQUEST, summary="客户要求转人工",
                               context={}, account_no=ACCOUNT)  # fmt: skip
    agent = contact.agent_by_username(claim_by)
    assert agent is not None
    contact.claim(case.id, agent.id)
    return case.id


def test_an_agent_sees_the_profile_only_once_the_caller_is_verified(
    console: tuple[RunningConsole, sessionmaker[Session]],
) -> None:
    running, sessions = console
    case = open_case(sessions, "chat:profile-verify")
    agent, colleague = Agent(running.url).login("1001"), Agent(running.url).login("1002")
    refused = agent.get(f"/console/cases/{case}/profile")
    assert refused.status_code == 403 and "尚未核验" in refused.json()["error"]
    page = agent.get(f"/console/cases/{case}/profile", html=True)
    assert page.status_code == 403 and "尚未核验" in page.text  # a browser gets the Chinese refusal page
    assert agent.get(f"/console/cases/{case}/profile.pdf").status_code == 403

    ok = agent.post(f"/console/api/cases/{case}/verify", {"account_no": ACCOUNT, "last4": "0001"})
    assert ok.status_code == 200, ok.text
    shown = agent.get(f"/console/cases/{case}/profile", html=True)
    assert shown.status_code == 200 and "客户画像" in shown.text
    assert "王建国" in shown.text and ACCOUNT in shown.text and "13912340001" in shown.text  # whole once verified
    assert "敏感客户" in shown.text and "近12个月逾期≥1次" in shown.text and shown.text.count("<svg") >= 4
    assert "default-src 'none'" in shown.headers["Content-Security-Policy"]

    other = colleague.get(f"/console/cases/{case}/profile")
    assert other.status_code == 403 and "其他同事" in other.json()["error"]


def test_a_supervisor_opens_any_account_masked(console: tuple[RunningConsole, sessionmaker[Session]]) -> None:
    running, _ = console
    boss = Agent(running.url).login("9001")
    r = boss.get(f"/console/insight/profile/{ACCOUNT}", html=True)
    assert r.status_code == 200 and "王**" in r.text and "139****0001" in r.text and "******0001" in r.text
    assert "王建国" not in r.text and ACCOUNT not in r.text
    assert Agent(running.url).login("1001").get(f"/console/insight/profile/{ACCOUNT}").status_code == 403
    bad = boss.get("/console/insight/profile/12ab")
    assert bad.status_code == 400 and "10位数字" in bad.json()["error"]
    unknown = boss.get("/console/insight/profile/3299999999")
    assert unknown.status_code == 404 and "没有户号为 ******9999 的客户" in unknown.json()["error"]
    pdf = boss.get(f"/console/insight/profile/{ACCOUNT}.pdf")
    if pdf.status_code == 200:
        assert pdf.content[:5] == b"%PDF-" and pdf.headers["Content-Type"] == "application/pdf"
        import pypdfium2  # type: ignore[import-untyped]

        assert len(pypdfium2.PdfDocument(pdf.content)) == 1  # one page
    else:
        assert pdf.status_code == 503 and "PDF" in pdf.json()["error"]


def test_without_a_history_the_profile_says_so(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'n.db'}"
    engine, sessions = open_database(url)
    seed(sessions, customers=5)
    engine.dispose()
    with running_console(url, AGENTS, insight_history=str(tmp_path / "none")) as running:
        r = Agent(running.url).login("9001").get(f"/console/insight/profile/{ACCOUNT}")
        assert r.status_code == 404 and "请先运行分析" in r.json()["error"]
