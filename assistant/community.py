"""Per-community answers: a KB text filled with the resident's community's values, citing its document.

The KB states every company figure once as ``{{key}}`` (kb/content/values/); a community's document
(kb/content/communities/) sets some of them differently. The index keeps each chunk's text before its values were
filled (``Chunk.template``); for a resident of a community the answer is filled again with that community's values,
and each value it sets differently is cited by the clause of its document that states it.
"""

from __future__ import annotations

from dataclasses import dataclass

from ingest.chunk import Chunk
from kb.load import VALUE_REF, Community, KnowledgeBase


@dataclass(frozen=True, slots=True)
class Localized:
    """A chunk's text for one community, and the clauses of its document behind the values that differ."""

    text: str
    refs: tuple[str, ...]


class Localizer:
    """Fills chunks with one community's values (the company's where it sets none)."""

    def __init__(self, kb: KnowledgeBase, community_id: str | None) -> None:
        self.community: Community | None = kb.community(community_id)

    def __call__(self, chunk: Chunk) -> Localized:
        """The chunk's text for this community (unchanged without a community or a template)."""
        c = self.community
        if c is None or not chunk.template or chunk.community is not None:
            return Localized(chunk.text, ())
        keys = [m.group(1) for m in VALUE_REF.finditer(chunk.template)]
        if not any(k in c.overrides for k in keys) or any(k not in c.values for k in keys):
            return Localized(chunk.text, ())

        def value(match: object) -> str:
            v = c.values[match.group(1)]  # type: ignore[attr-defined]
            return f"{v.value}{v.unit}"

        refs = []
        for key in dict.fromkeys(k for k in keys if k in c.overrides):
            clause = c.clause_of(key)
            refs.append(clause.ref if clause is not None else c.clauses[0].ref)
        return Localized(VALUE_REF.sub(value, chunk.template), tuple(dict.fromkeys(refs)))
