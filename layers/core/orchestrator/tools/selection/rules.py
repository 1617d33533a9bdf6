"""Offline tool selection: transparent rules that map a request to builtin tool calls.

Used when no real model is configured. Each rule is a regular expression a reader can check:
a Python code block or "run this code: ..." → ``run_python``; a URL → ``fetch_url``;
"what time is it (in Tokyo)" → ``current_time``; an arithmetic expression ("17 * (3 + 4)",
"2^10", "15% of 240", "square root of 2") → ``calculator``. Anything else selects nothing,
and the answer says no tool was used.
"""

from __future__ import annotations

import ast
import re
from typing import Any

from orchestrator.tools.builtins.calculator import is_expression

_FENCED = re.compile(r"```[ \t]*([A-Za-z0-9_+-]*)[ \t]*\n(.*?)```", re.DOTALL)
_RUN_INLINE = re.compile(
    r"\b(?:run|execute|evaluate)\s+(?:this|the\s+following|my)\s+(?:python\s+)?"
    r"(?:code|snippet|script|program)\s*:?\s*(.+)$",
    re.IGNORECASE | re.DOTALL,
)
_RUN_CUE = re.compile(r"\b(?:run|execute|output|result|python)\b", re.IGNORECASE)
_URL = re.compile(r"https?://[^\s<>\"'`]+", re.IGNORECASE)
_TIME = re.compile(
    r"\bwhat\s+time\s+is\s+it\b|\b(?:current|local|exact)\s+(?:date\s+and\s+)?time\b"
    r"|\btime\s+(?:is\s+it\s+)?(?:right\s+)?now\b|\b(?:today'?s|current)\s+date\b"
    r"|\bwhat\s+(?:day|date)\s+is\s+(?:it|today)\b|\bdate\s+today\b|\bwhat\s+is\s+the\s+date\b"
    r"|\bwhat(?:'s|\s+is)\s+today\b",
    re.IGNORECASE,
)
_IANA = re.compile(
    r"\b((?:Africa|America|Antarctica|Asia|Atlantic|Australia|Europe|Indian|Pacific)/[A-Za-z_/+-]+)"
)
_TZ_PLACE = re.compile(
    r"\bin\s+([A-Za-z][A-Za-z .'-]{1,30}?)\s*(?:\?|\.|!|,|$|\bright\s+now\b|\bnow\b|\btoday\b)"
)
_PLACES = {
    "utc": "UTC",
    "gmt": "UTC",
    "london": "Europe/London",
    "uk": "Europe/London",
    "paris": "Europe/Paris",
    "france": "Europe/Paris",
    "berlin": "Europe/Berlin",
    "germany": "Europe/Berlin",
    "madrid": "Europe/Madrid",
    "rome": "Europe/Rome",
    "amsterdam": "Europe/Amsterdam",
    "moscow": "Europe/Moscow",
    "dubai": "Asia/Dubai",
    "india": "Asia/Kolkata",
    "mumbai": "Asia/Kolkata",
    "delhi": "Asia/Kolkata",
    "singapore": "Asia/Singapore",
    "hong kong": "Asia/Hong_Kong",
    "shanghai": "Asia/Shanghai",
    "beijing": "Asia/Shanghai",
    "china": "Asia/Shanghai",
    "tokyo": "Asia/Tokyo",
    "japan": "Asia/Tokyo",
    "seoul": "Asia/Seoul",
    "sydney": "Australia/Sydney",
    "new york": "America/New_York",
    "nyc": "America/New_York",
    "boston": "America/New_York",
    "chicago": "America/Chicago",
    "denver": "America/Denver",
    "los angeles": "America/Los_Angeles",
    "san francisco": "America/Los_Angeles",
    "seattle": "America/Los_Angeles",
    "toronto": "America/Toronto",
    "sao paulo": "America/Sao_Paulo",
    "mexico city": "America/Mexico_City",
    "johannesburg": "Africa/Johannesburg",
    "cairo": "Africa/Cairo",
}

