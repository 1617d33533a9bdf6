"""Given documents as users have them (text, Markdown, HTML, PDF), extract_text finds their text and title,
and refuses what no reader can use with a typed error: 415 for other kinds, 422 for broken content."""

from __future__ import annotations

import pytest

from orchestrator.errors import DocumentParseError, UnsupportedMediaTypeError, ValidationError
from orchestrator.grounding.parsing import (
    HTML,
    MARKDOWN,
    PDF,
    PLAIN,
    detect_content_type,
    extract_text,
    markdown_title,
)
from tests.support.documents import make_pdf

ZEPHYR = "The Zephyr-9 launch authorization code is 4471-delta."


# ---------------------------------------------------------------------- which reader
@pytest.mark.parametrize(
    ("data", "content_type", "filename", "expected"),
    [
        (b"plain words", "text/plain", None, PLAIN),
        (b"plain words", None, "notes.txt", PLAIN),
        (b"# Heading", "text/markdown", None, MARKDOWN),
        (b"# Heading", "application/octet-stream", "README.md", MARKDOWN),  # what browsers send
        (b"# Heading", "text/plain", "README.markdown", PLAIN),  # a declared kind wins over the name
        (b"<p>x</p>", "text/html; charset=utf-8", None, HTML),
        (b"<!DOCTYPE html><html><body>x</body></html>", "text/plain", None, HTML),  # sniffed
        (b"<!doctype html><p>x</p>", None, None, HTML),
        (b"%PDF-1.7 ...", "text/plain", "fake.txt", PDF),  # the bytes beat the claim
        (b"%PDF-1.7 ...", None, None, PDF),
        (b"untitled text", None, None, PLAIN),
    ],
)
def test_the_kind_comes_from_bytes_then_type_then_extension(
    data: bytes, content_type: str | None, filename: str | None, expected: str
) -> None:
    assert detect_content_type(data, content_type=content_type, filename=filename) == expected


@pytest.mark.parametrize(
    ("data", "content_type", "filename"),
    [
        (b"\x89PNG\r\n\x1a\n", "image/png", "photo.png"),
        (b"PK\x03\x04", "application/octet-stream", "report.docx"),
        (b"\x00\x01\x02binary", None, None),
        (b"a,b\n1,2", "application/vnd.ms-excel", "sheet.xls"),
    ],
)
def test_other_kinds_are_unsupported_media_types(
    data: bytes, content_type: str | None, filename: str | None
) -> None:
    with pytest.raises(UnsupportedMediaTypeError) as raised:
        extract_text(data, content_type=content_type, filename=filename)

    assert raised.value.status_code == 415
    assert "application/pdf" in raised.value.message


# ---------------------------------------------------------------------- text and Markdown
def test_plain_text_keeps_its_lines_and_honours_the_charset() -> None:
    parsed = extract_text(
        "Café menu\r\n\r\n\r\n\r\nSoup\r\n".encode("latin-1"),
        content_type="text/plain; charset=latin-1",
        filename=None,
    )

    assert parsed == type(parsed)(title=None, text="Café menu\n\nSoup", content_type=PLAIN)


def test_text_that_is_not_utf8_without_a_charset_is_a_422() -> None:
    with pytest.raises(DocumentParseError, match="UTF-8"):
        extract_text("Café".encode("latin-1"), content_type="text/plain", filename=None)


def test_markdown_keeps_headings_as_lines_and_names_the_first_as_title() -> None:
    text = f"Intro line\n\n# Zephyr-9 Manual #\n\n## Launch\n\n{ZEPHYR}\n"

    parsed = extract_text(text.encode(), content_type=None, filename="zephyr.md")

    assert parsed.content_type == MARKDOWN
    assert parsed.title == "Zephyr-9 Manual"
    assert "## Launch" in parsed.text.split("\n") and ZEPHYR in parsed.text


def test_a_setext_heading_is_a_title_too() -> None:
    assert markdown_title("Release notes\n=============\n\nbody") == "Release notes"
    assert markdown_title("no heading here") is None


# ---------------------------------------------------------------------- HTML
PAGE = f"""<!DOCTYPE html>
<html><head><title> Zephyr-9 | Docs </title><style>p {{color: red}}</style>
<script>var secret = "not text";</script></head>
<body><nav><a href="/">Home</a> <a href="/x">Menu</a></nav>
<h1>Launch</h1><p>{ZEPHYR.replace("4471-delta", "<b>4471-delta</b>")}</p>
<ul><li>First</li><li>Second<br>line</li></ul>
<footer>Copyright</footer></body></html>"""


def test_html_gives_the_readable_text_in_lines_and_the_title() -> None:
    parsed = extract_text(PAGE.encode(), content_type="text/html", filename=None)

    lines = [line for line in parsed.text.split("\n") if line]
    assert parsed.title == "Zephyr-9 | Docs"
    assert lines == ["Launch", ZEPHYR, "First", "Second", "line"]  # inline <b> stays in its sentence
    for hidden in ("not text", "color", "Menu", "Copyright"):
        assert hidden not in parsed.text


def test_html_without_a_title_element_takes_its_first_h1() -> None:
    parsed = extract_text(
        b"<html><body><h1>Only heading</h1><p>x</p></body></html>", content_type=None, filename="a.htm"
    )

    assert parsed.title == "Only heading"


# ---------------------------------------------------------------------- PDF
def test_pdf_text_and_metadata_title_are_read() -> None:
    data = make_pdf(["Zephyr-9 manual", f"Launch\n{ZEPHYR}"], title="Zephyr-9 Operations Manual")

    parsed = extract_text(data, content_type="application/pdf", filename="manual.pdf")

    assert parsed.content_type == PDF
    assert parsed.title == "Zephyr-9 Operations Manual"
    assert ZEPHYR in parsed.text and parsed.text.startswith("Zephyr-9 manual")


def test_a_pdf_without_metadata_has_no_title() -> None:
    assert extract_text(make_pdf(["words"]), content_type=None, filename=None).title is None


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (make_pdf(["cut short"])[:200], "could not be read"),
        (b"%PDF-1.4\n" + b"\x00garbage" * 50, "could not be read"),
        (make_pdf(["secret"], password="hunter2"), "encrypted"),
        (make_pdf([""]), "no text layer"),
    ],
    ids=["truncated", "garbage", "encrypted", "scan"],
)
def test_unreadable_pdfs_are_422_never_500(data: bytes, message: str) -> None:
    with pytest.raises(DocumentParseError, match=message) as raised:
        extract_text(data, content_type="application/pdf", filename="x.pdf")

    assert raised.value.status_code == 422


def test_a_pdf_over_the_page_cap_is_refused_before_its_text_is_read() -> None:
    with pytest.raises(ValidationError, match="3 pages; the limit is 2"):
        extract_text(make_pdf(["a", "b", "c"]), content_type=None, filename=None, max_pages=2)


@pytest.mark.parametrize("kind", ["text", "pdf"])
def test_text_over_the_character_cap_is_refused(kind: str) -> None:
    words = "word " * 100
    data = make_pdf([words, words]) if kind == "pdf" else (words * 2).encode()

    with pytest.raises(ValidationError, match="the limit is 150"):
        extract_text(data, content_type=None, filename=None, max_chars=150)


def test_an_empty_document_is_a_422() -> None:
    with pytest.raises(DocumentParseError, match="no text"):
        extract_text(b"  \n\n ", content_type="text/plain", filename=None)
