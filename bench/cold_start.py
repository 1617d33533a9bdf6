"""Cold start per built Lambda function, and the built packages' sizes.

For every function ``sam build`` produced (``.aws-sam/build/<LogicalId>/`` and the layer
``.aws-sam/build/CoreLayer/python``), in a fresh Python 3.13 process (the runtime's version) with
only those folders on ``sys.path`` (plus boto3, which the Lambda runtime provides) and the
function's environment from ``template.yaml`` (stub values for Refs, Lambda's own variables, AWS
endpoints pointed at a stub on 127.0.0.1 so nothing leaves the machine), it times the
handler module's import and the first use of the embedded models (the router's classifier on the
WordLlama embeddings and its language identifier; the embedder of grounding and ingestion).
Median of ``--runs`` processes each; ``from langgraph.graph import StateGraph`` the same way.

The build targets arm64 and this machine may not: the native extensions (numpy, pydantic-core,
tokenizers, …) are then swapped for the host's wheels of the *same versions* in a copy
(``.aws-sam/bench-native``); every Python file and the precompiled bytecode are the built ones.

Sizes are measured on the build itself: unzipped and zipped (deflate, in memory) per function with
the layer, against Lambda's 250 MB unzipped limit, and the layer's five biggest distributions.

    PYTHONPATH=layers/core .venv/bin/python bench/cold_start.py [--build] [--runs 5]
"""

from __future__ import annotations

import argparse
import io
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import threading
import zipfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
BUILD = ROOT / ".aws-sam" / "build"
NATIVE = ROOT / ".aws-sam" / "bench-native"
LAYER = "CoreLayer"
LAMBDA_UNZIPPED_LIMIT_MB = 250
LANGGRAPH = "langgraph==1.2.24"  # the version requirements-dev.txt pins

#: What "first use" means per function (see PROBE).
FIRST_USE = {
    "IntentRouterFunction": "router",
    "GroundingFunction": "embedder",
    "DocumentIngestFunction": "embedder",
}

PROBE = r"""
import importlib, json, sys, time
task_root, mode = sys.argv[1], sys.argv[2]
sys.path[:0] = json.loads(sys.argv[3])
result = {}
marks = [(time.perf_counter(), time.process_time())]

def lap(name):
    marks.append((time.perf_counter(), time.process_time()))
    (w0, c0), (w1, c1) = marks[-2], marks[-1]
    result[name + "_ms"] = (w1 - w0) * 1000
    result[name + "_cpu_ms"] = (c1 - c0) * 1000

if mode == "langgraph":
    from langgraph.graph import StateGraph
    lap("import")
else:
    importlib.import_module("app")
    lap("import")
    if mode == "router":
        from orchestrator import container
        router = container.current().router
        marks.append((time.perf_counter(), time.process_time()))
        router.classifier.fit()
        lap("model")
        router.languages.warm_up()
        lap("language")
        router.classify("How do I reset my password?")
        lap("first_call")
    elif mode == "embedder":
        from orchestrator.clients.embeddings.embedded import EmbeddedEmbedder
        EmbeddedEmbedder().embed(["warm up"])
        lap("model")
print(json.dumps(result))
"""


# ---------------------------------------------------------------------- build and host copy
def ensure_build(force: bool) -> None:
    """``make sam-build`` when asked or when there is no build (it takes about a minute)."""
    if force or not (BUILD / LAYER / "python").is_dir():
        print("running make sam-build …", flush=True)
        subprocess.run(["make", "sam-build"], cwd=ROOT, check=True)


def runtime_python() -> str:
    """The real path of a Python 3.13 interpreter (pyenv's shim resolved)."""
    env = {**os.environ, "PYENV_VERSION": os.environ.get("PYENV_VERSION", "3.13.0")}
    found = shutil.which("python3.13", path=env.get("PATH"))
    if found is None:
        sys.exit("python3.13 is not on PATH: the Lambda runtime's version is needed (pyenv install 3.13)")
    out = subprocess.run(
        [found, "-c", "import sys; print(sys.executable)"],
        env=env,
        text=True,
        capture_output=True,
        check=True,
    )
    return out.stdout.strip()


