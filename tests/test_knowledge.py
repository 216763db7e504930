"""Matcher, knowledge-base retrieval, index persistence and the CLI, with the real embedding model."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from knowledge.catalog import catalog
from knowledge.config import KnowledgeConfig
from knowledge.embedder import Embedder
from knowledge.faq import FaqDoc, FaqIndex
from knowledge.kb import load_articles
from knowledge.service import Knowledge, default_index_dir
from knowledge.vector_index import INDEX_FILE, MANIFEST
from scripts.stack import ROOT

# Written for these tests (not taken from the training data, the synonyms or the benchmark files).
ROUTING = [
    ("屋里突然全黑了，空开也推不上去", "fault_repair"),
    ("条闸了推不上去怎么办", "fault_repair"),  # 条闸 = 跳闸 misheard
    ("我想查查上个月的店费是多少", "bill_query"),  # 店费 = 电费
    ("峰古电怎么申请开通", "tou_apply"),  # 峰古 = 峰谷
    ("屋顶装的光富板子想并到电网上卖电", "solar_pv"),  # 光富 = 光伏
    ("明天我们小区是不是要检修停电", "outage_query"),
    ("麻烦帮我找个真人客服", "human_agent"),
    ("楼下马路边的电线被大风刮断了垂到地上", "safety_hazard"),
    ("我家电表箱里那个表好像坏了，屏幕什么都不显示", "meter_issue"),
]
OUT_OF_SCOPE = ["燃气费在哪交", "今天天气怎么样", "帮我充一下手机话费"]


@pytest.fixture(scope="session")
def embedder() -> Embedder:
    return KnowledgeConfig.from_env().embedder()


@pytest.fixture(scope="session")
def knowledge(embedder) -> Knowledge:
    return Knowledge.load(default_index_dir(), embedder)


@pytest.mark.parametrize("text,function", ROUTING)
def test_paraphrases_and_homophones_route_to_the_right_function(knowledge, text, function):
    result = knowledge.match(text)
    assert result["functions"][0]["function"] == function, result["functions"]


def test_homophone_match_names_the_synonym_it_heard(knowledge):
    top = knowledge.match("家里条闸了")["functions"][0]
    assert top["function"] == "fault_repair" and any("跳闸" in s for s in top["matched"])


@pytest.mark.parametrize("text", OUT_OF_SCOPE)
def test_out_of_scope_is_recognised(knowledge, text):
    assert knowledge.match(text)["functions"][0]["function"] == "out_of_scope"


def test_scores_are_calibrated_bands(knowledge):
    clear = knowledge.match("我要报修，家里停电了")
    vague = knowledge.match("嗯")
    assert clear["decision"] == "confident" and clear["functions"][0]["score"] >= 0.6
    assert vague["functions"][0]["score"] < clear["functions"][0]["score"]


def test_channels_prefer_what_the_customer_uses(knowledge):
    plain = knowledge.match("怎么交电费")["functions"][0]
    mine = knowledge.match("怎么交电费", channels=["alipay"])["functions"][0]
    assert plain["function"] == mine["function"] == "payment"
    assert mine["channels"][0] == "alipay" and plain["channels"][0] != "alipay"


def test_kb_search_cites_an_article_of_the_function(knowledge):
    hits = knowledge.search("电线掉地上了怎么办", "safety_hazard", top_k=2)
    assert hits and hits[0]["function"] == "safety_hazard" and hits[0]["spoken"]
    articles = load_articles()
    assert len(articles) >= 150 and {a.function for a in articles} == set(catalog().functions)


def _faq(n: int = 4) -> list[FaqDoc]:
    base = [
        ("q1", "营业厅几点开门", "营业厅工作日九点到五点开门。"),
        ("q2", "电动车充电桩怎么报装", "带身份证和车位证明到网上国网申请。"),
        ("q3", "停电了先检查什么", "先看家里的总开关有没有跳闸。"),
        ("q4", "发票怎么下载", "在网上国网App的电费发票里下载电子发票。"),
    ]
    return [FaqDoc(i, q, a) for i, q, a in base[:n]]


def test_index_is_reused_when_nothing_changed_and_rebuilt_when_content_changes(tmp_path, embedder):
    first = FaqIndex.open(tmp_path, embedder, _faq())
    again = FaqIndex.open(tmp_path, embedder, _faq())
    assert first.rebuilt and not again.rebuilt
    changed = _faq()
    changed[0] = FaqDoc("q1", "营业厅周末开门吗", "周六上午也开门。")
    assert FaqIndex.open(tmp_path, embedder, changed).rebuilt
    assert FaqIndex.open(tmp_path, embedder, changed).search("周末营业厅开不开", 1)[0][0].id == "q1"


def test_corrupt_or_missing_index_is_rebuilt(tmp_path, embedder):
    FaqIndex.open(tmp_path, embedder, _faq())
    (tmp_path / INDEX_FILE).write_bytes(b"not a faiss index")
    assert FaqIndex.open(tmp_path, embedder, _faq()).rebuilt
    (tmp_path / MANIFEST).unlink()
    index = FaqIndex.open(tmp_path, embedder, _faq())
    assert index.rebuilt and index.search("怎么下载发票", 1)[0][0].id == "q4"


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "knowledge", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        timeout=600,
    )


def test_cli_index_search_and_match_on_any_faq_file(tmp_path):
    faq = tmp_path / "faq.jsonl"
    faq.write_text(
        "\n".join(
            json.dumps(
                {
                    "id": d.id,
                    "question": d.question,
                    "answer": d.answer,
                    "synonyms": ["充电桩安装"] if d.id == "q2" else [],
                },
                ensure_ascii=False,
            )
            for d in _faq()
        ),
        encoding="utf-8",
    )
    assert _cli("index", "--faq", str(faq), "--out", str(tmp_path / "idx")).returncode == 0
    queries = tmp_path / "q.jsonl"
    queries.write_text('{"query": "想在车位上装个充电桩"}\n{"query": "没电了先查哪里"}\n', encoding="utf-8")
    out = _cli("search", "--index", str(tmp_path / "idx"), "--queries", str(queries), "--top-k", "3", "--json")
    rows = [json.loads(line) for line in out.stdout.splitlines()]
    assert [r["results"][0]["id"] for r in rows] == ["q2", "q3"] and len(rows[0]["results"]) == 3
    lexical = _cli("search", "--index", str(tmp_path / "idx"), "--query", "充电桩怎么报装", "--mode", "bm25", "--json")
    assert json.loads(lexical.stdout)["results"][0]["id"] == "q2"
    matched = json.loads(_cli("match", "家里没电了").stdout)
    assert matched["functions"][0]["function"] == "fault_repair" and matched["functions"][0]["channels"]


def test_cli_rejects_a_malformed_faq_file(tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": 1, "question": "x"}\nnot json\n', encoding="utf-8")
    result = _cli("index", "--faq", str(bad), "--out", str(tmp_path / "idx"))
    assert result.returncode == 2 and "bad.jsonl:2" in result.stderr


def test_thesaurus_groups_let_general_synonyms_meet():
    from knowledge.text import lexical_tokens

    groups = lambda text: {t for t in lexical_tokens(text) if t.startswith("g:")}
    assert groups("这个月开销太大") & groups("费用太高")  # 开销 ~ 费用 (词林 Dj08C01)
    assert not groups("这个月开销太大") & groups("电线冒烟了")


def test_thesaurus_subset_is_cilin_synonym_groups_with_attribution():
    from knowledge.thesaurus import SUBSET, parse

    text = SUBSET.read_text(encoding="utf-8")
    assert "Apache License 2.0" in text.splitlines()[1]
    groups = parse(text.splitlines())
    assert len(groups) > 500 and all(len(m) >= 2 for m in groups.values())
