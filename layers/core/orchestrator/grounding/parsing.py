"""Documents as users have them: plain text, Markdown, HTML and PDF, read into plain text.

:func:`extract_text` decides the kind from the bytes first (a PDF starts with ``%PDF-``), then
the declared content type, then the file name's extension, and hands the bytes to one reader:

- **PDF**: pypdf (pure Python, 5 MB). Encrypted files that open with an empty password are read;
  others, broken files and files without a text layer (scans) are refused as
  :class:`DocumentParseError` (422), never a 500.
- **HTML**: Beautiful Soup on the standard library's ``html.parser`` (pure Python, 2 MB with
  soupsieve): scripts, styles, navigation and forms dropped, block elements kept as lines.
  trafilatura (70 MB installed, 36 MB of it babel) and markitdown (199 MB, onnxruntime and
  numpy again) do not fit the 250 MB layer beside the embedded model and numpy.
- **Markdown** stays Markdown (headings are lines of their own, which chunking keeps).
- **Plain text** is decoded with the declared charset, else UTF-8.

The readers are imported on first use, so a handler that never sees a PDF never loads pypdf.
Every reader stops at ``max_chars`` (and PDFs at ``max_pages``) instead of reading a whole
oversized document only to refuse it afterwards.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import TYPE_CHECKING

from orchestrator.errors import (
    DocumentParseError,
    OrchestratorError,
    UnsupportedMediaTypeError,
    ValidationError,
)

if TYPE_CHECKING:
    from bs4 import BeautifulSoup

PLAIN = "text/plain"
MARKDOWN = "text/markdown"
HTML = "text/html"
PDF = "application/pdf"
SUPPORTED = (PLAIN, MARKDOWN, HTML, PDF)

#: Declared types that name a supported kind under another name.
_ALIASES = {
    "text/plain": PLAIN,
    "text/markdown": MARKDOWN,
    "text/x-markdown": MARKDOWN,
    "text/html": HTML,
    "application/xhtml+xml": HTML,
    "application/pdf": PDF,
    "application/x-pdf": PDF,
}
_EXTENSIONS = {
    ".txt": PLAIN,
    ".text": PLAIN,
    ".md": MARKDOWN,
    ".markdown": MARKDOWN,
    ".html": HTML,
    ".htm": HTML,
    ".xhtml": HTML,
    ".pdf": PDF,
}
#: What browsers and HTTP clients send when they do not know: fall through to the extension.
_UNKNOWN = {"", "application/octet-stream", "binary/octet-stream", "application/x-www-form-urlencoded"}
_HTML_START = re.compile(
    rb"^\s*(<!--.*?-->\s*)*<(!doctype\s+html|html[\s>]|head[\s>]|body[\s>])", re.I | re.S
)
_ATX_HEADING = re.compile(r"^ {0,3}#{1,6}[ \t]+(.+?)(?:[ \t]+#+)?[ \t]*$", re.M)
_SETEXT_HEADING = re.compile(r"^ {0,3}(\S[^\n]*)\n {0,3}(=+|-+)[ \t]*$", re.M)
#: Removed with their content: not what a reader of the page reads.
_HTML_DROP = (
    "script",
    "style",
    "noscript",
    "template",
    "svg",
    "canvas",
    "iframe",
    "nav",
    "footer",
    "aside",
    "form",
    "button",
    "select",
)
_HTML_BLOCKS = (
    "address",
    "article",
    "blockquote",
    "dd",
    "div",
    "dl",
    "dt",
    "figcaption",
    "figure",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "header",
    "hr",
    "li",
    "main",
    "ol",
    "p",
    "pre",
    "section",
    "table",
    "td",
    "th",
    "tr",
    "ul",
)
DEFAULT_MAX_PAGES = 500


@dataclass(frozen=True)
class ParsedDocument:
    """A document's text, the title it names itself (if any), and the kind it was read as."""

    title: str | None
    text: str
    content_type: str


def _media_type(content_type: str | None) -> tuple[str, str | None]:
    """``"text/plain; charset=latin-1"`` → ``("text/plain", "latin-1")``."""
    if not content_type:
        return "", None
    kind, _, params = content_type.partition(";")
    charset = None
    for param in params.split(";"):
        name, _, value = param.partition("=")
        if name.strip().lower() == "charset" and value.strip():
            charset = value.strip().strip('"').lower()
    return kind.strip().lower(), charset


def detect_content_type(data: bytes, *, content_type: str | None, filename: str | None) -> str:
    """The kind to read ``data`` as, or :class:`UnsupportedMediaTypeError` (415)."""
    if data.startswith(b"%PDF-"):
        return PDF  # the bytes say so, whatever the upload claimed
    declared, _ = _media_type(content_type)
    if declared in _ALIASES:
        kind = _ALIASES[declared]
        # A page saved as .html but sent as text/plain is still a page.
        return HTML if kind == PLAIN and _HTML_START.match(data[:1024]) else kind
    extension = PurePosixPath((filename or "").replace("\\", "/")).suffix.lower()
    if declared in _UNKNOWN or declared.startswith("text/"):
        if extension in _EXTENSIONS:
            return _EXTENSIONS[extension]
        if _HTML_START.match(data[:1024]):
            return HTML
        if declared.startswith("text/") or (not extension and _looks_like_text(data)):
            return PLAIN
    supported = ", ".join(SUPPORTED)
    raise UnsupportedMediaTypeError(
        f"Cannot read a document of type {declared or 'unknown'!r}"
        f"{f' named {filename!r}' if filename else ''}; supported: {supported}",
        details={"supported": list(SUPPORTED)},
    )