def _built_arch() -> str:
    return (
        "aarch64"
        if any((BUILD / LAYER / "python").glob("*aarch64*.so"))
        or any((BUILD / LAYER / "python").rglob("*-aarch64-linux-gnu.so"))
        else platform.machine()
    )


def native_distributions(target: Path) -> list[str]:
    """``name==version`` of every distribution under ``target`` that ships compiled code."""
    found = []
    for record in sorted(target.glob("*.dist-info/RECORD")):
        if any(
            line.split(",")[0].endswith(".so") or ".so." in line.split(",")[0]
            for line in record.read_text().splitlines()
        ):
            metadata = (record.parent / "METADATA").read_text(errors="replace")
            fields = dict(
                line.split(": ", 1)
                for line in metadata.splitlines()
                if ": " in line and not line.startswith(" ")
            )
            found.append(f"{fields['Name']}=={fields['Version']}")
    return found


def _pip_install(requirements: Iterable[str], target: Path, *, deps: bool) -> None:
    machine = platform.machine()
    platforms = [f"manylinux2014_{machine}", f"manylinux_2_28_{machine}", f"manylinux_2_34_{machine}"]
    command = [
        sys.executable,
        "-m",
        "pip",
        "install",
        "--quiet",
        "--no-compile",
        "--upgrade",
        "--target",
        str(target),
        "--implementation",
        "cp",
        "--python-version",
        "3.13",
        "--only-binary=:all:",
    ]
    for tag in platforms:
        command += ["--platform", tag]
    if not deps:
        command.append("--no-deps")
    done = subprocess.run([*command, *requirements], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"pip failed for {' '.join(requirements)}:\n{done.stderr[-2000:]}")


#: Function folders whose dependencies sam build installs without bytecode (Lambda's /var/task is
#: read-only, so they compile on every cold start); measured once more precompiled, for comparison.
PRECOMPILED_SUFFIX = " (deps precompiled)"


def _strip_bytecode_not_in(copy: Path, source: Path) -> None:
    """Remove ``__pycache__`` folders earlier runs may have written into ``copy``."""
    for cache in list(copy.rglob("__pycache__")):
        if not (source / cache.relative_to(copy)).exists():
            shutil.rmtree(cache)


def host_copy(python: str) -> dict[str, Path]:
    """Paths to import from: the build itself, or a copy with host-native extensions."""
    folders = {p.name: p for p in sorted(BUILD.iterdir()) if p.is_dir()}
    paths = {name: (path / "python" if name == LAYER else path) for name, path in folders.items()}
    extras = NATIVE / "extras"
    stamp = NATIVE / "stamp.json"
    build_time = (BUILD / "template.yaml").stat().st_mtime
    fresh = stamp.is_file() and json.loads(stamp.read_text()).get("build_time") == build_time
    for name in folders:
        source = paths[name]
        twin = NATIVE / name / ("python" if name == LAYER else "")
        if not fresh:
            shutil.rmtree(NATIVE / name, ignore_errors=True)
            shutil.copytree(source, twin, symlinks=True)
            if _built_arch() != platform.machine():
                native = native_distributions(twin)
                if native:
                    print(f"  {name}: this machine's wheels for {', '.join(native)}", flush=True)
                    _pip_install(native, twin, deps=False)
        _strip_bytecode_not_in(twin, source)
        paths[name] = twin
    for name in [n for n in folders if n != LAYER and not any(folders[n].rglob("*.pyc"))]:
        if any(folders[name].glob("*/__init__.py")):  # has packages of its own, not just app.py
            compiled = NATIVE / f"{name}-precompiled"
            if not fresh:
                shutil.rmtree(compiled, ignore_errors=True)
                shutil.copytree(paths[name], compiled, symlinks=True)
                subprocess.run(
                    [
                        python,
                        "-m",
                        "compileall",
                        "-q",
                        "-j",
                        "0",
                        "--invalidation-mode",
                        "unchecked-hash",
                        str(compiled),
                    ],
                    check=True,
                    stdout=subprocess.DEVNULL,
                )
            paths[name + PRECOMPILED_SUFFIX] = compiled
    if not fresh:
        shutil.rmtree(extras, ignore_errors=True)
        boto3_version = _installed_version("boto3")
        # Lambda's runtime brings boto3 (the layer leaves it out); LangGraph for the comparison.
        _pip_install([f"boto3=={boto3_version}"], extras / "runtime", deps=True)
        _pip_install([LANGGRAPH], extras / "langgraph", deps=True)
        subprocess.run(
            [python, "-m", "compileall", "-q", "-j", "0", str(extras)], check=True, stdout=subprocess.DEVNULL
        )
        NATIVE.mkdir(parents=True, exist_ok=True)
        stamp.write_text(json.dumps({"build_time": build_time}))
    paths["runtime"] = extras / "runtime"
    paths["langgraph"] = extras / "langgraph"
    return paths


