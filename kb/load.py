"""Knowledge-base files on disk → validated, value-substituted objects.

Layout under the KB root::

    content/policies/**/*.md   articles (policy, sop, emergency_plan, regulation) with YAML front matter
    content/faq/*.yaml         FAQ entries
    content/scripts/*.yaml     standard reply scripts (标准话术)
    content/values/*.yaml      company-specific sample figures, referenced as {{key}} in any text
    content/communities/*.md   one document per community (小区): its own values (overriding the company's) in
                               the front matter, its own clauses in the body
    rules/*.yaml               triage data: urgency, routing, escalation, banned phrases, fields, dictionary,
                               advice (must-not-do actions, policy contradictions)

Clauses are numbered Markdown headings inside an article (``## 3 缴费周期`` or ``### 3.2 滞纳金``);
they are cited as ``ARTICLE-ID#3`` or ``ARTICLE-ID#3.2``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import frontmatter
import yaml
from pydantic import BaseModel, ValidationError

from kb.errors import KBValidationError
from kb.schema import (
    AdviceRules,
    ArticleMeta,
    BannedPhrases,
    CommunityMeta,
    Dictionary,
    EscalationRules,
    FaqEntry,
    FaqFile,
    OnCall,
    ReplyScript,
    RoutingRules,
    SampleValue,
    Scenario,
    ScenarioFile,
    ScriptFile,
    TicketFields,
    TurnRules,
    UrgencyRules,
    ValuesFile,
)

VALUE_REF = re.compile(r"\{\{\s*([a-z0-9_.]+)\s*\}\}")
CLAUSE_HEADING = re.compile(r"^(#{2,4})\s+(\d+(?:\.\d+)*)[.、]?\s+(.+?)\s*$")
FENCE = re.compile(r"^\s*(```|~~~)")

M = TypeVar("M", bound=BaseModel)


@dataclass(frozen=True, slots=True)
class Clause:
    """A numbered section of an article, cited as ``article_id#number``."""

    article_id: str
    number: str
    heading: str
    text: str
    heading_path: tuple[str, ...]

    @property
    def ref(self) -> str:
        """The citation key, e.g. ``POL-FEE-001#3.2``."""
        return f"{self.article_id}#{self.number}"


@dataclass(frozen=True, slots=True)
class Article:
    """A policy, SOP, emergency plan or regulation: front matter, body and its clauses."""

    meta: ArticleMeta
    body: str
    clauses: tuple[Clause, ...]
    path: Path


@dataclass(frozen=True, slots=True)
class Community:
    """A community (小区): its document, and the company's values with its own in place (``overrides``)."""

    meta: CommunityMeta
    values: dict[str, SampleValue]
    overrides: frozenset[str]
    title: str
    clauses: tuple[Clause, ...]
    templates: dict[str, str]  # clause ref → clause text before its {{values}} were filled
    path: Path

    def clause_of(self, key: str) -> Clause | None:
        """The first clause of the community's document that states value ``key``."""
        return next((c for c in self.clauses if "{{" + key + "}}" in self.templates.get(c.ref, "").replace(" ", "")),
                    None)


@dataclass(frozen=True, slots=True)
class Rules:
    """All triage data from kb/rules/."""

    urgency: UrgencyRules
    routing: RoutingRules
    escalation: EscalationRules
    banned: BannedPhrases
    fields: TicketFields
    dictionary: Dictionary
    turns: TurnRules
    advice: AdviceRules
    oncall: OnCall = field(default_factory=OnCall)


@dataclass(frozen=True, slots=True)
class KnowledgeBase:
    """Everything in the KB, validated and with sample values filled in."""

    root: Path
    articles: tuple[Article, ...]
    faqs: tuple[FaqEntry, ...]
    scripts: tuple[ReplyScript, ...]
    values: dict[str, SampleValue]
    rules: Rules
    sources: dict[str, Path] = field(default_factory=dict)
    scenarios: tuple[Scenario, ...] = ()
    communities: tuple[Community, ...] = ()
    templates: dict[str, str] = field(default_factory=dict)  # FAQ id / clause ref → text before {{values}} filled

    def community(self, community_id: str | None) -> Community | None:
        """The community with this id, or None."""
        return next((c for c in self.communities if c.meta.id == community_id), None)

    def clause_index(self) -> dict[str, Clause]:
        """Map every clause ref to its clause."""
        return {c.ref: c for a in self.articles for c in a.clauses}

    def article(self, article_id: str) -> Article | None:
        """Return the article with this id, or None."""
        return next((a for a in self.articles if a.meta.id == article_id), None)


