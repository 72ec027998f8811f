"""The official `openai` client against the running server."""

import pytest
from openai import OpenAI

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def oai(live_server):  # type: ignore[no-untyped-def]
    return OpenAI(base_url=f"{live_server}/v1", api_key="unused", default_headers={"X-API-Key": "wuye-demo-key"},
                  max_retries=0, timeout=60)


def test_models(oai) -> None:
    assert [m.id for m in oai.models.list().data] == ["wuye-assistant"]


def test_completion_with_citations(oai) -> None:
    r = oai.chat.completions.create(model="wuye-assistant",
                                    messages=[{"role": "user", "content": "装修押金什么时候退"}])
    text = r.choices[0].message.content
    assert "依据" in text
    extra = r.model_extra["wuye"]
    assert extra["citations"] and not extra["handoff"]


def test_follow_up_uses_the_previous_user_message(oai) -> None:
    r = oai.chat.completions.create(model="wuye-assistant", messages=[
        {"role": "user", "content": "装修要办什么手续"}, {"role": "assistant", "content": "……"},
        {"role": "user", "content": "那押金呢？"}])
    assert "押金" in r.choices[0].message.content


def test_streaming(oai) -> None:
    stream = oai.chat.completions.create(model="wuye-assistant", stream=True,
                                         messages=[{"role": "user", "content": "厨房水管爆了"}])
    parts = [c.choices[0].delta.content or "" for c in stream if c.choices]
    text = "".join(parts)
    assert "总阀" in text


def test_bad_request_is_a_clear_4xx(oai) -> None:
    import openai

    with pytest.raises(openai.UnprocessableEntityError):
        oai.chat.completions.create(model="wuye-assistant", messages=[{"role": "system", "content": "hi"}])