def _installed_version(name: str) -> str:
    from importlib.metadata import version

    return version(name)


# ---------------------------------------------------------------------- a stand-in for AWS
class _StubAwsHandler(BaseHTTPRequestHandler):
    """Answers SSM reads with no parameters (the settings path is empty, as in a fresh stack) and
    every other AWS call with an error; records each call, so the table says what a cold start asks."""

    calls: list[str]
    lock: threading.Lock

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        target = self.headers.get("X-Amz-Target") or self.path
        with self.lock:
            self.calls.append(target)
        if target.startswith("AmazonSSM.GetParameter"):
            body, status = {"Parameters": []}, 200
        else:
            body, status = {"__type": "ResourceNotFoundException", "message": "bench stub"}, 400
        payload = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/x-amz-json-1.1")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_POST

    def log_message(self, format: str, *args: Any) -> None:
        return


@contextmanager
def stub_aws() -> Iterator[tuple[str, list[str]]]:
    """A local HTTP endpoint for every AWS service: (URL, calls made so far)."""
    calls: list[str] = []
    handler = type("Handler", (_StubAwsHandler,), {"calls": calls, "lock": threading.Lock()})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", calls
    finally:
        server.shutdown()
        server.server_close()


# ---------------------------------------------------------------------- environment
def lambda_environment(logical_id: str, task_root: Path, endpoint: str) -> dict[str, str]:
    """The function's variables from template.yaml (stub Refs) plus what Lambda itself sets."""
    from orchestrator.local.template import Template

    template = Template.from_file(ROOT / "template.yaml", region="us-east-1", stack_name="bench")
    props = template.function_properties(logical_id)
    variables = (
        template.resolve(
            (props.get("Environment") or {}).get("Variables") or {},
            ref=lambda name: f"{name}-stub",
            get_att=lambda name, attribute: f"arn:aws:lambda:us-east-1:123456789012:function:{name}",
        )
        or {}
    )
    memory = template.resolve(props.get("MemorySize", 128))
    env = {key: str(value) for key, value in variables.items()}
    env.update(
        {
            "AWS_LAMBDA_FUNCTION_NAME": f"bench-{logical_id}",
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(memory),
            "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/bench-{logical_id}",
            "AWS_EXECUTION_ENV": "AWS_Lambda_python3.13",
            "AWS_REGION": "us-east-1",
            "AWS_DEFAULT_REGION": "us-east-1",
            "LAMBDA_TASK_ROOT": str(task_root),
            "_HANDLER": str(template.resolve(props.get("Handler", "app.handler"))),
            "TZ": ":UTC",
            "LANG": "en_US.UTF-8",
            "PATH": "/usr/local/bin:/usr/bin:/bin",
            "HOME": "/tmp",
            # Credentials and endpoints that go nowhere: the first use must not need the network.
            "AWS_ACCESS_KEY_ID": "bench",
            "AWS_SECRET_ACCESS_KEY": "bench",
            "AWS_ENDPOINT_URL": endpoint,
            "AWS_MAX_ATTEMPTS": "1",
        }
    )
    return env


