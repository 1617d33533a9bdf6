"""Shallow text analysis shared by the router (shape features) and the planner (clauses).

Clauses are English; the router's sequence markers also cover the languages of routes.json.
Everything here is a transparent rule over the surface of the text: sequence markers, list
numbering, punctuation and a lexicon of task verbs. No model, no network, microseconds per call.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

#: Words that open a new step when they lead a clause ("then draft …", "finally send …").
_SEQUENCE = (
    r"first(?:ly)?|second(?:ly)?|third(?:ly)?|then|next|after\s+that|afterwards|after\s+this|"
    r"finally|lastly|subsequently|once\s+(?:that\s+is\s+|this\s+is\s+)?done"
)
SEQUENCE_MARKER = re.compile(rf"^\s*(?:and\s+)?(?:{_SEQUENCE})\b[\s,:]*", re.IGNORECASE)
_ANY_SEQUENCE = re.compile(rf"\b(?:{_SEQUENCE}|step\s+\d+)\b", re.IGNORECASE)
#: The same markers in the other languages routes.json has examples in (fr, es, de, it, pt; ja, zh
#: need no word boundaries). Only the router's shape features use them; the planner's clause
#: splitting stays English.
_OTHER_SEQUENCE = re.compile(
    r"\b(?:d'abord|ensuite|puis|enfin|étape\s+\d+|primero|luego|después|finalmente|paso\s+\d+|"
    r"zuerst|dann|danach|anschließend|schließlich|schritt\s+\d+|poi|quindi|infine|fase\s+\d+|"
    r"primeiro|depois|em\s+seguida|por\s+fim|etapa\s+\d+)\b|まず|次に|それから|最後に|首先|然后|接着|最后",
    re.IGNORECASE,
)
#: A leading sequence marker of those languages ("puis …", "y luego …", "und dann …", "然后…").
_OTHER_MARKER = re.compile(
    r"^\s*(?:(?:et|y|und|e)\s+)?(?:(?:d'abord|ensuite|puis|enfin|primero|luego|después|finalmente|"
    r"zuerst|dann|danach|anschließend|schließlich|poi|quindi|infine|primeiro|depois|em\s+seguida|"
    r"por\s+fim)\b|まず|次に|それから|最後に|首先|然后|接着|最后)[\s,:、，：]*",
    re.IGNORECASE,
)
_OTHER_MARKER_AHEAD = _OTHER_MARKER.pattern.removeprefix("^\\s*")
#: Clause separators of Chinese and Japanese (full-width comma, enumeration comma, colon, semicolon).
_CJK_SEPARATOR = re.compile(r"[，、：；]")

#: "1. …", "2) …", "- …", "* …", "Step 3: …" at a line start or inline after whitespace.
_LIST_ITEM = re.compile(r"(?:^|\s)(?:\(?\d{1,2}[.)]|step\s+\d{1,2}\s*[:.)-]|[-*•])\s+", re.IGNORECASE)

#: Words that make a clause refer back to an earlier result.
_BACK_REFERENCE = re.compile(
    r"\b(?:it|its|them|they|their|that|those|these|this|the\s+results?|the\s+findings|"
    r"the\s+above|each(?:\s+one)?|from\s+it|based\s+on\s+(?:it|that|this|them))\b",
    re.IGNORECASE,
)

#: Common imperative verbs of task requests: a comma- or "and"-separated fragment that starts with
#: one of these is a new step; otherwise it continues the previous clause ("USD, EUR and GBP").
_ACTION_VERB_LIST = """
    add analyse analyze answer apply archive assess assign audit benchmark book break brainstorm build
    calculate call categorize categorise chart check choose clean cluster collect combine compare compile
    compose compute condense configure confirm convert count create decide define deploy describe design
    determine develop document download draft edit email estimate evaluate execute explain export extract
    fetch file fill filter find fix forecast format gather generate get give go group highlight identify
    implement improve include investigate label list locate look make map measure merge migrate model
    monitor name note notify open order organize organise outline parse pick plan post predict prepare
    present prioritize prioritise produce propose provide publish pull put query rank rate read recommend
    record reformat refactor report research retrieve review revise rewrite run save schedule
    score scrape screen search segment select send set share show sort split suggest summarise summarize
    synthesize synthesise tabulate tag tell test track train translate turn update upload validate verify
    visualize visualise write print buy purchase pay contact ask reply respond invite hire install
    remove delete cancel reserve register sign attach approve close start stop restart upgrade
    backup restore remind arrange assemble
