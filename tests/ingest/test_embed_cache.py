"""The torch backend's query-embedding cache and single-query fast path (the int8 one: test_embed_onnx.py)."""

import numpy as np
import pytest

pytestmark = pytest.mark.integration


def test_a_repeated_query_is_served_from_the_cache(torch_embedder) -> None:  # type: ignore[no-untyped-def]
    first = torch_embedder.embed_queries(["楼上漏水到我家了怎么办（缓存测试）"])
    again = torch_embedder.embed_queries(["楼上漏水到我家了怎么办（缓存测试）"])
    assert again is first
    with pytest.raises(ValueError):
        first[0, 0] = 1.0
    batch = torch_embedder.embed_queries(["楼上漏水到我家了怎么办（缓存测试）", "物业费多少"])
    assert np.allclose(batch[0], first[0], atol=1e-5)  # the batch path computes the same vector


@pytest.mark.parametrize("text", ["物业费多少钱一平", "電梯壞了有人被困", "lift stuck 有人被困 help", "漏" * 600])
def test_the_single_query_fast_path_equals_sentence_transformers_encode(torch_embedder, text: str) -> None:  # type: ignore[no-untyped-def]
    assert torch_embedder.fast_path()  # the bundled model takes the fast path, not the fallback
    fast = torch_embedder._encode_one("query: " + text)
    reference = torch_embedder._loaded.encode(["query: " + text], normalize_embeddings=True, convert_to_numpy=True)
    assert fast.shape == (1, 384)
    assert np.allclose(fast, reference, atol=1e-5)
