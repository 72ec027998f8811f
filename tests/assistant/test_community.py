"""Per-community knowledge: residents of two communities get their own community's figures, citing its document;
a resident of none gets the company's; searches never show another community's document."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.types import Filters, ResidentProfile
from kb.errors import KBValidationError
from kb.load import load_kb

pytestmark = pytest.mark.integration

RATES = {"CM-LHY": "3.20元/平方米·月", "CM-FLW": "2.50元/平方米·月", None: "2.80元/平方米·月"}


@pytest.mark.parametrize("question", [
    pytest.param("物业费多少钱一平", id="per-square-metre"),
    pytest.param("我们小区高层住宅的物业费收费标准是多少？", id="standard"),
    pytest.param("电梯房物业费咋收的", id="colloquial"),
])
@pytest.mark.parametrize("community", ["CM-LHY", "CM-FLW", None])
def test_each_resident_gets_their_communitys_fee_rate(service, question: str, community: str | None) -> None:
    reply = service.handle(question, profile=ResidentProfile(community=community))
    assert reply.answered, reply.text
    assert RATES[community] in reply.text
    others = [rate for c, rate in RATES.items() if c != community]
    assert not any(rate in reply.text for rate in others), reply.text
    cited = [c.ref for c in reply.citations]
    if community is None:
        assert not any(ref.startswith("CM-") for ref in cited), cited
    else:
        assert f"{community}#2" in cited, cited


@pytest.mark.parametrize(("community", "hours"), [("CM-LHY", "08:00–18:00"), ("CM-FLW", "09:00–17:00"),
                                                  (None, "08:30–17:30")])
def test_counter_hours_follow_the_community(service, community: str | None, hours: str) -> None:
    reply = service.handle("客服中心收费窗口几点开门，我想去交物业费", profile=ResidentProfile(community=community))
    assert reply.answered and hours in reply.text, reply.text


def test_a_scoped_search_never_shows_another_communitys_document(retriever) -> None:
    for query in ("枫林湾地下车位月租多少", "绿荷苑垃圾几点可以扔", "管理处电话是多少"):
        hits = retriever.run(query, top_k=20, filters=Filters(community="CM-LHY", scoped=True)).hits
        assert not any(h.chunk.community == "CM-FLW" for h in hits), query
        company = retriever.run(query, top_k=20, filters=Filters(scoped=True)).hits
        assert not any(h.chunk.community for h in company), query


def test_a_community_can_only_override_company_values(mini_kb_root: Path) -> None:
    folder = mini_kb_root / "content" / "communities"
    folder.mkdir()
    (folder / "CM-X.md").write_text("---\nid: CM-X\nname: 测试苑\naddress: 测试路1号\nvalues:\n"
                                    "  fee.rat: {value: 9}\n---\n# 测试苑\n\n## 1 收费\n物业费{{fee.rate}}。\n",
                                    encoding="utf-8")
    with pytest.raises(KBValidationError, match="not a company value") as info:
        load_kb(mini_kb_root)
    assert info.value.field == "values.fee.rat"


def test_a_community_document_fills_its_own_values_and_keeps_the_unit(mini_kb_root: Path) -> None:
    folder = mini_kb_root / "content" / "communities"
    folder.mkdir()
    (folder / "CM-X.md").write_text("---\nid: CM-X\nname: 测试苑\naddress: 测试路1号\nvalues:\n"
                                    "  fee.rate: {value: 3.5}\n---\n# 测试苑服务信息\n\n## 1 收费\n物业费{{fee.rate}}。\n",
                                    encoding="utf-8")
    kb = load_kb(mini_kb_root)
    (community,) = kb.communities
    assert community.clauses[0].text == "物业费3.5元/平方米·月。"
    assert community.clause_of("fee.rate") is not None and community.overrides == frozenset({"fee.rate"})
    assert kb.templates["FAQ-FEE-001"] == "住宅物业服务费为{{fee.rate}}。"
