"""The ``fetch_url`` builtin: GET a public web page or API and return its text."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from typing import Any

from orchestrator.state import MAX_INLINE_OUTPUT_CHARS
from orchestrator.tools.models import ToolContext
from orchestrator.tools.network.guarded_http import guarded_request

_SKIPPED_TAGS = frozenset({"script", "style", "noscript", "template", "svg", "head"})
_BLOCK_TAGS = frozenset(
    {"p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "section", "article"}
)


class _TextExtractor(HTMLParser):
    """Visible text of an HTML page: a model reads prose better than markup, and it is shorter."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.title = ""
        self._skip_depth = 0
        self._in_title = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "title":
            self._in_title = True
        elif tag in _SKIPPED_TAGS:
            self._skip_depth += 1
        elif tag in _BLOCK_TAGS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag == "title":
            self._in_title = False
        elif tag in _SKIPPED_TAGS and self._skip_depth:
            self._skip_depth -= 1
        elif tag in _BLOCK_TAGS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.title += data
        elif not self._skip_depth:
            self.parts.append(data)


def html_to_text(html: str) -> tuple[str, str]:
    """(title, visible text) of an HTML document, whitespace collapsed."""
    parser = _TextExtractor()
    parser.feed(html)
    parser.close()
    text = re.sub(r"[ \t\r\f\v]+", " ", "".join(parser.parts))
    text = re.sub(r"\s*\n\s*", "\n", text).strip()
    return " ".join(parser.title.split()), text


def fetch_url(arguments: dict[str, Any], context: ToolContext) -> dict[str, Any]:
    settings = context.settings
    max_chars = min(int(arguments.get("max_chars", MAX_INLINE_OUTPUT_CHARS)), MAX_INLINE_OUTPUT_CHARS)
    fetched = guarded_request(
        "GET",
        str(arguments["url"]),
        allowed_hosts=settings.http_tool_allowed_hosts,
        max_bytes=settings.http_tool_max_bytes,
        deadline=context.deadline,
        attempt_timeout_s=settings.tool_timeout_s,
    )
    text, title = fetched.text(), ""
    if "html" in fetched.content_type.lower():
        title, text = html_to_text(text)
    output: dict[str, Any] = {
        "url": fetched.url,
        "status": fetched.status,
        "content_type": fetched.content_type,
        "bytes": len(fetched.body),
        "truncated": fetched.truncated or len(text) > max_chars,
        "text": text[:max_chars],
    }
    if title:
        output["title"] = title
    return output
