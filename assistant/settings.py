"""Settings of the assistant package: retrieval and (later) answering."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field, SecretStr


class RetrievalSettings(BaseModel):
    """How hybrid retrieval fuses dense and BM25 results, and when it gives up."""

    top_k: int = Field(5, gt=0, description="Hits returned by default")
    candidates: int = Field(200, gt=0, description="Nearest vectors fetched before fusion and filtering")
    rrf_k: int = Field(20, gt=0, description="Reciprocal-rank-fusion constant")
    dense_weight: float = Field(1.0, ge=0, description="Weight of the dense ranking in the fusion")
    sparse_weight: float = Field(0.6, ge=0, description="Weight of the BM25 ranking in the fusion")
    min_score: float = Field(0.91, ge=0, le=1, description="Best dense cosine at or above this → found")
    min_score_with_terms: float = Field(
        0.88, ge=0, le=1, description="…or at least this when the best hit also matches on words (see min_bm25)")
    min_bm25: float = Field(8.0, ge=0, description="BM25 score of the best hit that counts as a word match")
    curated_min_score: float = Field(
        0.94, ge=0, le=1, description="A curated answer (an agent's, approved) whose cosine with the question reaches "
        "this is returned as written, ahead of the other entries")
    grounding: bool = Field(True, description="Also require the best entry to mention the question's content words "
                            "(see assistant/grounding.py); off = the cosine floor alone decides")
    min_coverage: float = Field(0.35, ge=0, le=1, description="Grounded when the entry mentions at least this share "
                                "of the question's content-word weight…")
    max_uncovered: float = Field(20.0, ge=0, description="…or when the weight it leaves unmentioned is below this "
                                 "(a specific word weighs about 10–15)")


class GapSettings(BaseModel):
    """The content-gap report: how questions the KB failed on are grouped and ranked."""

    threshold: float = Field(0.92, gt=0, le=1, description="Cosine similarity at which two questions are the same "
                             "(best pairwise F1 on the KB's own paraphrase groups, eval/bench_gaps.py)")
    method: Literal["average", "sphere"] = Field("average", description="average: agglomerative, average linkage "
                                                  "(better groups, O(n²) memory); sphere: Butina sphere exclusion "
                                                  "(faster, less memory)")
    half_life_days: float = Field(30.0, gt=0, description="A gap counts half as much in the ranking after this many "
                                                          "days (volume weighted for recency)")
    window_days: int = Field(90, gt=0, description="Gaps older than this are left out of the report")
    max_questions: int = Field(5000, gt=0, le=50_000, description="At most this many (the newest) are clustered")
    top: int = Field(20, gt=0, le=500, description="Clusters described in the report")
    examples: int = Field(5, gt=0, le=20, description="Example wordings shown per cluster")


class LLMSettings(BaseModel):
    """Optional LLM through any OpenAI-compatible endpoint (llama.cpp, Ollama, vLLM). Off when base_url is unset."""

    base_url: str | None = Field(None, description="e.g. http://127.0.0.1:11434/v1; unset = extractive answers only")
    model: str = Field("qwen2.5:7b-instruct", description="Model name at that endpoint")
    api_key: SecretStr = Field(SecretStr("not-needed"), description="Key for the endpoint, if it wants one")
    timeout: float = Field(8.0, gt=0, description="Seconds before falling back to the extractive answer")


class TriageSettings(BaseModel):
    """The semantic recall net for level 1 and the labelled precedents, on top of the rules."""

    similarity: bool = Field(False, description="Also compare messages with the level-1 examples and cues in kb/rules "
                             "(off by default: the precedents recall level 1 with fewer false alarms on real messages)")
    similarity_floor: float = Field(0.91, ge=0, le=1, description="Cosine to a level-1 example that counts")
    similarity_margin: float = Field(0.005, ge=-1, le=1, description="…and by how much it must beat levels 2–4")
    precedents: bool = Field(True, description="Also let the nearest labelled messages "
                                               "(kb/rules/precedents.jsonl) vote")
    precedents_k: int = Field(7, gt=0, le=50, description="How many nearest labelled messages vote")
    level1_share: float = Field(0.4, gt=0, le=1, description="Share of level-1 precedents that raises a message to 1")
    category_share: float = Field(0.5, gt=0, le=1, description="Share of precedents that overrides the rules' category")
    urgency_share: float = Field(0.5, gt=0, le=1, description="Share of precedents that overrides a level 2–4")


class NotifySettings(BaseModel):
    """Where pages to people on call go besides the agent console (kb/rules/oncall.yaml picks each person's channel).

    Secrets are ``SecretStr``: they never appear in logs, errors or ``wuye config``.
    """

    timeout: float = Field(5.0, gt=0, description="Seconds per HTTP call to a provider")
    webhook_url: str | None = Field(None, description="POST target for channel `webhook` (JSON, HMAC-signed)")
    webhook_secret: SecretStr = Field(SecretStr(""), description="HMAC-SHA256 key for X-Wuye-Signature")
    sms_url: str | None = Field(None, description="SMS gateway endpoint for channel `sms` (JSON {phone, text})")
    sms_key: SecretStr = Field(SecretStr(""), description="Bearer key of the SMS gateway")
    wecom_base_url: str = Field("https://qyapi.weixin.qq.com", description="WeChat Work API (a stand-in in tests)")
    wecom_corp_id: str | None = Field(None, description="企业ID (corp id) for channel `wecom`")
    wecom_agent_id: int | None = Field(None, description="The self-built application's AgentId")
    wecom_secret: SecretStr = Field(SecretStr(""), description="The application's Secret")


class AssistantSettings(BaseModel):
    """Everything the assistant package reads."""

    triage: TriageSettings = TriageSettings()
    notify: NotifySettings = NotifySettings()
    database_url: str = Field("sqlite:///var/wuye.db", description="SQLAlchemy URL; PostgreSQL works too")
    db_pool_size: int = Field(20, ge=1, description="Database connections kept open per worker")
    db_max_overflow: int = Field(30, ge=0, description="Extra connections under load (pool + overflow ≥ the "
                                 "server's 40 request threads, so no request waits for a connection)")
    db_pool_timeout: float = Field(10.0, gt=0, description="Seconds a request waits for a connection, then 503")
    retrieval: RetrievalSettings = RetrievalSettings()
    llm: LLMSettings = LLMSettings()
    gaps: GapSettings = GapSettings()
    sla_interval: float = Field(30.0, gt=0, description="Seconds between SLA monitor passes (pages, held updates "
                                "and channel messages go out in the same pass)")
    quiet_hours: str | None = Field(
        None, pattern=r"^(off|([01]\d|2[0-3]):[0-5]\d-([01]\d|2[0-3]):[0-5]\d)$",
        description="Overrides the kb value chat.quiet_hours (HH:MM-HH:MM local time, or 'off'): non-urgent "
                    "updates to residents that come up inside it wait until it ends; unset = the kb value")