# ---------------------------------------------------------------------- measuring
def probe(
    python: str, task_root: Path, mode: str, *, sys_path: list[Path], env: dict[str, str], runs: int
) -> dict[str, Any]:
    """Median of ``runs`` fresh processes: ``-I -S``, so only ``sys_path`` is importable."""
    samples = []
    for _ in range(runs):
        out = subprocess.run(
            [
                python,
                "-I",
                "-S",
                "-B",
                "-c",
                PROBE,
                str(task_root),
                mode,
                json.dumps([str(p) for p in sys_path]),
            ],
            capture_output=True,
            text=True,
            env=env,
            cwd=task_root,
            timeout=120,
            check=False,
        )
        if out.returncode != 0:
            raise RuntimeError(f"{task_root.name} ({mode}) failed:\n{out.stderr[-2000:]}")
        samples.append(json.loads(out.stdout.strip().splitlines()[-1]))
    keys = samples[0].keys()
    medians = {key: statistics.median(s[key] for s in samples) for key in keys}
    # The fastest run: the least disturbed by whatever else the machine was doing.
    medians["import_min_ms"] = min(s["import_ms"] for s in samples)
    return medians


def measure_cold_starts(paths: dict[str, Path], python: str, runs: int) -> dict[str, dict[str, Any]]:
    results: dict[str, dict[str, Any]] = {}
    with stub_aws() as (endpoint, calls):
        for name in sorted(paths):
            task_root = paths[name]
            if name in {LAYER, "runtime", "langgraph"} or not (task_root / "app.py").is_file():
                continue
            env = lambda_environment(name.removesuffix(PRECOMPILED_SUFFIX), task_root, endpoint)
            sys_path = [task_root, paths[LAYER], paths["runtime"]]
            before = len(calls)
            mode = FIRST_USE.get(name.removesuffix(PRECOMPILED_SUFFIX), "import")
            results[name] = probe(python, task_root, mode, sys_path=sys_path, env=env, runs=runs)
            results[name]["aws_calls"] = sorted(set(calls[before:]))
    lg_root = paths["langgraph"]
    results["langgraph (StateGraph)"] = probe(
        python,
        lg_root,
        "langgraph",
        sys_path=[lg_root, paths["runtime"]],
        env={"PATH": "/usr/bin:/bin", "HOME": "/tmp", "LANG": "en_US.UTF-8"},
        runs=runs,
    )
    return results


# ---------------------------------------------------------------------- sizes
def tree_size(root: Path) -> int:
    return sum(p.stat().st_size for p in root.rglob("*") if p.is_file() and not p.is_symlink())


