"""FAQ retrieval modes (dense, BM25, hybrid) and the vector index kinds, with the real embedding model."""

from __future__ import annotations

import json

import faiss
import numpy as np
import pytest

import knowledge.vector_index as vector_index
from knowledge.config import KnowledgeConfig
from knowledge.embedder import Embedder
from knowledge.faq import FaqDoc, FaqIndex
from knowledge.fusion import MODES, zscore_fusion
from knowledge.kb import load_articles
from knowledge.service import article_docs, default_index_dir
from knowledge.vector_index import MANIFEST, VectorIndex

# Written for these tests: each query says its entry's business plainly, in other words than the entry.
FAQ = [
    FaqDoc("hours", "营业厅几点开门", "营业厅工作日九点到五点开门，周六上午营业。"),
    FaqDoc("charger", "电动汽车充电桩怎么报装", "带身份证和车位证明在网上国网申请充电桩报装。"),
    FaqDoc("trip", "家里停电了先检查什么", "先看家里的总开关有没有跳闸，再看邻居家有没有电。"),
    FaqDoc("invoice", "电费发票怎么下载", "在网上国网App的电费发票页面下载电子发票。"),
    FaqDoc("meter", "电表不走字了怎么办", "电表不计量请报修，工作人员会上门校验电能表。"),
    FaqDoc("transfer", "房子卖了怎么办理电费过户", "买卖双方带房产证和身份证到营业厅办理过户。"),
]
CLEAR = [
    ("电费的电子发票在哪里下载", "invoice"),
    ("充电桩报装要带什么证明", "charger"),
    ("营业厅周六上午营业吗", "hours"),
    ("买了二手房，电费户名怎么过户", "transfer"),
]


@pytest.fixture(scope="module")
def embedder() -> Embedder:
    return KnowledgeConfig.from_env().embedder()


@pytest.fixture(scope="module")
def faq(tmp_path_factory, embedder) -> FaqIndex:
    return FaqIndex.open(tmp_path_factory.mktemp("faq"), embedder, FAQ)


@pytest.mark.parametrize("mode", MODES)
def test_every_mode_finds_the_entry_a_clear_question_asks_for(faq, mode):
    for query, want in CLEAR:
        assert faq.search(query, 3, mode=mode)[0][0].id == want, (mode, query, faq.search(query, 3, mode=mode))


def test_mode_chosen_when_opening_is_the_default_and_unknown_modes_are_refused(tmp_path, embedder):
    index = FaqIndex.open(tmp_path, embedder, FAQ, mode="bm25")
    assert index.mode == "bm25"
    hits = index.search("电表不走字", 2)
    assert hits[0][0].id == "meter" and hits[0][1] > 1.0  # a BM25 score, not a cosine
    with pytest.raises(ValueError, match="unknown retrieval mode"):
        index.search("电表", 1, mode="sparse")
    with pytest.raises(ValueError, match="unknown retrieval mode"):
        FaqIndex.open(tmp_path, embedder, FAQ, mode="fused")


@pytest.mark.parametrize("mode", MODES)
def test_a_restricted_search_returns_only_the_allowed_entries(faq, mode):
    hits = faq.search("电费发票怎么下载", 5, allowed={"hours", "meter", "no-such-id"}, mode=mode)
    assert {d.id for d, _ in hits} <= {"hours", "meter"}
    assert faq.search("电费发票怎么下载", 5, allowed={"no-such-id"}, mode=mode) == []


def test_search_many_batches_give_the_same_answers_as_single_searches(faq):
    queries = [q for q, _ in CLEAR] * 20  # 80 queries: more than one embedding batch
    many = faq.search_many(queries, 2)
    assert [[d.id for d, _ in hits] for hits in many[:4]] == [[d.id for d, _ in faq.search(q, 2)] for q, _ in CLEAR]
    assert [hits[0][0].id for hits in many] == [want for _, want in CLEAR] * 20