def _read_yaml(path: Path) -> Any:
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError as exc:
        raise KBValidationError(path, "", f"not valid UTF-8 ({exc.reason} at byte {exc.start})") from exc
    except yaml.YAMLError as exc:
        raise KBValidationError(path, "", f"invalid YAML: {exc}") from exc


def _validate(model: type[M], data: Any, path: Path) -> M:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        errors = exc.errors()[:3]
        locs = [".".join(str(p) for p in err["loc"]) for err in errors]
        reasons = "; ".join(f"{loc or 'file'}: {err['msg']}" for loc, err in zip(locs, errors, strict=True))
        more = f" (and {exc.error_count() - 3} more)" if exc.error_count() > 3 else ""
        raise KBValidationError(path, ", ".join(locs), f"{reasons}{more}", located=True) from exc


def _substitute(text: str, values: dict[str, SampleValue], path: Path, where: str) -> str:
    def repl(match: re.Match[str]) -> str:
        key = match.group(1)
        if key not in values:
            raise KBValidationError(path, where, f"unknown value {{{{{key}}}}}; define it in content/values/")
        v = values[key]
        return f"{v.value}{v.unit}"

    return VALUE_REF.sub(repl, text)


def parse_clauses(article_id: str, title: str, body: str) -> tuple[Clause, ...]:
    """Split an article body into numbered clauses, keeping the heading path of each.

    Args:
        article_id: Id of the article the clauses belong to.
        title: Article title, the root of every heading path.
        body: Markdown body without front matter.

    Returns:
        The clauses in document order; text outside numbered headings is not a clause.
    """
    clauses: list[Clause] = []
    stack: list[tuple[int, str]] = []
    current: tuple[str, str, tuple[str, ...]] | None = None
    lines: list[str] = []
    in_fence = False

    def close() -> None:
        if current is not None:
            number, heading, hpath = current
            clauses.append(Clause(article_id, number, heading, "\n".join(lines).strip(), hpath))

    for line in body.splitlines():
        if FENCE.match(line):
            in_fence = not in_fence
        match = None if in_fence else CLAUSE_HEADING.match(line)
        if match is None:
            lines.append(line)
            continue
        close()
        depth, number, heading = len(match.group(1)), match.group(2), match.group(3)
        stack = [(d, h) for d, h in stack if d < depth] + [(depth, f"{number} {heading}")]
        current = (number, heading, (title, *(h for _, h in stack)))
        lines = []
    close()
    return tuple(clauses)


def load_values(root: Path) -> dict[str, SampleValue]:
    """Read every content/values/*.yaml; a key defined twice is an error."""
    merged: dict[str, SampleValue] = {}
    for path in sorted((root / "content" / "values").glob("*.yaml")):
        vf = _validate(ValuesFile, _read_yaml(path), path)
        for key, value in vf.values.items():
            if key in merged:
                raise KBValidationError(path, f"values.{key}", "defined in more than one values file")
            merged[key] = value
    return merged


def _front_matter(path: Path) -> frontmatter.Post:
    try:
        post = frontmatter.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError as exc:
        raise KBValidationError(path, "", f"not valid UTF-8 ({exc.reason})") from exc
    except yaml.YAMLError as exc:
        raise KBValidationError(path, "front matter", f"invalid YAML: {exc}") from exc
    if not post.metadata:
        raise KBValidationError(path, "front matter", "missing: the file must start with a --- YAML block")
    return post


def _numbered_clauses(path: Path, article_id: str, title: str, body: str) -> tuple[Clause, ...]:
    clauses = parse_clauses(article_id, title, body)
    if not clauses:
        raise KBValidationError(path, "body", "no numbered clauses (use headings like '## 1 适用范围')")
    numbers = [c.number for c in clauses]
    dupes = sorted({n for n in numbers if numbers.count(n) > 1})
    if dupes:
        raise KBValidationError(path, "body", f"clause numbers used twice: {dupes}")
    return clauses


