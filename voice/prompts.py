"""What the gateway itself says (greeting, outage notice, menu, no-input) and how bot messages are spoken.

Short, polite, spoken-style Chinese. Numbers and times are written the way the bot writes them; reading
them aloud (digit by digit for numbers, 幺 for 1 …) is the TTS package's normalisation.
"""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from backend.cis import STATUS_LABELS, CustomerInfo, OutageInfo
from backend.cis.interface import SUSPECTED
from backend.customer_insight import ELDERLY
from backend.spoken import spoken_time
from channels import wording
from voice.dtmf import MONTH_KEYS

ROOT = Path(__file__).resolve().parent.parent
DOMAIN = ROOT / "bot" / "domain"  # responses.yml and the forms' questions generated from the catalog (functions.yml)
CATALOG = ROOT / "catalog" / "service_functions.yml"

WELCOME = wording.WELCOME.voice
MENU = "请直接说出您要办理的业务，也可以按键：报修请按1，查电费请按2，停电查询请按3，人工服务请按0。"
MENU_SHORT = "请问有什么可以帮您？您可以直接说，也可以按1报修、按2查电费、按3查停电、按0转人工。"
# Known elderly callers (the insight tag 老年): three choices, each its own short sentence, so every one is
# followed by a full pause; the other keys still work (voice.dtmf.MENU).
SIMPLE_REPAIR = "报修，请按1。"
SIMPLE_AGENT = "找人工客服，请按0。"
SIMPLE_MENU = "您要办什么，可以直接告诉我。" + SIMPLE_REPAIR + "查电费，请按2。" + SIMPLE_AGENT
# …and an outage in their area: what it means for them in short plain sentences (no area name, no reason),
# when power is back, then two choices. Keyed by OutageInfo.kind.
SIMPLE_OUTAGE = {
    "fault": "您那里现在停电了，正在抢修。",
    "planned": "您那里现在是计划停电，正在检修。",
    SUSPECTED: "您那里可能停电了。我们正在核实，会尽快安排抢修。",
}
SIMPLE_OUTAGE_CHOICES = "如果只有您家没电，要" + SIMPLE_REPAIR + SIMPLE_AGENT
SIMPLE_SPEED = 0.85  # the simple menu's callers hear the whole call at this speed where the TTS engine allows it
DTMF_ONLY = "目前语音识别暂时不可用，请用按键操作。"
NO_INPUT = ("您还在吗？请说出您要办理的业务。", "您还在吗？请说出您要办理的业务，或者按0转人工。")
NO_INPUT_GOODBYE = "很抱歉，一直没有听到您的声音。如需帮助，请再次拨打95598。感谢您的来电，再见。"
UNKNOWN_KEY = "不好意思，这个按键没有对应的业务。" + MENU_SHORT.split("？", 1)[1]
UNKNOWN_KEY_SIMPLE = "不好意思，这个按键没有对应的业务。" + SIMPLE_MENU.split("。", 1)[1]
RESUME = "您上次的业务还没有办完，我们接着来。"
TOO_MANY_CALLS = "您的来电过于频繁，请稍后再拨。"
BOT_UNAVAILABLE = wording.BUSY.voice
FIXED = (WELCOME + MENU, WELCOME + DTMF_ONLY + MENU, *NO_INPUT, NO_INPUT_GOODBYE, UNKNOWN_KEY, BOT_UNAVAILABLE)
# "G 2611 2300 042" as the bot writes a work-order number: joined, so TTS reads it digit by digit as a code
SPACED_CODE = re.compile(r"(?<![A-Za-z\d])([A-Z]) ?(\d{4}) ?(\d{4}) ?(\d{3})(?!\d)")


