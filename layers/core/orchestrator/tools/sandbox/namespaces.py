"""The local sandbox: the program runs in new PID, mount, network, IPC and UTS namespaces.

``unshare`` (util-linux) starts a small shell as PID 1 of a new PID namespace. Still privileged
inside its namespaces, that shell builds a fresh root on a tmpfs: read-only binds of ``/usr``
(and ``/bin``, ``/lib``… as on the host) and of the interpreter's prefix, a ``/proc`` of the new
PID namespace, four device nodes, and a size-limited scratch tmpfs holding the working
directory. It pivots into that root, detaches the host's, and runs the program through
``setpriv`` as an unprivileged uid with no capabilities and ``no_new_privs``:

- the server's environment, memory, files (the repo, ``.env``, ``/etc/shadow``) do not exist in
  the program's world: its ``/proc`` lists only the shell and the program;
- its network namespace has only a loopback that is down: no route anywhere, the host's
  loopback included;
- when the shell (PID 1) exits, or is killed at the timeout, the kernel kills every process of
  the namespace: a ``setsid()`` double-fork does not outlive the call. The shell keeps its
  credentials, so ``unshare --kill-child`` still kills it if ``unshare`` dies.

As root, no user namespace is needed and the program runs as ``CODE_EXEC_SANDBOX_UID`` under a
small RLIMIT_NPROC. Not as root (a developer's laptop), a user namespace maps the caller's own
uid to root inside; the program keeps that uid without capabilities.

A program killed by a signal is reported as the shell reports it, 128 + the signal number: an
exit status above 128 reads as that signal (``sys.exit(137)`` reads as SIGKILL).
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path

from orchestrator.errors import SandboxUnavailableError
from orchestrator.tools.sandbox.limits import BOOTSTRAP, ProgramLimits, SandboxResult
from orchestrator.tools.sandbox.process import processes_of, run_to_completion

#: Seconds the in-namespace ``timeout`` allows beyond the program's wall timeout: it bounds a run
#: even if this process dies without killing ``unshare``.
INNER_TIMEOUT_MARGIN_S = 2
#: Files and inodes of the read-only root tmpfs, and inodes of the scratch tmpfs: an empty file
#: costs kernel memory that the size limit does not count.
ROOT_TMPFS_OPTIONS = "size=1m,nr_inodes=256,mode=755,nosuid,nodev"
SCRATCH_INODES = 4096
#: Top-level directories the dynamic loader and the interpreter may need, mirrored from the host.
SYSTEM_DIRECTORIES = ("bin", "sbin", "lib", "lib32", "lib64", "libx32")
PATH = "/usr/sbin:/usr/bin:/sbin:/bin"
PROBE_TIMEOUT_S = 15.0

# $1 host directory holding main.py (and where "ready" is written), $2 mount point of the new root,
# $3 interpreter, $4 uid (0: keep the user namespace's root), $5 scratch MiB, $6 inner timeout,
# $7 symlinks to copy ("usr/bin usr/lib": /bin -> usr/bin …), $8 directories to bind read-only,
# then the interpreter's arguments. Word splitting of $7 and $8 is intended (no spaces allowed).
SETUP_SCRIPT = f"""\
set -eu
umask 022
src=$1 root=$2 python=$3 uid=$4 scratch_mb=$5 wall=$6 links=$7 binds=$8
shift 8
exec 9>"$src/ready"
mount -t tmpfs -o {ROOT_TMPFS_OPTIONS} sandbox-root "$root"
cd "$root"
mountpoints=
for dir in $binds; do mountpoints="$mountpoints .$dir"; done
mkdir -p proc dev tmp .old $mountpoints
[ -z "$links" ] || ln -s $links .
for dir in $binds; do
    mount --bind -o ro,nosuid,nodev "$dir" ".$dir"
done
for node in null zero random urandom; do
    : > "dev/$node"
    mount --bind "/dev/$node" "dev/$node"
done
mount -t proc -o nosuid,nodev,noexec proc proc
mount -t tmpfs -o "size=${{scratch_mb}}m,nr_inodes={SCRATCH_INODES},mode=1777,nosuid,nodev" sandbox-tmp tmp
install -d -m 700 -o "$uid" -g "$uid" tmp/work
cp "$src/main.py" tmp/work/main.py
pivot_root . .old
umount -l /.old
mount -o remount,bind,ro /
cd /tmp/work
if [ "$uid" = 0 ]; then ids=; else ids="--reuid=$uid --regid=$uid --clear-groups"; fi
echo ready >&9
exec 9>&-
unset PATH PWD OLDPWD
set +e
/usr/bin/timeout --signal=KILL "$wall" /usr/bin/setpriv $ids --no-new-privs --inh-caps=-all \\
    --bounding-set=-all -- "$python" -I -S -u "$@"