def _templates(clauses: tuple[Clause, ...], raw: tuple[Clause, ...]) -> dict[str, str]:
    """Clause ref → its text before {{values}} were filled, for the clauses that use a value."""
    return {c.ref: r.text for c, r in zip(clauses, raw, strict=True) if "{{" in r.text}


def _load_article(path: Path, values: dict[str, SampleValue]) -> tuple[Article, dict[str, str]]:
    post = _front_matter(path)
    meta = _validate(ArticleMeta, post.metadata, path)
    body = _substitute(post.content, values, path, "body")
    clauses = _numbered_clauses(path, meta.id, meta.title, body)
    raw = parse_clauses(meta.id, meta.title, post.content)
    return Article(meta=meta, body=body, clauses=clauses, path=path), _templates(clauses, raw)


def _load_community(path: Path, company: dict[str, SampleValue]) -> Community:
    post = _front_matter(path)
    meta = _validate(CommunityMeta, post.metadata, path)
    values = dict(company)
    for key, override in meta.values.items():
        if key not in company:
            raise KBValidationError(path, f"values.{key}", "not a company value; a community can only set "
                                    "differently a value defined in content/values/")
        base = company[key]
        values[key] = SampleValue(value=override.value, unit=base.unit if override.unit is None else override.unit,
                                  description=override.description or f"{meta.name}：{base.description}")
    title = next((line[2:].strip() for line in post.content.splitlines() if line.startswith("# ")),
                 f"{meta.name}小区服务信息")
    body = _substitute(post.content, values, path, "body")
    clauses = _numbered_clauses(path, meta.id, title, body)
    raw = parse_clauses(meta.id, title, post.content)
    return Community(meta=meta, values=values, overrides=frozenset(meta.values), title=title, clauses=clauses,
                     templates=_templates(clauses, raw), path=path)


def load_rules(rules_dir: Path) -> Rules:
    """Read and validate every triage rule file under kb/rules/."""

    def one(name: str, model: type[M]) -> M:
        path = rules_dir / name
        if not path.is_file():
            raise KBValidationError(path, "", "rule file is missing")
        return _validate(model, _read_yaml(path), path)

    return Rules(
        urgency=one("urgency.yaml", UrgencyRules),
        routing=one("routing.yaml", RoutingRules),
        escalation=one("escalation.yaml", EscalationRules),
        banned=one("banned_phrases.yaml", BannedPhrases),
        fields=one("ticket_fields.yaml", TicketFields),
        dictionary=one("dictionary.yaml", Dictionary),
        turns=one("turns.yaml", TurnRules),
        advice=one("advice.yaml", AdviceRules),
        # the roster is optional: without it every page goes to the agent console only
        oncall=one("oncall.yaml", OnCall) if (rules_dir / "oncall.yaml").is_file() else OnCall(),
    )