"""
ACTION_VERBS = frozenset(_ACTION_VERB_LIST.split())

_URL = re.compile(r"https?://|\bwww\.", re.IGNORECASE)
_MATH = re.compile(r"\d\s*[-+*/^×x÷]\s*\d|\d[\d,.]*\s*%|\b\d[\d,.]*\b\D{1,40}\b\d[\d,.]*\b")
_CODE = re.compile(r"[{}\[\];=]|\w\([^()]{0,200}\)|\b(?:print|import|def|lambda|console\.log|SELECT)\b")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9])|(?<=[。！？])\s*(?=\S)")
_SEMICOLON = re.compile(r"\s*;\s*")
_HEADING = re.compile(r"^\s*([^:]{3,80}):\s+(?=\S)")
_WORD = re.compile(r"[A-Za-z']+")


@dataclass(frozen=True)
class Clause:
    """One candidate step: its text without the leading marker, and how it was introduced."""

    text: str
    #: A sequence marker ("then", "finally", a list number) introduced this clause.
    sequenced: bool = False

    @property
    def refers_back(self) -> bool:
        return bool(_BACK_REFERENCE.search(self.text))


def _first_word(text: str) -> str:
    match = _WORD.search(text)
    return match.group(0).lower() if match else ""


def _strip_marker(text: str) -> tuple[str, bool]:
    match = SEQUENCE_MARKER.match(text)
    if match is None:
        other = _OTHER_MARKER.match(text)
        rest = text[other.end() :].strip() if other else ""
        return (rest, True) if rest else (text.strip(), False)
    rest = text[match.end() :].strip()
    # "First quarter revenue …" is not a marker: one must be set off by punctuation or lead a verb.
    if any(mark in match.group(0) for mark in ",:") or _first_word(rest) in ACTION_VERBS:
        return rest, True
    return text.strip(), False


def _split_actions(sentence: str) -> list[Clause]:
    """Split one sentence at ", " / " and " / " then " where the next fragment starts a new action."""
    pieces = re.split(
        rf"(,\s*(?:and\s+)?|\s+and\s+(?=then\b)|\s+and\s+|\s+then\s+|[，、；]\s*"
        rf"|\s+(?:et|y|und|e)\s+(?={_OTHER_MARKER_AHEAD}))",
        sentence,
        flags=re.IGNORECASE,
    )
    clauses: list[Clause] = []
    buffer, buffer_sequenced = pieces[0], False
    for separator, fragment in zip(pieces[1::2], pieces[2::2], strict=True):
        body, sequenced = _strip_marker(fragment)
        sequenced = sequenced or separator.strip().lower().endswith("then")
        # A marker of another language opens a step too ("…, puis fais un graphique").
        opens = _first_word(body) in ACTION_VERBS and len(_WORD.findall(body)) >= 2
        if opens or (body and _OTHER_MARKER.match(fragment)):
            clauses.append(Clause(buffer.strip(" ,.;:。"), buffer_sequenced))
            buffer, buffer_sequenced = body, sequenced
        else:
            buffer += separator + fragment
    clauses.append(Clause(buffer.strip(" ,.;:。"), buffer_sequenced))
    return [c for c in clauses if c.text]


def split_clauses(text: str) -> tuple[str | None, list[Clause]]:
    """Split a request into action clauses; also return a leading heading ("Plan a launch: …").

    Order of rules: explicit list items, then sentences and semicolons, then action fragments inside
    each sentence. A clause keeps its own words; only the leading sequence marker is removed.
    """
    text = " ".join(text.split())
    heading: str | None = None
    items = [item for item in _LIST_ITEM.split(text) if item.strip()]
    if len(_LIST_ITEM.findall(text)) >= 2:
        # Text before the first list item is a heading ("Do the following: 1) … 2) …").
        if not _LIST_ITEM.match(text):
            heading = items.pop(0).strip(" :")
        return heading, [Clause(_strip_marker(item)[0].strip(" ,.;:"), True) for item in items]
    match = _HEADING.match(text)
    if match and _first_word(text[match.end() :]) in ACTION_VERBS:
        heading, text = match.group(1).strip(), text[match.end() :]
    clauses: list[Clause] = []
    for sentence in _SENTENCE_END.split(text):
        for part in _SEMICOLON.split(sentence):
            body, sequenced = _strip_marker(part)
            if not body:
                continue
            split = _split_actions(body)
            if sequenced and split:
                split[0] = Clause(split[0].text, True)
            clauses.extend(split)
    return heading, [c for c in clauses if c.text]


def shape_features(text: str) -> list[float]:
    """Generic shape of a request, in [0, 1]: the router learns per-route weights for each.

    Action clauses, sequence markers, a URL, arithmetic, code, a question mark, length.
    """
    _, clauses = split_clauses(text)
    words = len(_WORD.findall(text))
    # Chinese and Japanese have no spaces or English verbs to split on: count their separators.
    extra = min(len(_CJK_SEPARATOR.findall(text)), 3)
    sequenced = _ANY_SEQUENCE.search(text) or _OTHER_SEQUENCE.search(text) or _LIST_ITEM.search(text)
    return [
        min(max(len(clauses) - 1, extra), 3) / 3 if clauses else 0.0,
        1.0 if sequenced else 0.0,
        1.0 if _URL.search(text) else 0.0,
        1.0 if _MATH.search(text) else 0.0,
        1.0 if _CODE.search(text) else 0.0,
        1.0 if text.rstrip().endswith(("?", "？")) else 0.0,
        min(words, 40) / 40,
    ]


SHAPE_FEATURES = ("clauses", "sequence_marker", "url", "arithmetic", "code", "question", "length")