_NUM = r"\d+(?:\.\d+)?"
_FUNCS = "sqrt|log10|log2|log|exp|sin|cos|tan|abs|round|min|max|floor|ceil"
#: Phrasings rewritten into operators before expressions are searched for.
_REWRITES: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern, re.IGNORECASE), replacement)
    for pattern, replacement in (
        (r"(?<=\d),(?=\d{3}\b)", ""),  # 1,000 → 1000
        (rf"({_NUM})\s*(?:%|percent)\s+of\s+({_NUM})", r"(\1/100*\2)"),
        (rf"square\s+root\s+of\s+({_NUM})", r"sqrt(\1)"),
        (rf"({_NUM})\s+to\s+the\s+power\s+of\s+({_NUM})", r"\1**\2"),
        (rf"({_NUM})\s+squared\b", r"(\1**2)"),
        (rf"({_NUM})\s+cubed\b", r"(\1**3)"),
        (r"\s+plus\s+", " + "),
        (r"\s+minus\s+", " - "),
        (r"\s+(?:times|multiplied\s+by)\s+", " * "),
        (r"\s+divided\s+by\s+", " / "),
        (r"\s+(?:mod|modulo)\s+", " % "),
        (r"(?<=\d)\s*[x×]\s*(?=\d)", " * "),
        (r"÷", "/"),
        (r"[−–]", "-"),  # unicode minus and en dash, as typed in prompts
        (r"\^", "**"),
        (r"\b\d{4}-\d{2}-\d{2}\b|\b\d{1,2}/\d{1,2}/\d{2,4}\b", " "),  # dates are not sums
    )
)
_EXPRESSION = re.compile(rf"(?:\s*(?:(?:{_FUNCS})\s*\(|\bpi\b|{_NUM}|\*\*|//|[-+*/%(),]))+", re.IGNORECASE)


def _computes(expression: str) -> bool:
    """True for an expression that does something (an operator or a function), not a bare number."""
    try:
        tree = ast.parse(expression, mode="eval")
    except SyntaxError:
        return False
    does_something = any(isinstance(node, ast.BinOp | ast.Call) for node in ast.walk(tree))
    return does_something and is_expression(expression)


def _candidates(text: str) -> list[str]:
    for pattern, replacement in _REWRITES:
        text = pattern.sub(replacement, text)
    found: list[str] = []
    for match in _EXPRESSION.finditer(text):
        raw = " ".join(match.group(0).split()).strip(" ,")
        # Prose around a formula leaves stray brackets or operators at its ends: try trimmed forms.
        for candidate in (raw, raw.strip("()"), raw.rstrip("+-*/%( ").lstrip("*/%) ")):
            if candidate and _computes(candidate):
                if candidate not in found:
                    found.append(candidate)
                break
    return found


def _timezone(prompt: str) -> str | None:
    iana = _IANA.search(prompt)
    if iana:
        return iana.group(1)
    place = _TZ_PLACE.search(prompt)
    if place:
        return _PLACES.get(" ".join(place.group(1).lower().replace(".", "").split()))
    return None


def _code(prompt: str) -> tuple[str | None, str]:
    """(program, prompt without it)."""
    for match in _FENCED.finditer(prompt):
        language = match.group(1).lower()
        if language in ("python", "py", "python3") or (not language and _RUN_CUE.search(prompt)):
            return match.group(2).strip(), prompt.replace(match.group(0), " ")
    inline = _RUN_INLINE.search(prompt)
    if inline:
        code = inline.group(1).strip().strip("`").strip()
        if code:
            return code, prompt[: inline.start()]
    return None, prompt


def calls_by_rules(prompt: str) -> list[tuple[str, dict[str, Any]]]:
    """(tool name, arguments) pairs the rules select for ``prompt``, in a fixed order."""
    selected: list[tuple[str, dict[str, Any]]] = []
    code, rest = _code(prompt)
    if code:
        selected.append(("run_python", {"code": code}))
    for url in dict.fromkeys(m.group(0).rstrip(".,;:!?)]}") for m in _URL.finditer(rest)):
        selected.append(("fetch_url", {"url": url}))
    rest = _URL.sub(" ", rest)
    if _TIME.search(rest):
        zone = _timezone(rest)
        selected.append(("current_time", {"timezone": zone} if zone else {}))
    selected += [("calculator", {"expression": expression}) for expression in _candidates(rest)]
    return selected
