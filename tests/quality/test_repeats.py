"""customer_repeats, third pass: the same request restated in other words
(找你们领导 / 叫你们领导来 / 让你们领导跟我说), typed or spoken (voice transcripts carry no
punctuation), against conversations that move on: answers to the bot's questions, an address given in
parts, a second request, acknowledgements. Written before the rule was changed; `measure()` gives the
share caught and the share kept clean, also on the dialogue benchmark's conversations and on triples of
the emotion training turns:

    scripts/with-env.sh '$APP_PY -c "from tests.quality.test_repeats import measure; print(measure())"'
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.quality.test_checks_paraphrases import repeats

ROOT = Path(__file__).resolve().parents[2]

RESTATED = [
    ("找你们领导", "叫你们领导来", "让你们领导跟我说"),
    ("我已经交过电费了", "电费我交过了", "我交了啊，昨天就交了"),
    ("电来了没有", "还是没电", "怎么还没来电啊"),
    ("喂 我要找人工", "人工 人工 给我接个人", "转个人工行不行"),
    ("你们什么时候来修", "修的人什么时候到", "师傅啥时候能到啊"),
    ("我家没电了 整个屋都黑了", "屋里一点电都没有", "家里全黑了 没电"),
    ("电费不对，多扣了", "你们多扣我钱了", "扣费扣多了！"),
    ("我要投诉那个抢修师傅", "那个师傅态度太差我要投诉他", "投诉这个师傅"),
    ("帮我查查欠了多少钱", "我欠多少电费", "欠费是多少啊"),
    ("电表是不是坏了 走得太快", "这表走得也太快了吧", "电表走字太快了 是不是有问题"),
    ("能不能先给我送电", "先把电给我恢复了行吗", "先送电再说"),
    ("不要跟我说这些 我就要人工", "我不听这些，转人工", "别说了，我要人工"),
    ("那个 我想问一下 电费为什么这么贵", "这个月电费咋这么贵呢", "电费贵得离谱 怎么回事"),
    ("我家电压低 灯很暗", "灯特别暗，电压不够", "电压太低了灯都亮不起来"),
    ("你们到底管不管", "到底有没有人管", "这事你们管不管啊"),
    ("停电了什么时候恢复", "啥时候能恢复", "多久才能恢复啊"),
    ("我刚才说了 跳闸了推不上", "总闸推不上去", "闸合不上啊"),
    ("多交的钱退给我", "我要退钱", "把钱退给我"),
    ("叫个人过来看看", "派人来看一下", "你们来个人看看吧"),
    ("找你们经理", "我要跟你们负责人说", "让你们管事的来"),
]

MOVES_ON = [
    ("我家停电了", "城东区", "和平路12号", "3单元502"),
    ("和平路", "12号", "3单元", "502室"),
    ("我要报修", "没有冒烟", "就我一家没电", "电话13912340001"),
    ("电费怎么这么高", "能不能分期交", "交了以后多久到账"),
    ("好的", "嗯", "好的好的", "嗯嗯", "行"),
    ("嗯 是的", "对 是我", "嗯 好的 谢谢"),
    ("我要交电费", "交费后多久来电", "来电后要不要重新合闸"),
    ("帮我看下欠费", "再看下上个月用了多少度", "峰谷电怎么申请"),
    ("我叫李秀英", "尾号0002", "户号3201000002"),
    ("电表在楼道里", "电表箱锁着", "钥匙在物业"),
    ("什么时候来修", "师傅到了给我打电话", "我下午三点以后在家"),
    ("我上个月交了200", "这个月又交了100", "怎么余额还是负的"),
    ("好的 谢谢", "没有了", "再见"),
    ("喂 你好", "我家没电了", "嗯 对", "是的 和平路12号"),
    ("我要办峰谷电", "峰谷电的价格是多少", "办了以后什么时候生效"),
    ("电来了没有", "好 电来了 谢谢", "那下次停电会提前通知吗"),
    ("我要找人工", "好的我等一下", "是 我是户主本人"),
    ("交过电费了", "用的支付宝", "交了300"),
    ("找你们领导", "领导什么时候回电话", "我的电话是13912340001"),
    ("灯一闪一闪的", "冰箱也停了", "空调也开不了"),
]


@pytest.mark.parametrize("texts", RESTATED, ids=lambda t: "/".join(t))
def test_a_request_restated_in_other_words_three_times_is_a_repeat(texts: tuple[str, ...]) -> None:
    assert repeats(texts)


@pytest.mark.parametrize("texts", MOVES_ON, ids=lambda t: "/".join(t))
def test_a_conversation_that_moves_on_is_not_a_repeat(texts: tuple[str, ...]) -> None:
    assert not repeats(texts)


def dialogue_conversations() -> list[tuple[str, ...]]:
    """The customer turns of the dialogue benchmark's scripted conversations (a request, then details)."""
    found = []
    for path in sorted((ROOT / "benchmarks/dialogue/conversations").glob("*.yml")):
        for conversation in yaml.safe_load(path.read_text(encoding="utf-8")) or []:
            turns = [t if isinstance(t, str) else str(t.get("text", "")) for t in conversation.get("turns", [])]
            found.append(tuple(turns))
    return found


def emotion_triples(count: int = 300) -> list[tuple[str, ...]]:
    """Three different customer turns of the emotion training set, drawn with a fixed seed."""
    data: Any = yaml.safe_load((ROOT / "quality/data/emotion_train.yml").read_text(encoding="utf-8"))
    texts = sorted({str(e["text"]) for e in data["examples"]})
    draw = random.Random(20)
    return [tuple(draw.sample(texts, 3)) for _ in range(count)]


def measure() -> dict[str, float]:
    def share(sets: Sequence[tuple[str, ...]], flagged: bool) -> float:
        return round(sum(repeats(s) == flagged for s in sets) / len(sets), 3)

    return {
        "restated_caught": share(RESTATED, True),
        "moves_on_clean": share(MOVES_ON, False),
        "dialogue_clean": share(dialogue_conversations(), False),
        "emotion_triples_clean": share(emotion_triples(), False),
    }
