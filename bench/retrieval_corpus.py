"""Extract the retrieval benchmark's corpus: Debian's dpkg and APT manual pages, as plain text.

The pages are real technical documentation written by nobody here (dpkg and APT, GPL-2+, see
bench/data/debian-man.LICENSE). Minimal images strip /usr/share/man, so the extracted text is
kept in bench/data/debian-man.jsonl.gz (one {"doc_id", "title", "text"} per page); this script
rebuilds it where the pages and man-db are installed:

.venv/bin/python bench/retrieval_corpus.py
"""

from __future__ import annotations

import gzip
import json
import os
import re
import subprocess
from pathlib import Path

OUT = Path(__file__).resolve().parent / "data" / "debian-man.jsonl.gz"
PAGES = [
    *sorted(Path("/usr/share/man/man1").glob("dpkg*.1.gz")),
    *sorted(Path("/usr/share/man/man5").glob("deb*.5.gz")),
    *sorted(Path("/usr/share/man/man5").glob("dpkg*.5.gz")),
    *[Path(f"/usr/share/man/man5/{n}.5.gz") for n in ("apt.conf", "apt_preferences", "sources.list")],
    *sorted(Path("/usr/share/man/man8").glob("apt*.8.gz")),
    *sorted(Path("/usr/share/man/man8").glob("dpkg*.8.gz")),
]


def render(page: Path) -> str:
    env = {**os.environ, "MANWIDTH": "100", "LANG": "C.UTF-8"}
    out = subprocess.run(
        ["man", "--no-hyphenation", "--no-justification", "-l", str(page)],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    ).stdout
    text = re.sub(r".\x08", "", out)  # overstrike bold/underline
    lines = [line.rstrip() for line in text.splitlines()[1:-1]]  # drop the header and footer lines
    # man indents everything; keep paragraphs (blank lines) and join wrapped lines.
    paragraphs = re.split(r"\n\s*\n", "\n".join(lines))
    return "\n\n".join(" ".join(p.split()) for p in paragraphs if p.strip())


def main() -> None:
    with gzip.open(OUT, "wt", encoding="utf-8") as out:
        for page in PAGES:
            if not page.exists():
                continue
            name = page.name.removesuffix(".gz")
            title = f"{name.rsplit('.', 1)[0]}({name.rsplit('.', 1)[1]}) manual page"
            record = {"doc_id": name.replace("_", "-"), "title": title, "text": render(page)}
            out.write(json.dumps(record) + "\n")
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