def bot_responses(folder: Path = DOMAIN) -> list[str]:
    """The bot's fixed responses (every file of bot/domain) as they are spoken: worth rendering ahead."""
    responses: dict = {}
    for path in sorted(folder.glob("*.yml")):
        try:
            responses.update((yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("responses") or {})
        except OSError:
            continue
    return [
        spoken_message(v)
        for variants in responses.values()
        for v in variants or []
        if isinstance(v, dict) and v.get("text") and "{" not in v["text"]
    ]


def reply_phrases(catalog: Path = CATALOG) -> list[str]:
    """Words the actions put between live numbers besides the fixed lead-ins: the service functions'
    names (…的故障报修工单G…) and the work-order statuses (目前处理中), rendered as clips too."""
    try:
        functions = (yaml.safe_load(catalog.read_text(encoding="utf-8")) or {}).get("functions") or []
    except OSError:
        functions = []
    return [str(f["name"]) for f in functions if f.get("name")] + list(STATUS_LABELS.values())


def address_of(customer: CustomerInfo, gender: str | None = None) -> str:
    """How to address a known caller: 尊敬的王先生 only when the gender is known, else the full name."""
    if gender in ("male", "男"):
        return f"尊敬的{customer.surname}先生，您好"
    if gender in ("female", "女"):
        return f"尊敬的{customer.surname}女士，您好"
    return f"{customer.name}您好"


def wants_simple_menu(customer: CustomerInfo | None) -> bool:
    """A known caller the insight jobs tag 老年 (the gateway's customer facts carry those tags)."""
    return customer is not None and ELDERLY in customer.tags


def back_on(outage: OutageInfo) -> str:
    """When power is expected back (both notices end with it)."""
    return f"预计{spoken_time(outage.expected_end)}恢复供电。"


def outage_notice(outage: OutageInfo) -> str:
    if outage.kind == SUSPECTED:  # a surge of calls from the area, not confirmed yet: no reason, no time
        return wording.SUSPECTED_OUTAGE.voice.format(area=outage.area_name)
    kind = "计划停电" if outage.kind == "planned" else "故障停电"
    return f"您所在的{outage.area_name}目前有{kind}，原因是{outage.reason}，" + back_on(outage)


def simple_outage_notice(outage: OutageInfo) -> str:
    """The outage told to a caller who gets the simple menu: "您那里现在停电了，正在抢修。预计…恢复供电。"."""
    said = SIMPLE_OUTAGE.get(outage.kind, SIMPLE_OUTAGE["fault"])
    return said if outage.kind == SUSPECTED else said + back_on(outage)  # a suspected outage has no time yet


def greeting(
    customer: CustomerInfo | None,
    outage: OutageInfo | None,
    *,
    dtmf_only: bool = False,
    resume_question: str | None = None,
) -> str:
    """The first thing a caller hears: known callers by name, an outage in their area before anything else
    (in short plain sentences, and the simple choices after it, for a caller who gets the simple menu).

    `resume_question`: the caller hung up in the middle of a form; it goes on where it stopped.
    """
    hello = f"{address_of(customer)}，{wording.INTRODUCTION}" if customer else WELCOME
    hello += DTMF_ONLY if dtmf_only else ""
    simple = wants_simple_menu(customer)
    notice = ""
    if customer and outage:
        notice = simple_outage_notice(outage) if simple else outage_notice(outage)
    if resume_question:
        text = hello + notice + RESUME + resume_question
    elif notice and simple:
        text = hello + notice + SIMPLE_OUTAGE_CHOICES
    elif notice:
        text = (
            hello + notice + "抢修人员正在处理，请您耐心等待。如果您家停电和这个情况不一样，比如邻居家都有电，"
            "请说“报修”或者按1，我帮您登记。还有别的需要，请直接说。"
        )
    else:
        text = hello + (SIMPLE_MENU if simple else MENU_SHORT if customer else MENU)
    return text


def spoken_message(message: dict) -> str:
    """A Rasa bot message as it is said: the text, then its buttons as a short list of options."""
    text = SPACED_CODE.sub(lambda m: "".join(m.groups()), str(message.get("text") or "").strip())
    titles = [str(b.get("title") or "").strip() for b in message.get("buttons") or []]
    titles = [t for t in titles if t][:4]
    if titles:
        options = "、".join(f"“{t}”" for t in titles[:-1]) + ("，或者" if len(titles) > 1 else "") + f"“{titles[-1]}”"
        text += f"您可以说{options}。"
    if "要查哪个月" in text:  # the month can be keyed in too (voice.dtmf.MONTH)
        text += MONTH_KEYS
    return text