def zipped_size(root: Path) -> int:
    """Bytes of a deflate zip of ``root`` (what ``sam deploy`` uploads), built in memory."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(root.rglob("*")):
            if path.is_file():
                archive.write(path, path.relative_to(root))
    return buffer.getbuffer().nbytes


def biggest_distributions(layer: Path, top: int = 5) -> list[tuple[str, int]]:
    """The layer's distributions by installed size (their RECORD), plus the project's own package."""
    sizes: dict[str, int] = {}
    claimed: set[Path] = set()
    for record in layer.glob("*.dist-info/RECORD"):
        name = record.parent.name.split("-")[0]
        total = 0
        for line in record.read_text().splitlines():
            path = (layer / line.split(",")[0]).resolve()
            if path.is_file() and path not in claimed:
                claimed.add(path)
                total += path.stat().st_size
        sizes[name] = total
    sizes["orchestrator (code + model files)"] = tree_size(layer / "orchestrator")
    return sorted(sizes.items(), key=lambda item: item[1], reverse=True)[:top]


def package_sizes() -> dict[str, Any]:
    layer_root = BUILD / LAYER
    layer_unzipped, layer_zipped = tree_size(layer_root), zipped_size(layer_root)
    functions = {}
    for folder in sorted(p for p in BUILD.iterdir() if p.is_dir() and p.name != LAYER):
        functions[folder.name] = {"unzipped": tree_size(folder), "zipped": zipped_size(folder)}
    return {
        "layer": {"unzipped": layer_unzipped, "zipped": layer_zipped},
        "functions": functions,
        "biggest": biggest_distributions(layer_root / "python"),
    }


# ---------------------------------------------------------------------- report
def _cell(row: dict[str, Any], key: str, width: int) -> str:
    return f"{row[key]:>{width}.0f}" if key in row else f"{'-':>{width}}"


MIB = 1024 * 1024  # Lambda's "MB" in its size limits


def _mb(n: float) -> str:
    return f"{n / MIB:.2f}" if n >= MIB / 100 else "<0.01"


def print_tables(cold: dict[str, dict[str, float]], sizes: dict[str, Any], runs: int, swapped: bool) -> None:
    print(f"Cold start, fresh Python 3.13 process per run, median of {runs} (ms)")
    print(
        "CPU: the process's CPU time (what an idle core would take; the machine may be busy); wall: elapsed"
    )
    if swapped:
        print(
            "(the built Python files and bytecode; native extensions: this machine's wheels, same versions)"
        )
    header = (
        f"{'function':<34} {'import CPU':>10} {'wall':>6} {'(min)':>6} {'+model':>7} {'+language':>9} "
        f"{'1st call':>8}"
    )
    print(header)
    print("-" * len(header))
    for name, r in cold.items():
        print(
            f"{name:<34} {r['import_cpu_ms']:>10.0f} {r['import_ms']:>6.0f} {r['import_min_ms']:>6.0f} "
            f"{_cell(r, 'model_cpu_ms', 7)} {_cell(r, 'language_cpu_ms', 9)} "
            f"{_cell(r, 'first_call_cpu_ms', 8)}"
        )
    asked = {name: r["aws_calls"] for name, r in cold.items() if r.get("aws_calls")}
    if asked:
        print(
            "AWS calls during import and first use: "
            + "; ".join(f"{name}: {', '.join(calls)}" for name, calls in asked.items())
        )
    print()
    layer = sizes["layer"]
    print(
        f"Built package sizes (MB = 2^20 bytes; Lambda's limit: {LAMBDA_UNZIPPED_LIMIT_MB} MB unzipped, "
        "function + layers)"
    )
    header = f"{'package':<24} {'unzipped':>9} {'zipped':>8} {'+layer unzipped':>16} {'of limit':>9}"
    print(header)
    print("-" * len(header))
    print(f"{LAYER:<24} {_mb(layer['unzipped']):>9} {_mb(layer['zipped']):>8} {'':>16} {'':>9}")
    for name, size in sizes["functions"].items():
        total = size["unzipped"] + layer["unzipped"]
        share = total / (LAMBDA_UNZIPPED_LIMIT_MB * MIB)
        print(
            f"{name:<24} {_mb(size['unzipped']):>9} {_mb(size['zipped']):>8} {_mb(total):>16} {share:>8.0%}"
        )
    print()
    print(
        "Biggest distributions in the layer (MB unzipped): "
        + ", ".join(f"{name} {_mb(size)}" for name, size in sizes["biggest"])
    )
    print("StreamFunction also has the Lambda Web Adapter's public layer (not built here, not counted).")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--build", action="store_true", help="run make sam-build first")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "cold_start.json")
    args = parser.parse_args()
    ensure_build(args.build)
    python = runtime_python()
    swapped = _built_arch() != platform.machine()
    paths = host_copy(python)
    cold = measure_cold_starts(paths, python, max(1, args.runs))
    sizes = package_sizes()
    print_tables(cold, sizes, args.runs, swapped)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(
        json.dumps({"cold_start_ms": cold, "sizes_bytes": sizes, "host_native_copy": swapped}, indent=2)
        + "\n"
    )


if __name__ == "__main__":
    main()
