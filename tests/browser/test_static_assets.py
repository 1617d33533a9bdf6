"""Given the Studio's files as committed, they are what VENDORED.md says, small, and build no markup.

No browser needed: these run wherever the suite runs.
"""

from __future__ import annotations

import hashlib
import re

from orchestrator.studio import STATIC_DIR

#: The issue's budget for the page and its libraries.
MAX_STATIC_BYTES = 1_500_000


def test_vendored_files_are_the_published_ones_listed_with_their_licences() -> None:
    listing = (STATIC_DIR / "vendor" / "VENDORED.md").read_text()
    recorded = dict(
        (name, digest) for digest, name in re.findall(r"^([0-9a-f]{64})  (\S+)$", listing, flags=re.MULTILINE)
    )
    vendored = sorted(path.name for path in (STATIC_DIR / "vendor").glob("*.js"))

    assert sorted(recorded) == vendored
    for name in vendored:
        assert hashlib.sha256((STATIC_DIR / "vendor" / name).read_bytes()).hexdigest() == recorded[name], name
    licences = [path.name for path in (STATIC_DIR / "vendor").iterdir() if "LICENSE" in path.name]
    assert len(licences) == len(vendored)


def test_the_studio_stays_small() -> None:
    total = sum(path.stat().st_size for path in STATIC_DIR.rglob("*") if path.is_file())

    assert 0 < total < MAX_STATIC_BYTES


def test_the_studio_code_never_turns_data_into_markup() -> None:
    sources = [*STATIC_DIR.glob("*.js"), *STATIC_DIR.glob("views/*.js")]
    sinks = re.compile(r"\.innerHTML|\.outerHTML|insertAdjacentHTML|document\.write|\beval\(|new Function\(")

    assert len(sources) >= 8
    offenders = [
        f"{path.name}: {line.strip()}"
        for path in sources
        for line in path.read_text().splitlines()
        if sinks.search(line) and not line.lstrip().startswith("//")
    ]
    assert offenders == []


def test_every_module_the_page_imports_is_there() -> None:
    page = (STATIC_DIR / "index.html").read_text()
    scripts = re.findall(r'src="studio/static/([^"]+)"', page)
    imports = [
        (path.parent / target).resolve()
        for path in [*STATIC_DIR.glob("*.js"), *STATIC_DIR.glob("views/*.js")]
        for target in re.findall(r'^import .* from "(\.{1,2}/[^"]+)";$', path.read_text(), flags=re.MULTILINE)
    ]

    assert "app.js" in scripts and all((STATIC_DIR / script).is_file() for script in scripts)
    assert imports and all(path.is_file() for path in imports)
