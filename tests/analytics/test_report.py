"""One-click reports on hand-made contacts: HTML with the KPI figures, charts as SVG, complaints and misunderstandings
with samples; a PDF by chromium (or the reason there is none); archived and searchable; an empty range says so;
bad parameters are refused in Chinese; the CLI writes one too."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from analytics import report
from analytics.kpis_range import RangeError
from backend.db import make_engine, make_sessionmaker, upgrade
from knowledge.catalog import catalog
from tests.analytics.kpi_contacts import AREAS, COMPLAINT_TEXT, FALLBACK_TEXT, add_contacts
from tests.conftest import CHROMIUM


@pytest.fixture
def db(tmp_path: Path) -> sessionmaker[Session]:
    engine = make_engine(f"sqlite:///{tmp_path / 'r.db'}")
    upgrade(engine)
    sessions = make_sessionmaker(engine)
    with sessions() as s:
        add_contacts(s)
    return sessions


def test_a_weekly_report_shows_the_week_and_is_archived(db: sessionmaker[Session], tmp_path: Path) -> None:
    done = report.generate(db, "weekly", "2026-11-23", by="9001", directory=tmp_path / "reports", pdf=False)
    assert (done["from"], done["to"], done["contacts"], done["created_by"]) == ("2026-11-23", "2026-11-29", 7, "9001")
    html = (tmp_path / "reports" / done["html"]).read_text(encoding="utf-8")
    assert "周报" in html and "全部区域" in html
    assert COMPLAINT_TEXT in html and FALLBACK_TEXT in html
    assert html.count("<svg") == 7 and "各渠道会话量" in html  # the dashboard's charts, inlined
    assert catalog().name("complaint") in html and "fault_repair" not in html  # catalog names, never intent ids
    assert done["pdf"] is None and done["pdf_error"]
    with db() as s:
        assert [r["id"] for r in report.list_reports(s, "太差")] == [done["id"]]  # a complaint's words find it
        assert report.list_reports(s, "没有这个词") == []


def test_a_monthly_report_for_an_area_and_an_empty_period(db: sessionmaker[Session], tmp_path: Path) -> None:
    month = report.generate(db, "monthly", "2026-11-10", area="A02", directory=tmp_path, pdf=False)
    assert (month["from"], month["to"], month["contacts"]) == ("2026-11-01", "2026-11-30", 2)
    assert AREAS["A02"] in month["title"]
    empty = report.generate(db, "custom", "2025-01-01", "2025-01-07", directory=tmp_path, pdf=False)
    html = (tmp_path / empty["html"]).read_text(encoding="utf-8")
    assert empty["contacts"] == 0 and "没有客户会话记录" in html and "<svg" not in html


@pytest.mark.parametrize(
    ("kind", "first", "last", "area", "says"),
    [
        ("weekly", "2026-11-30", "2026-11-23", None, "开始日期晚于结束日期"),
        ("custom", "2021-01-01", "2026-01-01", None, "最多选366天"),
        ("weekly", "2026-11-23", None, "Z99", "没有编号为 Z99"),
        ("yearly", "2026-11-23", None, None, "报表类型"),
        ("custom", "2026-11-23", None, None, "结束日期"),
    ],
)
def test_bad_parameters_are_refused(
    db: sessionmaker[Session], tmp_path: Path, kind: str, first: str, last: str | None, area: str | None, says: str
) -> None:
    with pytest.raises(RangeError, match=says):
        report.generate(db, kind, first, last, area, directory=tmp_path, pdf=False)
    assert not list(tmp_path.glob("**/*.html"))


def test_without_chromium_the_html_is_kept_and_the_reason_given(
    db: sessionmaker[Session], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("P95598_CHROMIUM", str(tmp_path / "no-such-chromium"))
    monkeypatch.setenv("PATH", str(tmp_path))
    done = report.generate(db, "weekly", "2026-11-23", directory=tmp_path, pdf=True)
    assert done["pdf"] is None and "没有安装 chromium" in done["pdf_error"]
    assert (tmp_path / done["html"]).is_file()


@pytest.mark.skipif(CHROMIUM is None, reason="Debian chromium not installed")
def test_the_cli_writes_html_and_pdf(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    engine = make_engine(url)
    upgrade(engine)
    with make_sessionmaker(engine)() as s:
        add_contacts(s)
    engine.dispose()
    env = {"P95598_DB_URL": url, "P95598_REPORTS_DIR": str(tmp_path / "out"), "PATH": "/usr/bin:/bin"}
    done = subprocess.run(
        [sys.executable, "-m", "analytics", "report", "--kind", "weekly", "--from", "2026-11-23", "--area", "A01"],
        capture_output=True, text=True, timeout=180, env={**env, "PYTHONPATH": str(Path.cwd())},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    pdfs = list((tmp_path / "out").glob("2026/*.pdf"))
    assert len(pdfs) == 1 and pdfs[0].read_bytes()[:5] == b"%PDF-"
    bad = subprocess.run(
        [sys.executable, "-m", "analytics", "report", "--from", "2026-11-23", "--area", "Z99"],
        capture_output=True, text=True, timeout=60, env={**env, "PYTHONPATH": str(Path.cwd())},
    )  # fmt: skip
    assert bad.returncode == 2 and "没有编号为 Z99" in bad.stderr
