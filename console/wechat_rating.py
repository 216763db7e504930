"""Satisfaction on WeChat: after the end-of-service question (console/satisfaction.py sends it as text), a reply
that is a score ("5", "很满意", "一般", "4 处理得很快") answers the open rating and is thanked; any other text,
and any text when no rating is open, goes to the bot as usual. Scores read as on the SMS follow-up survey
(backend.survey_scale: 5 非常满意 … 1 非常不满意)."""

from __future__ import annotations

import asyncio
import logging
import secrets

from backend.contact_centre import Channel
from backend.survey_scale import survey_reply
from channels.rasa import RasaUnavailable
from console.hub import Hub

log = logging.getLogger(__name__)
THANKS = "感谢您的评价，我们会继续改进。"


class WeChatRatings:
    def __init__(self, hub: Hub):
        self.hub = hub

    async def take(self, channel_user: str, text: str) -> str | None:
        """The thanks when `text` answered an open rating of the customer's conversation, else None."""
        reply = survey_reply(text)
        if reply is None:
            return None
        contact = self.hub.contact
        conversation = await asyncio.to_thread(contact.conversation_of, channel_user)
        pending = await asyncio.to_thread(contact.pending, conversation)
        if pending is None:
            return None
        score, comment = reply
        await asyncio.to_thread(contact.answer, pending.contact_key, score, comment)
        meta = {
            "channel": Channel.WECHAT,
            "system": True,
            "shown_as": "system",
            "message_id": f"s-{secrets.token_hex(6)}",
            "rating": pending.contact_key,
            "score": score,
        }
        try:  # the conversation's record shows the customer was thanked (the score itself is in the ratings)
            await self.hub.rasa.append(conversation, [{"event": "bot", "text": THANKS, "metadata": meta}])
        except RasaUnavailable:  # the score is stored; a missing line in the record is not worth an error
            log.warning("thanks for rating %s not written to the conversation", pending.contact_key)
        return THANKS
