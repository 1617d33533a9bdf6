"""The LLM agent's tool-calling loop: offer tools, run the calls the model asks for, answer.

Each round the model sees the tool schemas; the calls it makes are executed (through the tool
executor, passed in as ``execute_tool``) and their results go back as ``tool`` messages. After
``max_rounds`` rounds with tool calls, one last call without tools forces an answer.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

from pydantic import BaseModel, Field

from orchestrator.agent.history import build_messages
from orchestrator.clients.llm.base import ChatMessage, ChatResult, LLMClient, ToolSpec
from orchestrator.state import ToolCall, ToolResult, truncate

__all__ = ["AgentOutcome", "build_messages", "run_agent"]

logger = logging.getLogger(__name__)

#: A tool result longer than this (as JSON) is truncated before it goes back to the model.
TOOL_RESULT_MAX_CHARS = 4_000
FINAL_ANSWER_NUDGE = "The tool budget for this turn is spent. Answer now with the information you have."


class AgentOutcome(BaseModel):
    text: str
    tool_calls: list[ToolCall] = Field(default_factory=list)
    tool_results: list[ToolResult] = Field(default_factory=list)
    #: One entry per model call, for token usage and cost.
    calls: list[ChatResult] = Field(default_factory=list)
    #: Rounds in which tools were executed.
    rounds: int = 0
    #: Calls the model made to tools the client runs itself (``return_calls``): not executed.
    returned_calls: list[ToolCall] = Field(default_factory=list)


def tool_message(call: ToolCall, result: ToolResult, max_chars: int = TOOL_RESULT_MAX_CHARS) -> ChatMessage:
    """A tool result as the JSON the model reads, truncated to ``max_chars``."""
    body = {"ok": result.ok, "output": result.output} if result.ok else {"ok": False, "error": result.error}
    return ChatMessage(
        role="tool", tool_call_id=call.id, content=truncate(json.dumps(body, default=str), max_chars)
    )


def _execute(call: ToolCall, execute_tool: Callable[[ToolCall], ToolResult]) -> ToolResult:
    try:
        return execute_tool(call)
    except Exception as error:
        # The model can recover from a failed tool (retry, another tool, or say so): tell it.
        logger.warning("tool call failed", extra={"tool": call.name, "error_type": type(error).__name__})
        message = getattr(error, "message", None) or f"{type(error).__name__}: {error}"
        return ToolResult(call_id=call.id, name=call.name, ok=False, error=str(message))


def run_agent(
    llm: LLMClient,
    messages: list[ChatMessage],
    *,
    tools: list[ToolSpec],
    execute_tool: Callable[[ToolCall], ToolResult],
    max_rounds: int,
    model: str | None = None,
    tool_result_max_chars: int = TOOL_RESULT_MAX_CHARS,
    deadline: float | None = None,
    options: dict[str, Any] | None = None,
    return_calls: bool = False,
    on_token: Callable[[str], None] | None = None,
) -> AgentOutcome:
    """Run the loop and return the answer, every tool call and result, and every model call.

    ``options`` (``response_format``, ``max_tokens``, ``temperature``) go to every model call.
    With ``return_calls`` the tools are the client's: the first calls the model makes end the
    loop and come back in ``returned_calls``, unexecuted.
    """
    conversation = list(messages)
    outcome = AgentOutcome(text="")
    offered = tools if tools and (max_rounds > 0 or return_calls) else None
    extra = {key: value for key, value in (options or {}).items() if value is not None}
    while True:
        if on_token is None:
            result = llm.chat(conversation, tools=offered, model=model, deadline=deadline, **extra)
        else:  # the answer's text deltas go to on_token as the model writes them
            result = _streamed(
                llm, conversation, tools=offered, model=model, deadline=deadline, on_token=on_token, **extra
            )
        outcome.calls.append(result)
        if offered is None or not result.tool_calls:
            outcome.text = result.text
            return outcome
        if return_calls:
            outcome.text = result.text
            outcome.returned_calls = list(result.tool_calls)
            return outcome
        conversation.append(ChatMessage(role="assistant", content=result.text, tool_calls=result.tool_calls))
        for call in result.tool_calls:
            tool_result = _execute(call, execute_tool)
            outcome.tool_calls.append(call)
            outcome.tool_results.append(tool_result)
            conversation.append(tool_message(call, tool_result, tool_result_max_chars))
        outcome.rounds += 1
        if outcome.rounds >= max_rounds:
            offered = None
            conversation.append(ChatMessage(role="user", content=FINAL_ANSWER_NUDGE))


def _streamed(
    llm: LLMClient,
    conversation: list[ChatMessage],
    *,
    tools: list[ToolSpec] | None,
    model: str | None,
    deadline: float | None,
    on_token: Callable[[str], None],
    **options: Any,
) -> ChatResult:
    for piece in llm.stream_chat(conversation, tools=tools, model=model, deadline=deadline, **options):
        if isinstance(piece, ChatResult):
            return piece
        on_token(piece)
    raise RuntimeError(f"{type(llm).__name__}.stream_chat ended without a ChatResult")
