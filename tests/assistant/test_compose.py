"""The optional LLM composer: cites only retrieved entries, falls back to the extractive answer on failure."""

import pytest

from assistant.compose import ExtractiveComposer, LLMComposer

pytestmark = pytest.mark.integration


class FakeChat:
    def __init__(self, reply: str | Exception) -> None:
        self.reply = reply
        self.prompts: list = []

    def invoke(self, input):  # type: ignore[no-untyped-def]  # noqa: A002
        self.prompts.append(input)
        if isinstance(self.reply, Exception):
            raise self.reply

        class Msg:
            content = self.reply

        return Msg()


@pytest.fixture
def retrieval(retriever):  # type: ignore[no-untyped-def]
    r = retriever.run("装修押金什么时候退")
    assert r.found
    return r


def test_llm_answer_keeps_only_citations_of_retrieved_entries(retriever, retrieval) -> None:
    chat = FakeChat("竣工验收合格后押金会无息退还[1]。另见[9]。")
    answer = LLMComposer(chat, ExtractiveComposer(retriever)).run(retrieval, question="装修押金什么时候退")
    assert answer.composer == "llm" and not answer.handoff
    assert {c.ref for c in answer.citations} >= {retrieval.hits[0].citation}
    assert "[9]" not in answer.text  # a citation of nothing retrieved is dropped
    assert "只能依据" in chat.prompts[0][0][1]


@pytest.mark.parametrize("reply", [
    pytest.param(TimeoutError("read timed out"), id="timeout"),
    pytest.param(ConnectionError("refused"), id="down"),
    pytest.param("押金一般会退的。", id="no-citation"),
    pytest.param("NOT_IN_KB", id="model-says-not-covered"),
])
def test_llm_failure_falls_back_to_the_extractive_answer(retriever, retrieval, reply) -> None:
    extractive = ExtractiveComposer(retriever).run(retrieval)
    answer = LLMComposer(FakeChat(reply), ExtractiveComposer(retriever)).run(retrieval, question="q")
    assert answer == extractive
