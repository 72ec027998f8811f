"""Load on `/api/chat`: N concurrent clients (asyncio + httpx) against the real server, throughput and latency."""

from __future__ import annotations

import asyncio
import os
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import httpx

from eval.bench_measure import Latency, machine_busy_s
from eval.bench_server import tree_cpu_s


@dataclass(frozen=True, slots=True)
class LoadResult:
    """One concurrency level: ``clients`` workers each sending ``requests // clients`` chat messages back to back.

    ``rps`` counts successful requests over the wall time of the whole level; latency is per successful
    request; every non-200 answer or transport failure is an error, counted by kind.
    ``server_cpu_ms_per_request`` is the server process tree's CPU (all cores) per request sent; ``client_cpu_s``
    is the CPU the load generator itself used (it shares the machine's cores with the server);
    ``other_cpu_share`` the share of the machine used by processes outside the bench and its server.
    """

    workers: int
    clients: int
    requests: int
    ok: int
    errors: int
    error_kinds: dict[str, int]
    seconds: float
    rps: float
    latency: Latency
    server_cpu_ms_per_request: float
    client_cpu_s: float
    other_cpu_share: float


async def _worker(client: httpx.AsyncClient, questions: Sequence[str], start: int, count: int, deadline: float,
                  ms: list[float], errors: Counter[str]) -> None:
    for j in range(count):
        if time.perf_counter() > deadline:
            return
        text = questions[(start + j) % len(questions)]
        t0 = time.perf_counter()
        try:
            r = await client.post("/api/chat", json={"message": text})
        except httpx.HTTPError as exc:
            errors[type(exc).__name__] += 1
            continue
        if r.status_code == 200:
            ms.append((time.perf_counter() - t0) * 1000)
        else:
            errors[f"HTTP {r.status_code}"] += 1


async def _level(base_url: str, headers: dict[str, str], questions: Sequence[str], clients: int,
                 per_client: int, max_seconds: float) -> tuple[list[float], Counter[str], float]:
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    ms: list[float] = []
    errors: Counter[str] = Counter()
    async with httpx.AsyncClient(base_url=base_url, headers=headers, timeout=120, limits=limits) as client:
        t0 = time.perf_counter()
        # each client starts at its own place in the question list, so concurrent requests differ
        stride = max(1, len(questions) // clients)
        await asyncio.gather(*(_worker(client, questions, i * stride, per_client, t0 + max_seconds, ms, errors)
                               for i in range(clients)))
        return ms, errors, time.perf_counter() - t0


def run_load(base_url: str, headers: dict[str, str], questions: Sequence[str], *, clients: int, total: int,
             workers: int, max_seconds: float = 180.0, server_pid: int | None = None) -> LoadResult:
    """Send about ``total`` chat messages from ``clients`` concurrent clients (a fresh conversation each).

    Args:
        base_url: The server.
        headers: Authorization of a resident.
        questions: Message texts, cycled.
        clients: Concurrent clients.
        total: Requests for the level (rounded down to a multiple of ``clients``, at least one each).
        workers: The server's worker processes (recorded only).
        server_pid: The server process, so its CPU is not counted as other processes' CPU.
        max_seconds: No client starts a request after this long (a collapsing server still ends the level);
            ``requests`` then counts what was sent.
    """
    per_client = max(1, total // clients)
    busy0, server0 = machine_busy_s(), tree_cpu_s(server_pid) if server_pid else 0.0
    cpu0 = os.times()
    ms, errors, seconds = asyncio.run(_level(base_url, headers, questions, clients, per_client, max_seconds))
    cpu1 = os.times()
    client_cpu = cpu1.user - cpu0.user + cpu1.system - cpu0.system
    server_cpu = (tree_cpu_s(server_pid) if server_pid else 0.0) - server0
    other = max(0.0, machine_busy_s() - busy0 - client_cpu - server_cpu)
    n_errors = sum(errors.values())
    sent = len(ms) + n_errors
    return LoadResult(workers, clients, sent, len(ms), n_errors, dict(errors), round(seconds, 2),
                      round(len(ms) / seconds, 1), Latency.of(ms), round(server_cpu * 1000 / max(1, sent), 1),
                      round(client_cpu, 2),
                      round(other / (seconds * (os.cpu_count() or 1)), 3))
