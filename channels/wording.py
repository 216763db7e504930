"""What the channels themselves say to customers (the bot's replies live with the bot: bot/domain/responses.yml
and the actions). Each sentence is written once, its screen and phone variants side by side: a screen never
hears 请说 / 按键, a caller is never told to 发消息."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Sentence:
    chat: str  # web chat and WeChat
    voice: str  # the phone line

    def on(self, channel: str) -> str:
        return self.voice if channel == "voice" else self.chat


INTRODUCTION = "这里是95598智能客服。"
WELCOME = Sentence(
    chat=f"您好，{INTRODUCTION}停电报修、电费查询、缴费、业务办理都可以直接告诉我。", voice=f"您好，{INTRODUCTION}"
)  # on the phone the menu follows (voice.prompts)
BUSY = Sentence(
    chat="不好意思，系统有点忙，请稍后再发一次，也可以拨打95598热线。",
    voice="不好意思，系统有点忙，请稍后再说一遍，或者按0转人工。",
)
TOO_FAST = "您发得太快了，请稍等一下再发。"  # chat and WeChat: more messages than a person types
STILL_WAITING = Sentence(  # a customer writes while waiting for a person: their place, at most every half minute
    chat="请您稍等，{ahead}。您的留言客服接入后都能看到。",
    voice="请您稍等，{ahead}。",
)
AHEAD_NONE = "您已经排在第一位，客服马上接入"
AHEAD = "您前面还有{n}位客户"
CUT_SHORT = "您的消息比较长，我先看了前{n}个字；其余的可以分几次发给我。"
SUSPECTED_OUTAGE_SEEN = "您所在的{area}疑似发生停电，我们正在核实并安排抢修。"  # as a repair is filed anyway
SUSPECTED_OUTAGE = Sentence(  # an open surge incident (analytics.surge) in the customer's area, told first
    chat=SUSPECTED_OUTAGE_SEEN.removesuffix("。") + "，暂不需要重复报修。",
    voice=SUSPECTED_OUTAGE_SEEN.removesuffix("。") + "，暂时不需要重复报修。",
)
