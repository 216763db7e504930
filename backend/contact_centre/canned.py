"""常用语: canned replies an agent inserts into the reply box, and the one place their variables are filled in.

A team reply (agent_id NULL) is kept by the supervisors and offered to everybody; a personal reply belongs to
the agent who wrote it and only that agent sees or changes it. Texts may hold the variables of `VARIABLES`
({客户称呼}, {工单号}, {坐席姓名}, {户号尾号}); `render` fills them from a case, and names the ones it cannot fill
rather than sending a half-filled sentence to the customer.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import case, func, or_, select
from sqlalchemy.orm import Session, sessionmaker

from backend import models as m
from backend.contact_centre.agents import AgentInfo

MAX_TITLE = 32
MAX_TEXT = 1000
SALUTATION = "客户称呼"
ORDER_NO = "工单号"
AGENT_NAME = "坐席姓名"
ACCOUNT_TAIL = "户号尾号"
VARIABLES = (SALUTATION, ORDER_NO, AGENT_NAME, ACCOUNT_TAIL)
# what the agent is told when a variable has no value for this case (the text stays in the box for editing)
MISSING = {
    ORDER_NO: "这个会话还没有工单号，请先建单或手动填写",
    ACCOUNT_TAIL: "这个会话还没有绑定户号，请先核实户号或手动填写",
    SALUTATION: "还不知道客户怎么称呼，请手动填写",
    AGENT_NAME: "没有找到坐席姓名，请手动填写",
}
PLACEHOLDER = re.compile(r"[{｛]([^{}｛｝]{1,12})[}｝]")
MALE, FEMALE = "male", "female"

# real content, made on the first migration of any database (production included): supervisors edit them
TEAM_REPLIES = (
    ("问候", "{客户称呼}好，我是95598人工客服{坐席姓名}，很高兴为您服务。请问有什么可以帮您？"),
    ("稍等查询", "请{客户称呼}稍等，我马上为您查询，大约需要一两分钟。"),
    ("核实户号", "为了保护您的用电信息，请告诉我户号（10位数字）和户主登记手机号的后四位。"),
    ("已建工单", "已为{客户称呼}登记工单，工单号{工单号}。工作人员会尽快联系您，进度可以随时发消息问我。"),
    ("户号确认", "跟您确认一下，您办理的是尾号{户号尾号}的户号，对吗？"),
    ("停电致歉", "给{客户称呼}的生活带来不便，非常抱歉。抢修人员正在处理，恢复供电后会短信通知您。"),
    ("结束语", "请问{客户称呼}还有其他需要帮忙的吗？如果没有，感谢您的耐心，祝您生活愉快。"),
)


class CannedError(ValueError):
    """A canned reply that may not be stored as given; the message is for the agent (Chinese)."""


class NotAllowed(PermissionError):
    """Changing a team reply without being a supervisor, or a colleague's personal reply."""


@dataclass(frozen=True)
class CannedReplyInfo:
    id: int
    agent_id: int | None
    title: str
    text: str
    created_at: dt.datetime

    @property
    def team(self) -> bool:
        return self.agent_id is None

    def may_change(self, agent: AgentInfo) -> bool:
        return agent.supervisor if self.team else self.agent_id == agent.id

    def card(self, agent: AgentInfo) -> dict[str, object]:
        return {
            "id": self.id,
            "title": self.title,
            "text": self.text,
            "team": self.team,
            "editable": self.may_change(agent),
        }


def _info(r: m.CannedReply) -> CannedReplyInfo:
    return CannedReplyInfo(r.id, r.agent_id, r.title, r.text, r.created_at)


def _pictograph(ch: str) -> bool:
    return ord(ch) >= 0x1F000 or unicodedata.category(ch) == "So" or 0x2600 <= ord(ch) <= 0x27BF


def checked(title: object, text: object) -> tuple[str, str]:
    """The title and text to store, or CannedError saying in Chinese what is wrong with them."""
    if not isinstance(title, str) or not isinstance(text, str):
        raise CannedError("标题和内容都要填写文字")
    title, text = title.strip(), text.strip().replace("\r\n", "\n")
    if not title or not text:
        raise CannedError("标题和内容都不能为空")
    if len(title) > MAX_TITLE:
        raise CannedError(f"标题最多{MAX_TITLE}个字，现在是{len(title)}个字")
    if len(text) > MAX_TEXT:
        raise CannedError(f"内容最多{MAX_TEXT}个字，现在是{len(text)}个字")
    if any(_pictograph(ch) for ch in title + text):
        raise CannedError("常用语是发给客户的正式答复，请不要使用表情符号")
    if any(unicodedata.category(ch) == "Cc" and ch != "\n" for ch in title + text):
        raise CannedError("内容里有不可见的控制字符，请重新输入")
    unknown = [name for name in PLACEHOLDER.findall(text) if name not in VARIABLES]
    if unknown:
        allowed = "、".join("{" + v + "}" for v in VARIABLES)
        raise CannedError(f"不认识变量{{{unknown[0]}}}，可以用的变量有：{allowed}")
    return title, text


