"""The OpenAI-compatible surface driven by real clients: the official ``openai`` SDK and LangChain's
``ChatOpenAI``, against the API served by uvicorn on 127.0.0.1 over the local stack, with the fake
OpenAI server as the provider so what reached the model can be inspected."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from orchestrator.local.runtime import LocalRuntime
from tests.e2e.conftest import reconfigured
from tests.support.fake_openai import FakeOpenAIServer, RecordedRequest

openai = pytest.importorskip("openai")

PROVIDER_MODEL = "gpt-fake"
WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "The weather in a city.",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    },
}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture(scope="module")
def provider() -> Iterator[FakeOpenAIServer]:
    with FakeOpenAIServer(models=[PROVIDER_MODEL]) as server:
        yield server


@pytest.fixture(scope="module")
def base_url(stack: LocalRuntime, provider: FakeOpenAIServer) -> Iterator[str]:
    """The API on a real socket, configured with the fake provider, for the module's tests."""
    import uvicorn

    from orchestrator.api import create_app

    env = {
        "LLM_PROVIDER": "openai",
        "LLM_BASE_URL": provider.url,
        "LLM_DEFAULT_MODEL": PROVIDER_MODEL,
        "LLM_API_KEY": "sk-fake",
        "LLM_MAX_RETRIES": "0",
    }
    with reconfigured(**env):
        port = _free_port()
        server = uvicorn.Server(
            uvicorn.Config(create_app(), host="127.0.0.1", port=port, log_level="warning")
        )
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        deadline = time.monotonic() + 10
        while not server.started:
            assert time.monotonic() < deadline, "uvicorn did not start within 10 s"
            time.sleep(0.02)
        try:
            yield f"http://127.0.0.1:{port}/v1"
        finally:
            server.should_exit = True
            thread.join(timeout=10)


@pytest.fixture
def sdk(base_url: str, provider: FakeOpenAIServer) -> Any:
    provider.requests.clear()
    return openai.OpenAI(base_url=base_url, api_key="unused-auth-off", max_retries=0, timeout=60)


def _answer_calls(provider: FakeOpenAIServer) -> list[RecordedRequest]:
    """Model calls of the answer node (the router's and planner's carry their own system prompts)."""
    return [
        r for r in provider.chat_requests if "answering agent" in str((r.body.get("messages") or [{}])[0])
    ]


def test_plain_completion(sdk: Any) -> None:
    completion = sdk.chat.completions.create(
        model="orchestrator", messages=[{"role": "user", "content": "Hello there, how are you?"}]
    )

    assert completion.object == "chat.completion"
    assert completion.choices[0].finish_reason == "stop"
    assert "fake reply to" in (completion.choices[0].message.content or "")
    assert completion.usage is not None and completion.usage.total_tokens > 0


def test_system_prompt_and_earlier_turns_reach_the_model(sdk: Any, provider: FakeOpenAIServer) -> None:
    messages = [
        {"role": "system", "content": "Answer like a pirate."},
        {"role": "user", "content": "My name is Ada."},
        {"role": "assistant", "content": "Ahoy Ada!"},
        {"role": "user", "content": "What is my name?"},
    ]

    completion = sdk.chat.completions.create(model="orchestrator/chat", messages=messages)

    assert completion.choices[0].message.content
    sent = _answer_calls(provider)[-1].body["messages"]
    assert sent[0]["role"] == "system" and "Answer like a pirate." in sent[0]["content"]
    assert sent[0]["content"].index("answering agent") < sent[0]["content"].index("pirate")
    assert [(m["role"], m["content"]) for m in sent[1:]] == [
        ("user", "My name is Ada."),
        ("assistant", "Ahoy Ada!"),
        ("user", "What is my name?"),
    ]
    # The same conversation keeps one session id turn after turn.
    again = sdk.chat.completions.create(model="orchestrator/chat", messages=messages[:2])
    assert (
        again.model_extra["orchestrator"]["session_id"]
        == completion.model_extra["orchestrator"]["session_id"]
    )


def test_streaming_ends_with_usage_and_done(sdk: Any) -> None:
    stream = sdk.chat.completions.create(
        model="orchestrator/chat",
        messages=[{"role": "user", "content": "Tell me a short story about a lighthouse."}],
        stream=True,
        stream_options={"include_usage": True},
    )

    chunks = list(stream)

    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert "fake reply to" in text
    assert [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason] == [
        "stop"
    ]
    assert chunks[-1].choices == [] and chunks[-1].usage is not None and chunks[-1].usage.total_tokens > 0


def test_a_client_tool_call_comes_back_unexecuted(sdk: Any, provider: FakeOpenAIServer) -> None:
    provider.reply_tool_calls([("get_weather", {"city": "Vienna"})])

    completion = sdk.chat.completions.create(
        model="orchestrator/chat",
        messages=[{"role": "user", "content": "What's the weather in Vienna?"}],
        tools=[WEATHER_TOOL],
    )

    choice = completion.choices[0]
    assert choice.finish_reason == "tool_calls"
    call = choice.message.tool_calls[0]
    assert call.function.name == "get_weather" and json.loads(call.function.arguments) == {"city": "Vienna"}
    offered = _answer_calls(provider)[-1].body["tools"]
    assert [t["function"]["name"] for t in offered] == ["get_weather"]


