"""The ONNX Runtime embedder against the torch model it was exported from (same folder, same prefixes)."""

from __future__ import annotations

import numpy as np
import pytest

from knowledge.config import KnowledgeConfig
from knowledge.embedder import Embedder
from knowledge.model_convert.onnx_export import ONNX_FILE

# Written for this test: short hotline turns, long complaints, mixed script, digits, emoji.
TEXTS = [
    "停电了",
    "我家从昨天晚上开始就一直没电，邻居家都有电，是不是我家线路出问题了",
    "查一下3201000002的电费",
    "转人工",
    "电费怎么这么贵啊？？",
    "光伏并网要准备哪些材料",
    "楼下配电箱冒烟了😱",
    "APP上交费失败了怎么办",
    "峰谷电价几点到几点算谷电",
    "谢谢，没别的事了",
]


@pytest.fixture(scope="module")
def pair() -> tuple[Embedder, Embedder]:
    onnx = KnowledgeConfig.from_env().embedder()
    if onnx.backend != "onnx":
        pytest.fail(f"the model folder has no {ONNX_FILE}: knowledge.model_convert should have written it")
    return onnx, Embedder(onnx.model_dir, backend="torch")


def test_onnx_vectors_match_the_torch_model(pair):
    onnx, torch = pair
    for kind in ("queries", "passages"):
        a, b = getattr(onnx, kind)(TEXTS), getattr(torch, kind)(TEXTS)
        cos = (a * b).sum(axis=1)
        assert cos.min() >= 0.999, dict(zip(TEXTS, cos.round(4)))
        assert np.allclose(np.linalg.norm(a, axis=1), 1.0, atol=1e-3)


def test_batched_and_single_encodings_agree(pair):
    onnx, _ = pair
    batched = onnx.passages(TEXTS)
    single = np.stack([onnx.passages([t])[0] for t in TEXTS])
    assert (batched * single).sum(axis=1).min() >= 0.999  # padding does not leak into the mean


def test_repeated_queries_come_from_the_cache(pair):
    onnx, _ = pair
    first = onnx.queries(["我家停电了，什么时候来电"])
    cached = onnx.cache.get(onnx.query_prefix + "我家停电了，什么时候来电")
    assert cached is not None and np.array_equal(first[0], cached)
    assert np.array_equal(onnx.queries(["我家停电了，什么时候来电"]), first)


def test_backends_name_their_indexes_apart(pair):
    onnx, torch = pair
    assert onnx.name != torch.name  # an index written by one is rebuilt, not reused, by the other
