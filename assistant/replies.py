"""Agent assist: the reply linter (banned phrases, required elements). Suggested replies: assistant/suggest.py."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from opencc import OpenCC

from kb.load import Rules

Situation = str  # "repair" | "complaint" | "emergency" | "first_contact" | "any"


@dataclass(frozen=True, slots=True)
class Finding:
    """One problem in a reply, located in the text, with the rule it breaks and a better wording."""

    rule: str
    kind: str  # banned | missing
    text: str
    start: int
    end: int
    message: str
    suggestion: str
    basis: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class LintResult:
    """The linter's verdict."""

    ok: bool
    findings: tuple[Finding, ...]


def _loose(phrase: str) -> re.Pattern[str]:
    """Match a phrase with any spacing or punctuation between its characters (不 清 楚, 不-归-我-管)."""
    chars = [re.escape(c) for c in phrase if not c.isspace()]
    return re.compile(r"[\s\W_]{0,2}".join(chars))


class ReplyLinter:
    """Checks an agent's reply against kb/rules/banned_phrases.yaml."""

    def __init__(self, rules: Rules) -> None:
        self._phrases = [(p, [_loose(v) for v in (p.phrase, *p.variants)]) for p in rules.banned.phrases]
        self._elements = rules.banned.elements
        self._t2s = OpenCC("t2s")

    def _simplified(self, text: str) -> str:
        """Traditional → simplified and full-width → half-width, keeping positions meaningful."""
        return str(self._t2s.convert(unicodedata.normalize("NFKC", text)))

    def run(self, text: str, *, situations: tuple[Situation, ...] = ("any",)) -> LintResult:
        """Find banned phrases (and their variants) and missing required elements.

        Args:
            text: The reply.
            situations: Which element sets apply, e.g. ("first_contact", "repair").

        Returns:
            ok = no finding; each finding names the rule and a suggested rewording.
        """
        text = self._simplified(text)
        findings: list[Finding] = []
        taken: list[tuple[int, int]] = []
        for phrase, patterns in self._phrases:
            for pattern in patterns:
                for m in pattern.finditer(text):
                    if any(a < m.end() and m.start() < b for a, b in taken):
                        continue
                    taken.append((m.start(), m.end()))
                    findings.append(Finding(f"banned:{phrase.phrase}", "banned", m.group(0), m.start(), m.end(),
                                            f"推诿用语「{m.group(0)}」：{phrase.reason}", phrase.rewrite,
                                            tuple(phrase.basis)))
        wanted = set(situations)
        for el in self._elements:
            if not (wanted & set(el.situations)) and "any" not in el.situations:
                continue
            if not any(c in text for c in el.cues):
                findings.append(Finding(f"missing:{el.name}", "missing", "", 0, 0, f"缺少「{el.label}」",
                                        el.suggestion, tuple(el.basis)))
        findings.sort(key=lambda f: (f.kind != "banned", f.start))
        return LintResult(not findings, tuple(findings))


_MOVED = frozenset({"CaseFacts", "Suggestion", "case_facts", "situations_for", "suggest"})


def __getattr__(name: str) -> object:
    """The suggestion code moved to assistant/suggest.py; old imports from here keep working."""
    if name in _MOVED:
        from assistant import suggest as _suggest

        return getattr(_suggest, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