status=$?
exit "$status"
"""


@dataclass(frozen=True)
class HostLayout:
    """What of the host the sandbox's root mirrors: symlinks to copy, directories to bind read-only."""

    interpreter: str
    links: tuple[str, ...]
    binds: tuple[str, ...]

    @classmethod
    def of_this_host(cls) -> HostLayout:
        """``/usr``, the top-level system directories, and the prefix of the running Python.

        The interpreter is the base installation's, never a virtualenv's symlink: the venv (and
        its site-packages) stays outside the sandbox, as with ``-I -S`` before.
        """
        prefix = Path(sys.base_prefix).resolve()
        version = f"python{sys.version_info.major}.{sys.version_info.minor}"
        interpreter = prefix / "bin" / version
        if not interpreter.is_file():
            interpreter = Path(sys.executable).resolve()
        links: list[str] = []
        binds = ["/usr"]
        for name in SYSTEM_DIRECTORIES:
            path = Path("/", name)
            if path.is_symlink():
                target = os.readlink(path)
                if Path(target).name == name and not os.path.isabs(target):
                    links.append(target)  # `ln -s usr/lib .` makes ./lib -> usr/lib
                    continue
            if path.is_dir():
                binds.append(str(path))
        if not any(prefix.is_relative_to(bound) for bound in binds):
            binds.append(str(prefix))
        return cls(interpreter=str(interpreter), links=tuple(links), binds=tuple(binds))

    def problem(self) -> str | None:
        if any(char.isspace() for item in (self.interpreter, *self.links, *self.binds) for char in item):
            return "a system or interpreter path contains whitespace"
        return None


@dataclass(frozen=True)
class NamespaceSandbox:
    """Runs programs in fresh namespaces (see the module docstring); one probe per process.

    ``unshare`` is the util-linux binary (a name on ``PATH`` or a path); ``as_root`` says whether
    the server runs as root, which decides between a real uid and a user namespace.
    """

    uid: int = 65534
    max_processes: int = 32
    scratch_mb: int = 16
    unshare: str = "unshare"
    as_root: bool = field(default_factory=lambda: os.geteuid() == 0)
    layout: HostLayout = field(default_factory=HostLayout.of_this_host)

    name = "namespaces"

    def unavailable_reason(self) -> str | None:
        """Why programs cannot run here, or None; the first call runs a trivial program."""
        with _PROBE_LOCK:
            if self not in _PROBES:
                _PROBES[self] = self._probe()
            return _PROBES[self]

    def run(self, code: str, limits: ProgramLimits) -> SandboxResult:
        unshare = shutil.which(self.unshare, path=PATH)
        if unshare is None:
            raise SandboxUnavailableError("the code sandbox needs util-linux's unshare")
        with tempfile.TemporaryDirectory(prefix="run_python_", ignore_cleanup_errors=True) as workdir:
            host = Path(workdir)
            (host / "main.py").write_text(code, encoding="utf-8")
            (host / "root").mkdir()
            outcome = run_to_completion(
                self._command(unshare, host, limits),
                cwd=host,
                env={"PATH": PATH},
                timeout_s=limits.timeout_s,
                output_dir=host,
                max_output_bytes=limits.max_output_bytes,
            )
            marker = host / "ready"
            ready = marker.is_file() and marker.read_text(encoding="utf-8").strip() == "ready"
        if not ready and not outcome.timed_out:
            first_line = next(iter(outcome.stderr.strip().splitlines()), f"exit status {outcome.returncode}")
            raise SandboxUnavailableError(f"the code sandbox could not be set up: {first_line[:200]}")
        exit_code = outcome.returncode
        if exit_code > 128:  # the shell's way of saying "killed by signal exit_code - 128"
            exit_code = 128 - exit_code
        return SandboxResult(
            stdout=outcome.stdout,
            stderr=outcome.stderr,
            exit_code=exit_code,
            timed_out=outcome.timed_out,
            output_truncated=outcome.output_truncated,
            duration_ms=outcome.duration_ms,
        )

    def _command(self, unshare: str, host: Path, limits: ProgramLimits) -> list[str]:
        namespaces = ["--pid", "--fork", "--kill-child", "--net", "--ipc", "--mount", "--uts"]
        if not self.as_root:
            namespaces += ["--user", "--map-root-user"]
        # As root, the uid's process count is ours to bound; mapped to the caller's own uid, the
        # caller's other processes count too, so the limit is on top of those.
        max_processes = self.max_processes if self.as_root else processes_of(os.getuid()) + self.max_processes
        return [
            unshare,
            *namespaces,
            "--propagation",
            "private",
            "--",
            "/bin/sh",
            "-c",
            SETUP_SCRIPT,
            "sandbox-init",
            str(host),
            str(host / "root"),
            self.layout.interpreter,
            str(self.uid if self.as_root else 0),
            str(self.scratch_mb),
            str(int(limits.timeout_s) + 1 + INNER_TIMEOUT_MARGIN_S),
            " ".join(self.layout.links),
            " ".join(self.layout.binds),
            "-c",
            BOOTSTRAP,
            *limits.bootstrap_args(max_processes),
        ]

    def _probe(self) -> str | None:
        if not sys.platform.startswith("linux"):
            return "Linux namespaces are not available on this platform"
        problem = self.layout.problem()
        if problem:
            return problem
        try:
            result = self.run(
                "print('sandbox-ok')",
                ProgramLimits(timeout_s=PROBE_TIMEOUT_S, memory_mb=256, max_output_bytes=4096),
            )
        except SandboxUnavailableError as exc:
            return exc.message
        except OSError as exc:
            return f"the code sandbox could not start: {exc.strerror or exc}"
        if result.stdout != "sandbox-ok\n" or result.exit_code != 0:
            detail = (result.stderr.strip().splitlines() or [f"exit status {result.exit_code}"])[-1]
            return f"the code sandbox's test program failed: {detail[:200]}"
        return None


_PROBE_LOCK = threading.Lock()
_PROBES: dict[NamespaceSandbox, str | None] = {}