def _looks_like_text(data: bytes) -> bool:
    head = data[:4096]
    return b"\0" not in head and _decodes(head)


def _decodes(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        return exc.start >= len(data) - 3  # a multi-byte character cut at the sample's end
    return True


def extract_text(
    data: bytes,
    *,
    content_type: str | None,
    filename: str | None,
    max_chars: int | None = None,
    max_pages: int = DEFAULT_MAX_PAGES,
) -> ParsedDocument:
    """The text of an uploaded document.

    415 (:class:`UnsupportedMediaTypeError`) for kinds no reader handles; 422 for content a
    reader cannot use (broken PDF, no text, more than ``max_chars`` characters or ``max_pages``).
    """
    kind = detect_content_type(data, content_type=content_type, filename=filename)
    _, charset = _media_type(content_type)
    if kind == PDF:
        title, text = _read_pdf(data, max_chars=max_chars, max_pages=max_pages)
    elif kind == HTML:
        title, text = _read_html(data, charset)
    else:
        text = _normalise(_decode(data, charset))
        title = markdown_title(text) if kind == MARKDOWN else None
    _check_length(text, max_chars)
    if not text.strip():
        raise DocumentParseError("The document has no text", details={"content_type": kind})
    return ParsedDocument(title=title, text=text, content_type=kind)


def markdown_title(text: str) -> str | None:
    """The first heading's text: ``# Title`` or a setext ``Title`` over ``=====``."""
    atx, setext = _ATX_HEADING.search(text), _SETEXT_HEADING.search(text)
    first = min((m for m in (atx, setext) if m), key=lambda m: m.start(), default=None)
    return _clean_title(first.group(1)) if first else None


def _clean_title(title: str | None) -> str | None:
    cleaned = " ".join((title or "").split())
    return cleaned or None


def _check_length(text: str | int, max_chars: int | None) -> None:
    """Refuse a text (or a running character count) over ``max_chars``."""
    length = text if isinstance(text, int) else len(text)
    if max_chars is not None and length > max_chars:
        raise ValidationError(
            f"The document has more than {max_chars} characters of text; the limit is {max_chars}",
            details={"limit": max_chars},
        )


def _decode(data: bytes, charset: str | None) -> str:
    try:
        return data.decode(charset or "utf-8-sig")
    except LookupError:
        raise DocumentParseError(f"Unknown charset {charset!r}") from None
    except UnicodeDecodeError as exc:
        raise DocumentParseError(
            f"The text is not valid {charset or 'UTF-8'} (byte {exc.start}); "
            "send UTF-8 or name the charset in the content type",
        ) from None


def _normalise(text: str) -> str:
    """Unix line ends, no NULs, no trailing spaces, at most one blank line in a row."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\0", "")
    lines = [line.rstrip() for line in text.split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


# ---------------------------------------------------------------------------------------- HTML
def _read_html(data: bytes, charset: str | None) -> tuple[str | None, str]:
    from bs4 import BeautifulSoup

    try:
        soup = BeautifulSoup(data, "html.parser", from_encoding=charset)
    except Exception as exc:  # html.parser is lenient; anything it still rejects is the input's fault
        raise DocumentParseError("The HTML could not be read") from exc
    title = _clean_title(soup.title.get_text()) if soup.title else None
    if title is None and (heading := soup.find("h1")):
        title = _clean_title(heading.get_text())
    return title, _html_text(soup)


def _html_text(soup: BeautifulSoup) -> str:
    for tag in soup.find_all(["head", *_HTML_DROP]):
        tag.decompose()
    for br in soup.find_all("br"):
        br.replace_with("\n")
    for block in soup.find_all(_HTML_BLOCKS):
        block.insert_before("\n")
        block.insert_after("\n")
    lines = (" ".join(line.split()) for line in soup.get_text().split("\n"))
    return _normalise("\n".join(lines))


# ---------------------------------------------------------------------------------------- PDF
def _read_pdf(data: bytes, *, max_chars: int | None, max_pages: int) -> tuple[str | None, str]:
    try:
        return _pdf_text(data, max_chars=max_chars, max_pages=max_pages)
    except OrchestratorError:
        raise
    except Exception as exc:  # pypdf raises many types on malformed files; each means "unreadable"
        raise DocumentParseError(
            f"The PDF could not be read ({type(exc).__name__}); is it a complete, valid PDF?"
        ) from exc


def _pdf_text(data: bytes, *, max_chars: int | None, max_pages: int) -> tuple[str | None, str]:
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(data))
    if reader.is_encrypted and not reader.decrypt(""):
        raise DocumentParseError("The PDF is encrypted with a password; upload an unprotected copy")
    pages = len(reader.pages)
    if pages > max_pages:
        raise ValidationError(
            f"The PDF has {pages} pages; the limit is {max_pages}", details={"limit": max_pages}
        )
    texts: list[str] = []
    total = 0
    for page in reader.pages:
        text = _normalise(page.extract_text() or "")
        texts.append(text)
        total += len(text) + 2
        _check_length(total - 2, max_chars)  # stop reading as soon as the text is over the cap
    text = _normalise("\n\n".join(texts))
    if not text:
        raise DocumentParseError(
            "The PDF has no text layer (a scan?); text recognition is not supported",
            details={"pages": pages},
        )
    metadata = reader.metadata
    return _clean_title(metadata.title if metadata else None), text
