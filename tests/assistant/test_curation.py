"""The KB improvement loop on the real assistant and a real database: what is recorded as a gap, votes, corrections,
and the gap report grouping the same question asked in different words."""

from __future__ import annotations

import pytest
import yaml

from assistant import curation
from assistant.desk import handle_turn
from assistant.errors import CorrectionError, TurnNotFoundError
from assistant.gaps import GapReporter
from assistant.settings import GapSettings
from assistant.store import feedback
from assistant.store import repository as repo

pytestmark = pytest.mark.integration


def _resident(session, community: str | None = None) -> int:  # type: ignore[no-untyped-def]
    return repo.add_resident(session, name="王女士", phone="13912345678", address="3栋2单元501室",
                             community=community).id


@pytest.mark.parametrize("question", [
    pytest.param("小区能不能装一个电动汽车的换电站？", id="battery-swap"),
    pytest.param("小区游泳池夏天几点开门", id="swimming-pool"),
    pytest.param("小区里有没有自习室", id="study-room"),
])
def test_a_question_the_kb_does_not_cover_is_recorded_with_why(sessions, service, question: str) -> None:
    with sessions.begin() as session:
        rid = _resident(session)
        reply, turn = handle_turn(session, service, text=question, resident_id=rid)
        assert not reply.answered
        rows = feedback.gaps(session)
    assert [(g.kind, g.question, g.turn_id) for g in rows] == [("not_found", question, turn.id)]
    detail = rows[0].detail
    assert detail["found"] is False
    assert "below the floor" in detail["reason"] or "does not answer" in detail["reason"]
    assert detail["nearest"] and all(n["ref"] and n["dense"] > 0 for n in detail["nearest"])
    assert rows[0].vector is not None and len(rows[0].vector) == 4 * 384


@pytest.mark.parametrize("text", [
    pytest.param("明天会下雨吗", id="off-topic"),
    pytest.param("物业费多少钱一平", id="answered"),
    pytest.param("厨房水管爆了，水一直往外喷", id="emergency-report"),
    pytest.param("你好", id="greeting"),
])
def test_answers_reports_and_small_talk_are_not_gaps(sessions, service, text: str) -> None:
    with sessions.begin() as session:
        handle_turn(session, service, text=text, resident_id=_resident(session))
        assert feedback.gaps(session) == []


def test_asking_for_a_person_right_after_an_answer_records_that_question(sessions, service) -> None:
    with sessions.begin() as session:
        rid = _resident(session)
        reply, first = handle_turn(session, service, text="装修押金什么时候退", resident_id=rid)
        assert reply.answered
        handle_turn(session, service, text="转人工", conversation_id=first.conversation_id, resident_id=rid)
        rows = feedback.gaps(session)
    assert [(g.kind, g.turn_id, g.question) for g in rows] == [("handoff", first.id, "装修押金什么时候退")]
    assert "asked for a person" in rows[0].detail["reason"]


def test_a_downvote_with_a_reason_is_a_gap_and_an_upvote_takes_it_back(sessions, service, clock) -> None:
    with sessions.begin() as session:
        rid = _resident(session)
        _, turn = handle_turn(session, service, text="晚交物业费的滞纳金怎么算", resident_id=rid)
        down = curation.vote(session, service.retriever, turn_id=turn.id, resident_id=rid, up=False,
                             reason="没说清楚最多收多少", community=None, now=clock())
        assert down.vote == "down" and "FAQ-RES-018" in down.entries
        rows = feedback.gaps(session)
        assert [(g.kind, g.note) for g in rows] == [("downvote", "没说清楚最多收多少")]
        assert feedback.vote_counts(session)[0][:3] == ("FAQ-RES-018", 0, 1)
        curation.vote(session, service.retriever, turn_id=turn.id, resident_id=rid, up=True, reason=None,
                      community=None, now=clock())
        assert feedback.gaps(session) == []
        assert feedback.vote_counts(session)[0][:3] == ("FAQ-RES-018", 1, 0)


def test_a_resident_cannot_vote_on_someone_elses_answer(sessions, service, clock) -> None:
    with sessions.begin() as session:
        _, turn = handle_turn(session, service, text="物业费多少钱一平", resident_id=_resident(session))
        other = _resident(session)
        with pytest.raises(TurnNotFoundError):
            curation.vote(session, service.retriever, turn_id=turn.id, resident_id=other, up=False, reason=None,
                          community=None, now=clock())


def test_an_agents_correction_is_pending_and_a_gap(sessions, service, clock) -> None:
    with sessions.begin() as session:
        _, turn = handle_turn(session, service, text="小区游泳池夏天几点开门", resident_id=_resident(session))
        row = curation.correct(session, service.retriever, turn_id=turn.id, answer="游泳池夏季每天9:00-21:00开放。",
                               agent="客服 小李", now=clock())
        assert (row.status, row.question) == ("pending", "小区游泳池夏天几点开门")
        kinds = sorted(g.kind for g in feedback.gaps(session))
        assert kinds == ["correction", "not_found"]
        with pytest.raises(CorrectionError, match="not the assistant's answer"):
            curation.correct(session, service.retriever, turn_id=turn.id + 99, answer="随便写点什么", agent="x",
                             now=clock())


def test_the_gap_report_groups_the_same_question_and_drafts_an_entry(sessions, service, clock) -> None:
    asked = ["小区游泳池夏天几点开门", "小区里的游泳池夏天几点开", "小区的游泳池什么时候开放", "小区泳池暑假开不开",
             "能不能在小区里装电动汽车换电站", "小区可以建一个汽车换电站吗", "换电站能在小区建吗", "小区里有没有自习室"]
    with sessions.begin() as session:
        rid = _resident(session)
        for text in asked:
            handle_turn(session, service, text=text, resident_id=rid)
        assert feedback.gap_count(session) == len(asked)
        report = curation.gap_report(session, GapReporter(service.kb, service.retriever, GapSettings()), now=clock())
    assert (report.questions, report.cluster_count) == (len(asked), 3)
    first, second, third = report.clusters
    assert first.size == 4 and set(first.examples) == set(asked[:4])
    assert second.size == 3 and set(second.examples) == set(asked[4:7])
    assert third.size == 1 and third.examples == (asked[7],)
    assert first.nearest and first.why
    draft = yaml.safe_load(first.draft.yaml())[0]
    assert draft["answer"] == "" and draft["question"].endswith("？")
    assert len(draft["paraphrases"]) == 3 and draft["department"]
