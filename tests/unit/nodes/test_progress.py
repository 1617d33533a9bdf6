"""Given a run-events store, Node.run publishes what its action added and batches answer tokens."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws
from pydantic import BaseModel

from orchestrator.clients.llm.base import ChatResult
from orchestrator.clients.llm.offline import OfflineLLMClient
from orchestrator.memory.run_events import RunEventStore
from orchestrator.nodes.base import Invocation, Node
from orchestrator.nodes.progress import Progress
from orchestrator.state import Intent, NodeResult, PlanStep, ToolCall, ToolResult
from tests.support.aws import REGION, use_fake_credentials
from tests.support.fakes import deadline_in

TABLE = "run-events"
STATE = {"run_id": "r1", "tenant_id": "acme", "user_id": "u1", "session_id": "s1", "prompt": "hi"}


@pytest.fixture
def store(monkeypatch: pytest.MonkeyPatch) -> Iterator[RunEventStore]:
    use_fake_credentials(monkeypatch)
    with mock_aws():
        resource = boto3.resource("dynamodb", region_name=REGION)
        resource.create_table(
            TableName=TABLE,
            BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[
                {"AttributeName": "pk", "AttributeType": "S"},
                {"AttributeName": "seq", "AttributeType": "N"},
            ],
            KeySchema=[
                {"AttributeName": "pk", "KeyType": "HASH"},
                {"AttributeName": "seq", "KeyType": "RANGE"},
            ],
        )
        yield RunEventStore(TABLE, region=REGION, resource=resource)


def run(node: Node[None], event: dict[str, Any], store: RunEventStore, **kwargs: Any) -> dict[str, Any]:
    return node.run(event, None, deadline=deadline_in(), events=store, **kwargs)


def test_records_come_back_in_order_after_a_sequence_number_and_only_to_their_tenant(
    store: RunEventStore,
) -> None:
    store.append("acme", "r1", [("intent", {"name": "chat"}), ("token", {"text": "Hel"})], node="n")
    store.append("acme", "r1", [("token", {"text": "lo"})], node="n")

    records = store.read("acme", "r1")

    assert [(r.kind, r.data) for r in records] == [
        ("intent", {"name": "chat"}),
        ("token", {"text": "Hel"}),
        ("token", {"text": "lo"}),
    ]
    assert [r.seq for r in records] == sorted(r.seq for r in records)
    assert [r.kind for r in store.read("acme", "r1", after=records[1].seq)] == ["token"]
    assert store.read("other-tenant", "r1") == []


def test_the_node_publishes_what_its_action_added(store: RunEventStore) -> None:
    node: Node[None] = Node("router", deps=lambda c: None)

    @node.action("go")
    def go(call: Invocation, deps: None) -> BaseModel:
        state = call.state
        state.intent = Intent(name="planning", confidence=0.9, method="embedding")
        state.plan = [PlanStep(id="s1", description="calculate", node="tool_executor")]
        state.tool_calls = [ToolCall(id="c1", name="calculator", arguments={"expression": "1+1"})]
        return state

    run(node, {"action": "go", "state": STATE}, store)

    kinds = [r.kind for r in store.read("acme", "r1")]
    assert kinds == ["intent", "plan", "tool_call"]


def test_a_step_result_and_a_lone_tool_result_are_published(store: RunEventStore) -> None:
    node: Node[None] = Node("tool_executor", deps=lambda c: None)

    @node.action("step")
    def step(call: Invocation, deps: None) -> BaseModel:
        return NodeResult(node="tool_executor", step_id=call.step.id, output="2")

    @node.action("execute")
    def execute(call: Invocation, deps: None) -> BaseModel:
        assert call.event.call is not None
        return ToolResult(call_id=call.event.call.id, name="calculator", ok=True, output=2)

    step_event = {"id": "s1", "description": "add", "node": "tool_executor"}
    run(node, {"action": "step", "state": STATE, "step": step_event}, store)
    call = {"id": "c1", "name": "calculator", "arguments": {}}
    run(node, {"action": "execute", "call": call, "run_id": "r1", "tenant_id": "acme"}, store)

    records = store.read("acme", "r1")
    assert [r.kind for r in records] == ["step", "tool_result"]
    assert records[0].data["output"] == "2" and records[1].data["output"] == 2


def test_answer_tokens_are_batched_and_flushed_when_the_action_ends(store: RunEventStore) -> None:
    node: Node[None] = Node("llm_agent", deps=lambda c: None)

    @node.action("answer")
    def answer(call: Invocation, deps: None) -> BaseModel:
        for piece in ["one ", "two ", "three ", "four"]:
            call.emit("token", {"text": piece})
        return call.state

    run(node, {"action": "answer", "state": STATE}, store, flush_ms=10_000, flush_chars=8)

    tokens = [r.data["text"] for r in store.read("acme", "r1") if r.kind == "token"]
    assert tokens == ["one two ", "three four"]  # a write once 8 characters waited, then the rest


def test_without_a_store_emitting_is_a_no_op() -> None:
    node: Node[None] = Node("llm_agent", deps=lambda c: None)

    @node.action("answer")
    def answer(call: Invocation, deps: None) -> BaseModel:
        call.emit("token", {"text": "ignored"})
        return call.state

    assert node.run({"action": "answer", "state": STATE}, None, deadline=deadline_in())["run_id"] == "r1"


def test_a_failing_store_never_fails_the_run() -> None:
    class Broken(RunEventStore):
        def __init__(self) -> None:
            pass

        def append(self, *args: Any, **kwargs: Any) -> None:
            raise OSError("throttled")

    progress = Progress(Broken(), "acme", "r1", node="n", flush_ms=0, flush_chars=1)
    progress.emit("intent", {"name": "chat"})
    progress.emit("token", {"text": "x"})  # logged and dropped


def test_the_offline_provider_streams_its_reply_in_pieces_then_the_result() -> None:
    from orchestrator.clients.llm.base import ChatMessage

    llm = OfflineLLMClient()
    messages = [ChatMessage(role="user", content="What is a hash map, in a few words?")]

    pieces = list(llm.stream_chat(messages))

    *deltas, result = pieces
    assert isinstance(result, ChatResult) and result.finish_reason == "stop"
    assert len(deltas) > 3 and all(isinstance(d, str) for d in deltas)
    assert "".join(str(d) for d in deltas) == result.text == llm.chat(messages).text


def test_a_run_nobody_can_watch_writes_no_progress(store: RunEventStore) -> None:
    node: Node[None] = Node("router", deps=lambda c: None)

    @node.action("go")
    def go(call: Invocation, deps: None) -> BaseModel:
        call.emit("token", {"text": "Hello"})
        state = call.state
        state.intent = Intent(name="chat", confidence=0.9, method="embedding")
        return state

    @node.action("execute")
    def execute(call: Invocation, deps: None) -> BaseModel:
        return ToolResult(call_id="c1", name="calculator", ok=True, output=2)

    run(node, {"action": "go", "state": {**STATE, "watched": False}}, store)
    lone_call = {"call": {"id": "c1", "name": "calculator"}, "run_id": "r1", "tenant_id": "acme"}
    run(node, {"action": "execute", **lone_call, "watched": False}, store)
    assert store.read("acme", "r1") == []

    run(node, {"action": "execute", **lone_call}, store)  # watched unless the API said otherwise
    assert [r.kind for r in store.read("acme", "r1")] == ["tool_result"]
