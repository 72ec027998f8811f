"""Settings of the assistant package: retrieval and (later) answering."""

from __future__ import annotations

from pydantic import BaseModel, Field


class RetrievalSettings(BaseModel):
    """How hybrid retrieval fuses dense and BM25 results, and when it gives up."""

    top_k: int = Field(5, gt=0, description="Hits returned by default")
    candidates: int = Field(200, gt=0, description="Nearest vectors fetched before fusion and filtering")
    rrf_k: int = Field(20, gt=0, description="Reciprocal-rank-fusion constant")
    dense_weight: float = Field(1.0, ge=0, description="Weight of the dense ranking in the fusion")
    sparse_weight: float = Field(0.6, ge=0, description="Weight of the BM25 ranking in the fusion")
    min_score: float = Field(0.80, ge=0, le=1, description="Best dense cosine below this → not found")


class AssistantSettings(BaseModel):
    """Everything the assistant package reads."""

    retrieval: RetrievalSettings = RetrievalSettings()