def load_kb(root: Path) -> KnowledgeBase:
    """Load and validate the whole knowledge base.

    Args:
        root: The KB root (the folder holding ``content/`` and ``rules/``).

    Returns:
        The validated knowledge base.

    Raises:
        KBValidationError: A file is malformed, an id is used twice, or a ``{{value}}`` is unknown.
    """
    content = root / "content"
    if not content.is_dir():
        raise KBValidationError(content, "", "KB content folder not found")
    values = load_values(root)
    sources: dict[str, Path] = {}

    def claim(entry_id: str, path: Path, where: str) -> None:
        if entry_id in sources:
            raise KBValidationError(path, where, f"id {entry_id} is already used in {sources[entry_id]}")
        sources[entry_id] = path

    articles = []
    templates: dict[str, str] = {}
    for path in sorted((content / "policies").rglob("*.md")):
        article, raw = _load_article(path, values)
        claim(article.meta.id, path, "id")
        articles.append(article)
        templates.update(raw)

    communities = []
    for path in sorted((content / "communities").glob("*.md")):
        community = _load_community(path, values)
        claim(community.meta.id, path, "id")
        communities.append(community)

    faqs: list[FaqEntry] = []
    for path in sorted((content / "faq").glob("*.yaml")):
        ff = _validate(FaqFile, _read_yaml(path), path)
        for i, e in enumerate(ff.entries):
            claim(e.id, path, f"entries.{i}.id")
            answer = _substitute(e.answer, values, path, f"entries.{i}.answer")
            faqs.append(e.model_copy(update={"answer": answer}))
            if answer != e.answer:
                templates[e.id] = e.answer

    scripts: list[ReplyScript] = []
    for path in sorted((content / "scripts").glob("*.yaml")):
        sf = _validate(ScriptFile, _read_yaml(path), path)
        for i, s in enumerate(sf.scripts):
            claim(s.id, path, f"scripts.{i}.id")
            text = _substitute(s.text, values, path, f"scripts.{i}.text")
            scripts.append(s.model_copy(update={"text": text}))

    scenarios: list[Scenario] = []
    for path in sorted((content / "scenarios").glob("*.yaml")):
        sc = _validate(ScenarioFile, _read_yaml(path), path)
        for i, item in enumerate(sc.scenarios):
            claim(item.id, path, f"scenarios.{i}.id")
            scenarios.append(item)

    return KnowledgeBase(
        root=root,
        articles=tuple(articles),
        faqs=tuple(faqs),
        scripts=tuple(scripts),
        values=values,
        rules=load_rules(root / "rules"),
        sources=sources,
        scenarios=tuple(scenarios),
        communities=tuple(communities),
        templates=templates,
    )


def default_kb_root() -> Path:
    """The KB shipped with the project (the folder holding this module)."""
    return Path(__file__).resolve().parent


_RULE_MODELS: dict[str, type[BaseModel]] = {
    "urgency.yaml": UrgencyRules,
    "routing.yaml": RoutingRules,
    "escalation.yaml": EscalationRules,
    "banned_phrases.yaml": BannedPhrases,
    "ticket_fields.yaml": TicketFields,
    "dictionary.yaml": Dictionary,
    "advice.yaml": AdviceRules,
}


def validate_file(path: Path, root: Path) -> str:
    """Validate one KB file on its own (used while authoring); returns a one-line summary.

    Raises:
        KBValidationError: The file is malformed.
    """
    values = load_values(root)
    parts = path.resolve().relative_to(root.resolve()).parts
    if parts[:2] == ("content", "policies"):
        article, _ = _load_article(path, values)
        return f"{article.meta.id}: {len(article.clauses)} clauses"
    if parts[:2] == ("content", "communities"):
        community = _load_community(path, values)
        return f"{community.meta.id} {community.meta.name}: {len(community.overrides)} values of its own"
    if parts[:2] == ("content", "faq"):
        ff = _validate(FaqFile, _read_yaml(path), path)
        for i, e in enumerate(ff.entries):
            _substitute(e.answer, values, path, f"entries.{i}.answer")
        return f"{len(ff.entries)} FAQ entries"
    if parts[:2] == ("content", "scripts"):
        sf = _validate(ScriptFile, _read_yaml(path), path)
        return f"{len(sf.scripts)} scripts"
    if parts[:2] == ("content", "scenarios"):
        return f"{len(_validate(ScenarioFile, _read_yaml(path), path).scenarios)} scenarios"
    if parts[:2] == ("content", "values"):
        return f"{len(_validate(ValuesFile, _read_yaml(path), path).values)} values"
    if parts[0] == "rules" and path.name in _RULE_MODELS:
        _validate(_RULE_MODELS[path.name], _read_yaml(path), path)
        return "rule file ok"
    raise KBValidationError(path, "", "not a KB file location")


if __name__ == "__main__":  # authoring aid: python -m kb.load [FILE ...]
    import sys

    try:
        if len(sys.argv) > 1:
            for arg in sys.argv[1:]:
                print(f"{arg}: {validate_file(Path(arg), default_kb_root())}")
        else:
            kb = load_kb(default_kb_root())
            print(f"articles={len(kb.articles)} clauses={len(kb.clause_index())} faqs={len(kb.faqs)} "
                  f"scripts={len(kb.scripts)} values={len(kb.values)}")
    except KBValidationError as exc:
        sys.exit(f"error: {exc}")