def test_fusion_standardises_each_signal_so_neither_scale_decides():
    dense = np.array([0.86, 0.87, 0.88], dtype=np.float32)  # e5 cosines: a narrow band
    lexical = np.array([30.0, 0.0, 10.0], dtype=np.float32)  # BM25: a wide one
    assert np.argmax(zscore_fusion(dense, lexical, 0.6)) == 2  # best dense and second lexical beats best lexical
    assert np.argmax(0.65 * dense + 0.35 * lexical / lexical.max()) == 0  # the old sum let BM25 decide
    assert np.allclose(zscore_fusion(np.ones(3), lexical, 0.6), zscore_fusion(np.zeros(3), lexical, 0.6))


@pytest.fixture(scope="module")
def kb_vectors(embedder) -> np.ndarray:
    """The real KB passage vectors (the service's index, built or reused)."""
    kb = FaqIndex.open(default_index_dir() / embedder.name / "kb", embedder, article_docs(load_articles()))
    return kb.vectors.reconstruct(np.arange(kb.vectors.index.ntotal))


def test_hnsw_index_gives_the_exact_first_hit_on_real_vectors(kb_vectors, embedder):
    hnsw = VectorIndex.build(kb_vectors, approx_threshold=0)
    exact = VectorIndex.build(kb_vectors)
    assert isinstance(hnsw, faiss.IndexHNSWFlat) and isinstance(exact, faiss.IndexFlatIP)
    queries = embedder.queries(
        [
            "电费怎么交",
            "家里停电了怎么办",
            "峰谷电价怎么申请",
            "电表坏了找谁",
            "光伏发电怎么并网",
            "怎么查电费余额",
            "停电通知在哪看",
            "过户要带什么材料",
        ]
    )
    queries = np.vstack([queries, kb_vectors[::97]])  # and real passages as queries
    _, want = exact.search(queries, 1)
    _, got = hnsw.search(queries, 1)
    # the same passage, or one with the identical vector (a title repeated as a question ties with it)
    assert np.allclose(kb_vectors[got[:, 0]], kb_vectors[want[:, 0]])
    assert (got[:, 0] == want[:, 0]).mean() > 0.9
    assert np.allclose(VectorIndex(hnsw, {}).reconstruct(np.array([5, 7])), kb_vectors[[5, 7]])


def test_manifest_records_the_kind_and_an_index_of_the_wrong_kind_is_rebuilt(tmp_path, kb_vectors, monkeypatch):
    vectors = kb_vectors[:300]
    want = {"model": "test", "content_hash": "abc"}
    flat, rebuilt = VectorIndex.load_or_build(tmp_path, want, lambda: vectors)
    assert rebuilt and json.loads((tmp_path / MANIFEST).read_text())["kind"] == "IndexFlatIP"
    monkeypatch.setattr(vector_index, "APPROX_THRESHOLD", 100)  # 300 vectors are now "many"
    hnsw, rebuilt = VectorIndex.load_or_build(tmp_path, want, lambda: vectors)
    manifest = json.loads((tmp_path / MANIFEST).read_text())
    assert rebuilt and manifest["kind"] == "IndexHNSWFlat" and manifest["count"] == 300
    assert manifest["hnsw"]["M"] == vector_index.HNSW_M and manifest["hnsw"]["ef_search"] == vector_index.HNSW_EF_SEARCH
    again, rebuilt = VectorIndex.load_or_build(tmp_path, want, lambda: pytest.fail("an unchanged index was rebuilt"))
    assert not rebuilt and isinstance(again.index, faiss.IndexHNSWFlat)
    assert again.index.hnsw.efSearch == vector_index.HNSW_EF_SEARCH  # search setting restored after loading


def test_bm25_top_is_the_best_of_the_full_scores_and_repeated_query_terms_count_once():
    from knowledge.bm25 import BM25
    from knowledge.text import lexical_tokens

    index = BM25([lexical_tokens(d.question + d.answer) for d in FAQ])
    for query, want in CLEAR:
        terms = lexical_tokens(query)
        found, scores = index.top(terms, 3)
        assert FAQ[found[0]].id == want and list(scores) == sorted(scores, reverse=True)
        assert np.allclose(scores, index.scores(terms)[found]) and np.allclose(
            index.scores(terms * 2), index.scores(terms)
        )
        allowed = np.array([i for i, d in enumerate(FAQ) if d.id != want])
        assert want not in {FAQ[i].id for i in index.top(terms, 3, allowed)[0]}
