"""The real server (`wuye serve`) as a subprocess the tests can start, stop, kill and restart."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class ServerProcess:
    """``python -m api.cli serve`` on a free local port with the given WUYE_* environment."""

    def __init__(self, env: dict[str, str], *, workers: int = 1, log: Path | None = None) -> None:
        # quiet hours off: tests expect updates at once whatever the wall clock says (test_updates.py holds them)
        self.env = {**os.environ, "WUYE_API__CHAT_RATE": "100000/minute", "WUYE_API__LOGIN_RATE": "100000/minute",
                    "WUYE_ASSISTANT__QUIET_HOURS": "off", **env}
        self.workers = workers
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log = log
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 180) -> ServerProcess:
        out = open(self.log, "ab") if self.log else subprocess.DEVNULL  # noqa: SIM115 - closed with the process
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "api.cli", "serve", "--port", str(self.port), "--workers", str(self.workers)],
            cwd=REPO, env=self.env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        self.wait_ready(timeout)
        return self

    def wait_ready(self, timeout: float = 180) -> dict[str, object]:
        deadline = time.monotonic() + timeout
        while True:
            if self.proc is not None and self.proc.poll() is not None:
                tail = self.log.read_text(errors="replace")[-3000:] if self.log and self.log.exists() else ""
                raise RuntimeError(f"server exited with {self.proc.returncode}: {tail}")
            try:
                r = httpx.get(f"{self.base}/readyz", timeout=5)
                if r.status_code == 200:
                    return dict(r.json())
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                self.kill()
                raise RuntimeError(f"server did not become ready in {timeout:.0f} s")
            time.sleep(0.3)

    def kill(self) -> None:
        """SIGKILL the whole process group (workers included): no shutdown code runs."""
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=20)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()

    def login(self, username: str, password: str = "wuye-demo") -> dict[str, str]:
        r = httpx.post(f"{self.base}/api/auth/login", json={"username": username, "password": password}, timeout=30)
        r.raise_for_status()
        return {"Authorization": f"Bearer {r.json()['access_token']}"}
