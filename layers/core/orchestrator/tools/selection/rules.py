"""Offline tool selection: transparent rules that map a request to builtin tool calls.

Used when no real model is configured. Each rule is a regular expression a reader can check:
a Python code block or "run this code: ..." → ``run_python``; a URL → ``fetch_url``;
"what time is it (in Tokyo)" → ``current_time``; an arithmetic expression ("17 * (3 + 4)",
"2^10", "15% of 240", "square root of 2") → ``calculator``. Anything else selects nothing,
and the answer says no tool was used. Time questions and arithmetic words are also recognised in
the other languages routes.json has examples in (fr, es, de, it, pt, ja, zh).
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
    r"|\bwhat(?:'s|\s+is)\s+today\b"
    # fr, es, de, it, pt: "quelle heure", "qué hora", "wie spät", "che ore sono", "que horas são" …
    r"|\bquelle\s+heure\b|\bquel\s+jour\s+sommes\b|\bdate\s+d'aujourd'hui\b"
    r"|\bqu[ée]\s+hora\b|\bqu[ée]\s+d[íi]a\s+es\s+hoy\b|\bfecha\s+de\s+hoy\b"
    r"|\bwie\s+sp[äa]t\b|\buhrzeit\b|\bwelche[rs]?\s+(?:tag|datum)\s+(?:ist\s+)?heute\b"
    r"|\bche\s+or[ae]\s+(?:sono|è)\b|\bche\s+giorno\s+è\s+oggi\b|\bdata\s+di\s+oggi\b"
    r"|\bque\s+horas\b|\bque\s+dia\s+é\s+hoje\b|\bdata\s+de\s+hoje\b"
    # ja, zh (no word boundaries)
    r"|何時|今日は何日|今日の日付|几点|现在时间|今天几号|今天是几月几号",
    re.IGNORECASE,
)
_IANA = re.compile(
    r"\b((?:Africa|America|Antarctica|Asia|Atlantic|Australia|Europe|Indian|Pacific)/[A-Za-z_/+-]+)"
)
_TZ_PLACE = re.compile(
    r"\bin\s+([A-Za-z][A-Za-z .'-]{1,30}?)\s*(?:\?|\.|!|,|$|\bright\s+now\b|\bnow\b|\btoday\b)"
)
#: "à Paris", "en Tokio", "a Roma", "em Lisboa": the other languages' "in".
_TZ_PLACE_ELSEWHERE = re.compile(
    r"\b(?:à|a|en|em|no|na|nach)\s+([^\W\d_][^\W\d_ .'-]*(?:[ .'-]+[^\W\d_]+){0,3}?)"
    r"\s*(?:\?|\.|!|,|$|\s(?:maintenant|ahora|jetzt|gerade|adesso|agora|en\s+ce\s+moment)\b)",
    re.IGNORECASE,
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
    # The same cities as French, Spanish, German, Italian and Portuguese write them.
    "londres": "Europe/London",
    "londra": "Europe/London",
    "parís": "Europe/Paris",
    "parigi": "Europe/Paris",
    "berlín": "Europe/Berlin",
    "berlino": "Europe/Berlin",
    "roma": "Europe/Rome",
    "moscou": "Europe/Moscow",
    "moscú": "Europe/Moscow",
    "moskau": "Europe/Moscow",
    "mosca": "Europe/Moscow",
    "tokio": "Asia/Tokyo",
    "tóquio": "Asia/Tokyo",
    "pékin": "Asia/Shanghai",
    "pekín": "Asia/Shanghai",
    "pequim": "Asia/Shanghai",
    "pechino": "Asia/Shanghai",
    "sídney": "Australia/Sydney",
    "nueva york": "America/New_York",
    "nova york": "America/New_York",
    "nova iorque": "America/New_York",
    "são paulo": "America/Sao_Paulo",
    "lisboa": "Europe/Lisbon",
    "lisbonne": "Europe/Lisbon",
    "lisbona": "Europe/Lisbon",
    "ciudad de méxico": "America/Mexico_City",
}
#: Cities written in Japanese or Chinese script, found anywhere in the prompt.
_CJK_PLACES = {
    "東京": "Asia/Tokyo",
    "东京": "Asia/Tokyo",
    "大阪": "Asia/Tokyo",
    "ロンドン": "Europe/London",
    "伦敦": "Europe/London",
    "パリ": "Europe/Paris",
    "巴黎": "Europe/Paris",
    "ベルリン": "Europe/Berlin",
    "柏林": "Europe/Berlin",
    "ニューヨーク": "America/New_York",
    "纽约": "America/New_York",
    "北京": "Asia/Shanghai",
    "上海": "Asia/Shanghai",
    "香港": "Asia/Hong_Kong",
    "シドニー": "Australia/Sydney",
    "悉尼": "Australia/Sydney",
    "ソウル": "Asia/Seoul",
    "首尔": "Asia/Seoul",
    "シンガポール": "Asia/Singapore",
    "新加坡": "Asia/Singapore",
}

_NUM = r"\d+(?:\.\d+)?"
_FUNCS = "sqrt|log10|log2|log|exp|sin|cos|tan|abs|round|min|max|floor|ceil"
#: Phrasings rewritten into operators before expressions are searched for.
_REWRITES: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern, re.IGNORECASE), replacement)
    for pattern, replacement in (
        (r"(?<=\d),(?=\d{3}\b)", ""),  # 1,000 → 1000
        (rf"({_NUM})\s*(?:%|percent)\s+of\s+({_NUM})", r"(\1/100*\2)"),
        # "15 % de 240" (fr, es, pt), "15 % von 240", "15% di 240"; ja "240の15%", zh "240的15%".
        (rf"({_NUM})\s*%\s+(?:de|del|von|di|do|da)\s+({_NUM})", r"(\1/100*\2)"),
        (rf"({_NUM})\s*[の的]\s*({_NUM})\s*[%％]", r"(\2/100*\1)"),
        # Operator words of fr, es, de, it, pt, ja, zh, only between two numbers.
        (
            r"(?<=\d)\s*(?:fois|mal|vezes|per|por|multiplicado\s+por|moltiplicato\s+per|"
            r"multipli[ée]\s+par|かける|掛ける|×|乘以|乘)\s*(?=\d)",
            " * ",
        ),
        (
            r"(?<=\d)\s*(?:divis[ée]\s+par|dividido\s+(?:por|entre)|geteilt\s+durch|diviso\s+per|"
            r"diviso|割る|除以)\s*(?=\d)",
            " / ",
        ),
        (r"(?<=\d)\s*(?:más|mais|più|足す|加上|加)\s*(?=\d)", " + "),
        (r"(?<=\d)\s*(?:moins|menos|meno|引く|减去|减)\s*(?=\d)", " - "),
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
    for pattern in (_TZ_PLACE, _TZ_PLACE_ELSEWHERE):
        place = pattern.search(prompt)
        if place:
            zone = _PLACES.get(" ".join(place.group(1).lower().replace(".", "").split()))
            if zone:
                return zone
    return next((zone for name, zone in _CJK_PLACES.items() if name in prompt), None)


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
