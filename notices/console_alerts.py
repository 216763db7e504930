"""Staff notices (incident and KPI alerts) pushed to the consoles by the console process, over its hub:
{"type": "notice_alert", "kind", "text", "audience", **payload}; "supervisor" notices reach supervisors only.
Also mounts the delivery-receipt callbacks and the WeChat template receipts in the console.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any, Protocol

from aiohttp import web
from sqlalchemy.orm import Session, sessionmaker

from backend.background import running
from backend.models_notices import Audience, NoticeChannel
from notices import receipts
from notices.config import NoticesConfig
from notices.outbox import Outgoing
from notices.runner import NoticeRunner

NO_AGENT = 0  # to_agent(NO_AGENT, ..., supervisors=True): every supervisor and nobody else


class AlertHub(Protocol):
    async def broadcast(self, payload: dict[str, Any]) -> None: ...

    async def to_agent(self, agent_id: int, payload: dict[str, Any], supervisors: bool = False) -> None: ...


class ConsoleAlerts:
    def __init__(self, hub: AlertHub):
        self.hub = hub

    async def send(self, notice: Outgoing) -> str:
        audience = Audience.SUPERVISOR if notice.recipient == Audience.SUPERVISOR else Audience.STAFF
        message = {
            **notice.payload,
            "type": "notice_alert",
            "kind": notice.kind,
            "text": notice.text,
            "audience": audience,
        }
        if audience == Audience.SUPERVISOR:
            await self.hub.to_agent(NO_AGENT, message, supervisors=True)
        else:
            await self.hub.broadcast(message)
        return notice.ref

    async def find(self, notice: Outgoing) -> str | None:
        return None  # a console message is not stored anywhere to ask: a rare repeat of an alert is harmless


class WeChatEvents(Protocol):
    on_event: Callable[[dict[str, str]], Any] | None


def add_to_console(
    app: web.Application,
    *,
    sessions: Callable[[], sessionmaker[Session]],
    hub: Callable[[], AlertHub],
    wechat: Callable[[], WeChatEvents],
    cfg: NoticesConfig | None = None,
    interval: float = 1.0,
) -> None:
    """Mounts the receipts and, once the hub exists (a cleanup context after it), the staff alert loop."""
    cfg = cfg or NoticesConfig.from_env()
    receipts.add_routes(app, sessions, cfg)

    async def alerts(app: web.Application) -> AsyncIterator[None]:
        async def template_finished(message: dict[str, str]) -> bool:
            return await receipts.wechat_template_finished(sessions(), message)

        wechat().on_event = template_finished
        runner = NoticeRunner(sessions(), {NoticeChannel.CONSOLE: ConsoleAlerts(hub())}, lease=cfg.lease)
        async with running(runner.run(interval) if interval > 0 else None):
            yield

    app.cleanup_ctx.append(alerts)
