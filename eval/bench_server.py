"""The real server under test: `wuye serve` in a subprocess, its readiness, a login, its memory from /proc."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

import httpx

REPO = Path(__file__).resolve().parent.parent
_PAGE_KB = os.sysconf("SC_PAGE_SIZE") / 1024
_TICKS = os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    """A TCP port nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def tree_pids(pid: int) -> list[int]:
    """``pid`` and all its descendants (from /proc/<pid>/task/*/children)."""
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        for task in Path(f"/proc/{p}/task").glob("*"):
            try:
                todo.extend(int(c) for c in (task / "children").read_text().split())
            except OSError:
                continue
    return out


def _status_kb(pid: int, field: str) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return float(line.split()[1])
    except OSError:
        pass
    return 0.0


def _pss_kb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return float(line.split()[1])
    except OSError:
        pass
    return 0.0


def self_rss_mb() -> float:
    """Resident set of this process in MiB."""
    return _status_kb(os.getpid(), "VmRSS") / 1024


@dataclass(frozen=True, slots=True)
class Memory:
    """Memory of a process tree: RSS summed (counts shared pages once per process) and PSS summed (shares them)."""

    rss_mb: float
    pss_mb: float
    processes: int


def tree_memory(pid: int) -> Memory:
    """RSS and PSS summed over ``pid`` and its descendants."""
    pids = tree_pids(pid)
    rss = sum(_status_kb(p, "VmRSS") for p in pids) / 1024
    pss = sum(_pss_kb(p) for p in pids) / 1024
    return Memory(round(rss, 1), round(pss, 1), len(pids))


def tree_cpu_s(pid: int) -> float:
    """CPU seconds used so far by ``pid`` and its live descendants."""
    return _cpu_seconds(tree_pids(pid))


def _cpu_seconds(pids: list[int]) -> float:
    total = 0.0
    for p in pids:
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / _TICKS
        except (OSError, IndexError, ValueError):
            continue
    return total


class BenchServer:
    """``python -m api.cli serve`` on a free port with its own index, a fresh SQLite file and generous rate limits.

    Ready means ``/readyz`` answers 200 from every worker (it names the answering worker's pid; with
    several workers it answers as soon as the first one is up) *and* the whole process tree has gone
    quiet, i.e. no worker is still loading.
    """

    def __init__(self, index_dir: Path, *, work_dir: Path, model: str, kb_root: Path, workers: int = 1,
                 database_url: str | None = None, timeout: float = 300.0) -> None:
        self.index_dir = index_dir
        self.workers = workers
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self._work_dir = work_dir
        self._model = model
        self._kb_root = kb_root
        self._timeout = timeout
        self._database_url = database_url or f"sqlite:///{(work_dir / f'bench-{self.port}.db').resolve()}"
        self._proc: subprocess.Popen[bytes] | None = None
        self.log_path = work_dir / f"server-{self.port}.log"

    @property
    def pid(self) -> int:
        """The serve process id."""
        if self._proc is None:
            raise RuntimeError("server not started")
        return self._proc.pid

    def start(self) -> BenchServer:
        """Start the server and wait until it is ready and every worker has finished loading."""
        self._work_dir.mkdir(parents=True, exist_ok=True)
        env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false",
               "WUYE_INGEST__INDEX_DIR": str(self.index_dir.resolve()),
               "WUYE_INGEST__EMBEDDING_MODEL": self._model, "WUYE_INGEST__KB_ROOT": str(self._kb_root.resolve()),
               "WUYE_ASSISTANT__DATABASE_URL": self._database_url,
               "WUYE_API__CHAT_RATE": "100000/minute", "WUYE_API__LOGIN_RATE": "100000/minute"}
        with open(self.log_path, "wb") as log:
            self._proc = subprocess.Popen(
                [sys.executable, "-m", "api.cli", "serve", "--port", str(self.port), "--workers", str(self.workers)],
                cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + self._timeout
        while not self._ready():
            if self._proc.poll() is not None:
                raise RuntimeError(f"server exited with {self._proc.returncode}: {self.log_path.read_text()[-2000:]}")
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"server not ready in {self._timeout:.0f} s; see {self.log_path}")
            time.sleep(0.5)
        self._settle(deadline)
        return self

    def _ready(self) -> bool:
        return self._ready_worker() is not None

    def _ready_worker(self) -> int | None:
        """The pid of the worker that answered ``/readyz`` with 200 (0 if it did not say), None if not ready."""
        try:
            r = httpx.get(f"{self.base_url}/readyz", timeout=5)  # a new connection each time: any worker may answer
        except httpx.HTTPError:
            return None
        return int(r.json().get("worker", 0)) if r.status_code == 200 else None

    def _settle(self, deadline: float) -> None:
        """Wait until every worker has answered ``/readyz`` and the tree used < 5 % of a core for a full second."""
        seen: set[int] = set()
        while self.workers > 1 and len(seen - {0}) < self.workers and 0 not in seen and time.monotonic() < deadline:
            pid = self._ready_worker()
            if pid is not None:
                seen.add(pid)
            time.sleep(0.1)
        wanted = self.workers + (1 if self.workers > 1 else 0)
        last = _cpu_seconds(tree_pids(self.pid))
        while time.monotonic() < deadline:
            time.sleep(1.0)
            pids = tree_pids(self.pid)
            now = _cpu_seconds(pids)
            if len(pids) >= wanted and now - last < 0.05:
                return
            last = now

    def login(self, username: str = "resident", password: str = "wuye-demo") -> dict[str, str]:
        """Log in as a demo account; the Authorization header to send."""
        r = httpx.post(f"{self.base_url}/api/auth/login", json={"username": username, "password": password},
                       timeout=30)
        r.raise_for_status()
        return {"Authorization": f"Bearer {r.json()['access_token']}"}

    def memory(self) -> Memory:
        """Memory of the server and its worker processes."""
        return tree_memory(self.pid)

    def stop(self) -> None:
        """Terminate the server (kill it if it does not stop in 30 s)."""
        if self._proc is None or self._proc.poll() is not None:
            return
        self._proc.terminate()
        try:
            self._proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait(timeout=10)

    def __enter__(self) -> BenchServer:
        """Start; see :meth:`start`."""
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        """Stop; see :meth:`stop`."""
        self.stop()