def test_json_mode_reaches_the_model(sdk: Any, provider: FakeOpenAIServer) -> None:
    provider.reply_text('{"answer": 42}')

    completion = sdk.chat.completions.create(
        model="orchestrator/chat",
        messages=[{"role": "user", "content": "Reply in JSON with the answer."}],
        response_format={"type": "json_object"},
        max_tokens=50,
        temperature=0.0,
    )

    assert json.loads(completion.choices[0].message.content or "") == {"answer": 42}
    sent = _answer_calls(provider)[-1].body
    assert sent["response_format"] == {"type": "json_object"}
    assert sent["max_tokens"] == 50 and sent["temperature"] == 0.0


def test_a_cut_off_answer_says_length(sdk: Any, provider: FakeOpenAIServer) -> None:
    from tests.support.fake_openai import ScriptedReply, completion

    provider.script(
        ScriptedReply(body=lambda req: completion(req, text="Once upon a", finish_reason="length"))
    )

    result = sdk.chat.completions.create(
        model="orchestrator/chat", messages=[{"role": "user", "content": "A long story please"}]
    )

    assert result.choices[0].finish_reason == "length"


def test_an_unknown_model_is_a_not_found_error(sdk: Any) -> None:
    with pytest.raises(openai.NotFoundError) as raised:
        sdk.chat.completions.create(model="gpt-nope", messages=[{"role": "user", "content": "hi"}])

    assert raised.value.code == "model_not_found"
    assert "gpt-nope" in raised.value.message


def test_models_lists_graph_routes_and_provider_models(sdk: Any) -> None:
    ids = [m.id for m in sdk.models.list()]

    assert ids[0] == "orchestrator" and "orchestrator/rag" in ids and PROVIDER_MODEL in ids


def test_n_above_one_is_a_bad_request(sdk: Any) -> None:
    with pytest.raises(openai.BadRequestError):
        sdk.chat.completions.create(model="orchestrator", n=2, messages=[{"role": "user", "content": "hi"}])


def test_a_background_title_task_is_one_short_model_call(sdk: Any, provider: FakeOpenAIServer) -> None:
    prompt = (
        "### Task:\nGenerate a concise, 3-5 word title with an emoji summarizing the chat history.\n"
        "<chat_history>\nUSER: How do I plan a multi-step trip to Vienna and then Prague?\n</chat_history>"
    )

    completion = sdk.chat.completions.create(
        model="orchestrator", messages=[{"role": "user", "content": prompt}]
    )

    assert completion.choices[0].message.content
    assert len(provider.chat_requests) == 1
    sent = provider.chat_requests[0].body
    assert "tools" not in sent and sent["max_tokens"] <= 200
    assert completion.model_extra["orchestrator"]["intent"]["name"] == "chat"


def test_a_passthrough_model_answers_with_one_call(sdk: Any, provider: FakeOpenAIServer) -> None:
    completion = sdk.chat.completions.create(
        model=PROVIDER_MODEL, messages=[{"role": "user", "content": "Plan my week, then email my team"}]
    )

    assert completion.model == PROVIDER_MODEL
    assert len(provider.chat_requests) == 1 and "tools" not in provider.chat_requests[0].body


def test_langchain_chat_openai(base_url: str, provider: FakeOpenAIServer) -> None:
    langchain_openai = pytest.importorskip("langchain_openai")
    from langchain_core.messages import AIMessage, HumanMessage, SystemMessage

    llm = langchain_openai.ChatOpenAI(
        base_url=base_url, api_key="unused", model="orchestrator/chat", max_retries=0, timeout=60
    )
    provider.requests.clear()

    reply = llm.invoke(
        [
            SystemMessage("Be terse."),
            HumanMessage("I like tea."),
            AIMessage("Noted."),
            HumanMessage("What do I like?"),
        ]
    )
    streamed = "".join(str(chunk.content) for chunk in llm.stream("Say something about the sea"))
    provider.reply_tool_calls([("get_weather", {"city": "Oslo"})])
    with_tools = llm.bind_tools([WEATHER_TOOL]).invoke("Weather in Oslo?")

    assert "fake reply to: What do I like?" in str(reply.content)
    sent = _answer_calls(provider)[0].body["messages"]
    assert "Be terse." in sent[0]["content"] and sent[1]["content"] == "I like tea."
    assert "fake reply to" in streamed
    assert with_tools.tool_calls[0]["name"] == "get_weather"
    assert with_tools.tool_calls[0]["args"] == {"city": "Oslo"}


def test_every_error_comes_in_openai_shape(sdk: Any, base_url: str) -> None:
    import httpx

    with pytest.raises(openai.UnprocessableEntityError) as raised:
        sdk.chat.completions.create(model="orchestrator", messages=[])
    too_large = httpx.post(
        f"{base_url}/chat/completions", content=b"x" * 2_000_000, headers={"content-type": "application/json"}
    )

    assert raised.value.body["type"] == "invalid_request_error" and raised.value.body["param"] == "messages"
    assert too_large.status_code == 413
    assert set(too_large.json()["error"]) >= {"message", "type", "param", "code"}


def test_a_streamed_client_tool_call_finishes_with_tool_calls(sdk: Any, provider: FakeOpenAIServer) -> None:
    provider.reply_tool_calls([("get_weather", {"city": "Lima"})])

    chunks = list(
        sdk.chat.completions.create(
            model="orchestrator/chat",
            messages=[{"role": "user", "content": "Weather in Lima?"}],
            tools=[WEATHER_TOOL],
            stream=True,
        )
    )

    calls = [call for c in chunks if c.choices for call in c.choices[0].delta.tool_calls or []]
    assert [c.function.name for c in calls] == ["get_weather"]
    assert chunks[-1].choices[0].finish_reason == "tool_calls"