class CannedStore:
    """Team and personal canned replies; every change checks who is making it."""

    def __init__(self, sessions: sessionmaker[Session]):
        self._sessions = sessions

    def canned_for(self, agent: AgentInfo, query: str = "") -> list[CannedReplyInfo]:
        """The team's replies, then the agent's own, in the order written. `query` matches title or text: titles
        that start with it first, then titles holding it, then texts holding it."""
        with self._sessions() as s:
            q = select(m.CannedReply).where(or_(m.CannedReply.agent_id.is_(None), m.CannedReply.agent_id == agent.id))
            words = query.strip()[:MAX_TITLE]
            ranks = []
            if words:
                plain = words.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
                starts = m.CannedReply.title.like(plain + "%", escape="\\")
                in_title = m.CannedReply.title.like("%" + plain + "%", escape="\\")
                q = q.where(or_(in_title, m.CannedReply.text.like("%" + plain + "%", escape="\\")))
                ranks = [case((starts, 0), else_=1), case((in_title, 0), else_=1)]
            q = q.order_by(*ranks, m.CannedReply.agent_id.is_not(None), m.CannedReply.id)
            return [_info(r) for r in s.scalars(q)]

    def canned(self, reply_id: int, agent: AgentInfo) -> CannedReplyInfo | None:
        """One reply the agent may use (a team reply or their own); None for a colleague's or none at all."""
        with self._sessions() as s:
            r = s.get(m.CannedReply, reply_id)
            if r is None or (r.agent_id is not None and r.agent_id != agent.id):
                return None
            return _info(r)

    def add_canned(self, agent: AgentInfo, title: object, text: object, *, team: bool = False) -> CannedReplyInfo:
        if team and not agent.supervisor:
            raise NotAllowed("团队常用语由班长维护，您可以添加个人常用语")
        title, text = checked(title, text)
        with self._sessions.begin() as s:
            r = m.CannedReply(agent_id=None if team else agent.id, title=title, text=text)
            s.add(r)
            s.flush()
            return _info(r)

    def _mine_to_change(self, s: Session, reply_id: int, agent: AgentInfo) -> m.CannedReply | None:
        r = s.get(m.CannedReply, reply_id)
        if r is None or (r.agent_id is not None and r.agent_id != agent.id):
            return None  # a colleague's personal reply is not even there for this agent
        if not _info(r).may_change(agent):
            raise NotAllowed("团队常用语由班长维护，您可以另存为个人常用语")
        return r

    def edit_canned(self, reply_id: int, agent: AgentInfo, title: object, text: object) -> CannedReplyInfo | None:
        title, text = checked(title, text)
        with self._sessions.begin() as s:
            r = self._mine_to_change(s, reply_id, agent)
            if r is None:
                return None
            r.title, r.text = title, text
            s.flush()
            return _info(r)

    def delete_canned(self, reply_id: int, agent: AgentInfo) -> bool:
        with self._sessions.begin() as s:
            r = self._mine_to_change(s, reply_id, agent)
            if r is None:
                return False
            s.delete(r)
            return True


def ensure_team_replies(sessions: sessionmaker[Session]) -> int:
    """Writes the starting team replies into a database that has no canned replies at all; how many."""
    with sessions.begin() as s:
        if s.scalar(select(func.count(m.CannedReply.id))):
            return 0
        s.add_all(m.CannedReply(agent_id=None, title=title, text=text) for title, text in TEAM_REPLIES)
    return len(TEAM_REPLIES)


# ---- the variables, filled in one place ----


@dataclass(frozen=True)
class ReplyValues:
    """What a case knows for the variables: the bound customer's name, its latest order, the agent, the account."""

    agent_name: str
    customer_name: str | None = None
    order_no: str | None = None
    account_no: str | None = None
    gender: str | None = None  # MALE/FEMALE as the agent heard it; the CIS keeps no gender

    def salutation(self) -> str:
        """王先生 / 王女士 when the agent chose which for a customer whose name we know, else the polite 您."""
        if self.customer_name and self.gender in (MALE, FEMALE):
            return self.customer_name[:1] + ("先生" if self.gender == MALE else "女士")
        return "您"

    def as_mapping(self) -> Mapping[str, str | None]:
        return {
            SALUTATION: self.salutation(),
            ORDER_NO: self.order_no or None,
            AGENT_NAME: self.agent_name or None,
            ACCOUNT_TAIL: self.account_no[-4:] if self.account_no and len(self.account_no) >= 4 else None,
        }


@dataclass(frozen=True)
class Rendered:
    text: str  # variables with a value are filled; the others are left as {变量} for the agent to edit
    missing: tuple[str, ...]

    @property
    def message(self) -> str:
        return "；".join(MISSING[name] for name in self.missing) + ("。" if self.missing else "")


def render(text: str, values: ReplyValues) -> Rendered:
    known = values.as_mapping()
    missing: list[str] = []

    def fill(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in known:
            return match.group(0)
        value = known[name]
        if value is None:
            if name not in missing:
                missing.append(name)
            return "{" + name + "}"
        return value

    return Rendered(PLACEHOLDER.sub(fill, text), tuple(missing))


def unfilled(text: str) -> list[str]:
    """Variables still written as {变量} in a message about to be sent (never to reach the customer)."""
    names = [name for name in PLACEHOLDER.findall(text) if name in VARIABLES]
    return list(dict.fromkeys(names))
