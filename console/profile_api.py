"""The customer profile (客户画像, insight/profile.py) in the console, as a page or a PDF.

- GET /console/cases/{case_id}/profile[.pdf]      the case's customer: for the agent who holds the case once the
                                                 caller proved who they are in it (the customer panel's rule,
                                                 console/customer_api.py), shown whole; supervisors always, whole
                                                 only once verified
- GET /console/insight/profile/{account}[.pdf]   any account, for supervisors (the holder masked)

Refusals are Chinese: not verified or not the agent's case 403, a bad 户号 400, no such customer 404.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from aiohttp import web

from console.auth import agent_of, require_supervisor
from console.config import CONFIG, CONTACT
from console.customer_api import LOOKUP, handler_of, the_case
from console.errors import refuse
from insight import drill, profile

FILE_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"
PRINTING = web.AppKey("profile_printing", asyncio.Semaphore)  # chromium prints one at a time
NOT_VERIFIED = "客户尚未核验身份，暂不能查看客户画像。请先核验。"


def _build(request: web.Request, account: str, whole: bool) -> str:
    try:
        ds = drill.open_history(Path(request.app[CONFIG].insight_history))
    except drill.HistoryMissing:
        raise web.HTTPNotFound(text="暂无客户历史数据，请先运行分析。") from None
    try:
        with request.app[CONTACT].sessions() as s:
            data = profile.profile_data(ds, s, account, whole)
    except profile.BadAccount as e:
        raise refuse(400, str(e)) from None
    except profile.ProfileError as e:
        raise refuse(404, str(e)) from None
    finally:
        ds.backend.disconnect()
    agent = agent_of(request)
    return profile.render_html(data, by=f"{agent.display_name}（{agent.username}）")


async def _respond(request: web.Request, account: str, whole: bool, pdf: bool) -> web.Response:
    html = await asyncio.to_thread(_build, request, account, whole)
    headers = {"Cache-Control": "no-store", "Content-Security-Policy": FILE_CSP}
    if not pdf:
        return web.Response(text=html, content_type="text/html", headers=headers)
    async with request.app[PRINTING]:
        data, error = await asyncio.to_thread(profile.pdf_bytes, html)
    if data is None:
        raise refuse(503, error or "PDF 暂时无法生成，请查看网页版。")
    headers["Content-Disposition"] = 'inline; filename="customer-profile.pdf"'
    return web.Response(body=data, content_type="application/pdf", headers=headers)


async def case_profile(request: web.Request) -> web.Response:
    case = await the_case(request)
    agent = agent_of(request)
    if not case.account_no:
        raise refuse(409, "这个会话还没有关联客户，请先查找并核验客户。")
    verified: bool = await asyncio.to_thread(request.app[LOOKUP].verified, case, case.account_no)
    if not agent.supervisor and not (verified and handler_of(agent, case)):
        raise refuse(403, NOT_VERIFIED if handler_of(agent, case) else "请先接入这个会话。")
    return await _respond(request, case.account_no, verified, request.match_info.get("pdf") == ".pdf")


async def account_profile(request: web.Request) -> web.Response:
    require_supervisor(request)
    account: str = request.match_info["account"]
    pdf = account.endswith(".pdf")
    return await _respond(request, account.removesuffix(".pdf"), False, pdf)


def add_routes(app: web.Application) -> None:
    app[PRINTING] = asyncio.Semaphore(1)
    r = app.router
    r.add_get(r"/console/cases/{case_id}/profile{pdf:(\.pdf)?}", case_profile)
    r.add_get("/console/insight/profile/{account}", account_profile)
