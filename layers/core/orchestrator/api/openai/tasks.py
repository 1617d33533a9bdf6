"""Chat UIs' background tasks (a title, tags, follow-up suggestions), recognised by their prompts.

Open WebUI opens every task prompt with ``### Task:``; LibreChat and others ask for "a concise,
3-5 word title". Such a prompt is answered by one short model call on the chat route, not by the
planner, and is neither remembered nor cached. Only the start of the prompt is looked at, so a
user who asks for a title in the middle of a message is still answered by the graph.
"""

from __future__ import annotations

import re

_HEAD_CHARS = 400
_TASK_PROMPTS = (
    re.compile(r"^\s*#{2,4}\s*task\s*:", re.IGNORECASE),
    re.compile(r"\bgenerate a (?:concise|short|brief),?\s+[\w\- ]{0,24}\btitle\b", re.IGNORECASE),
    re.compile(
        r"\b(?:\d+-word-or-less|\d+\s*-\s*\d+ word) title for (?:the|this) conversation\b", re.IGNORECASE
    ),
    re.compile(r"\bsuggest \d+(?:-\d+)? (?:relevant )?follow-up questions\b", re.IGNORECASE),
    re.compile(r"\bgenerate \d+(?:-\d+)? (?:broad )?tags\b", re.IGNORECASE),
)


def is_background_task(prompt: str) -> bool:
    """Whether ``prompt`` is a chat UI's housekeeping request rather than the user's question."""
    head = prompt[:_HEAD_CHARS]
    return any(pattern.search(head) for pattern in _TASK_PROMPTS)
