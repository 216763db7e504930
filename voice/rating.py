"""Satisfaction by phone keys (issue 17 item 5): when a call ends after a person served the caller (the agent hung
up, Twilio's <Enqueue> action reports the bridged call over) or after the bot served a request and said goodbye
(the stream closed, /voice/after-stream), the caller hears a short rating question and presses 1 to 5 (5 最满意,
the same scale as the chat page and WeChat). No key within 5 s, or a key that is no score: a polite goodbye.

The question and the answer are plain TwiML (<Gather> then <Say>/<Hangup>): the media stream is already closed
at that point, and Twilio collects the key itself. I/O-free; the gateway stores the rating through the back end.
"""

from __future__ import annotations

from urllib.parse import urlencode

from twilio.twiml.voice_response import Gather, VoiceResponse

PROMPT = "请对本次服务进行评价：非常满意请按5，满意请按4，一般请按3，不满意请按2，非常不满意请按1。"
THANKS = "感谢您的评价，祝您生活愉快，再见。"
GOODBYE = "感谢您的来电，再见。"
TIMEOUT_SECONDS = 5
MIN_TURNS = 2  # caller turns in a call the bot ended with a goodbye: a request and the goodbye at least
LANGUAGE = "cmn-CN"
SCORES = "12345"


def question(action_url: str) -> str:
    """Ask, wait up to 5 s for one key (sent to `action_url`); with no key, Twilio goes on to the goodbye."""
    response = VoiceResponse()
    gather = Gather(
        num_digits=1, timeout=TIMEOUT_SECONDS, action=action_url, method="POST", action_on_empty_result=False
    )
    gather.say(PROMPT, language=LANGUAGE)
    response.append(gather)
    response.say(GOODBYE, language=LANGUAGE)
    response.hangup()
    return str(response)


def action_path(contact_key: str) -> str:
    """Where the key goes, with the rating it answers (the URL is covered by Twilio's signature)."""
    return "/voice/rating?" + urlencode({"key": contact_key}, safe=":")  # as sent: nothing to re-encode


def score_of(digits: str | None) -> int | None:
    return int(digits) if digits is not None and len(digits) == 1 and digits in SCORES else None


def answered(stored: bool) -> str:
    """After the key: thanks when it was stored, else the plain goodbye."""
    response = VoiceResponse()
    response.say(THANKS if stored else GOODBYE, language=LANGUAGE)
    response.hangup()
    return str(response)
