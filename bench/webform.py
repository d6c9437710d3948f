"""``webform``: the public web-to-lead endpoint over real HTTP, 8 concurrent clients.

Serves Pheu with gunicorn (``PHEU_BENCH_WEB_WORKERS`` sync workers, default 3, persistent database
connections) on a free port against the bench database, and posts ``n`` JSON leads from a pool of 8 client
threads. Every post does all its inline work: rate limit (on the cache), key look-up, form validation, source,
``create_lead`` (normalise, score, assign when on, history) and the answer. Latency is measured by the client
(request written → answer read); the rate limit is off so that one client IP may post them all.

Two phases of ``n`` posts each: the clients post back to back (``leads_per_s`` is the most the server takes;
``p*_ms`` the latencies at that saturation), then paced, together offering ``PACED_RATE`` posts a second
(``paced_p*_ms``: the latencies a site sees at that load, counted from when each post was due).
"""

from __future__ import annotations

import http.client
import json
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

from bench._registry import benchmark

CLIENTS = 8
WARMUP = 80
PACED_RATE = 300.0  # leads/s offered by the 8 clients together in the paced phase (issue 8's throughput)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_until_up(port: int, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError("gunicorn exited at start")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("gunicorn did not start")


def _percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(pct / 100 * (len(ordered) - 1)))]


@benchmark("webform", default_n=3000)
def webform(n: int) -> dict[str, float]:
    from pheu.leads.models import Lead
    from pheu.teams.models import Team

    team = Team.objects.create(name="Bench web form", form_key="bench-web-form-key")
    port = _free_port()
    workers = os.environ.get("PHEU_BENCH_WEB_WORKERS", "3")
    env = {
        **os.environ,
        "PHEU_WEBFORM_RATE_LIMIT": "0",
        "PHEU_DB_CONN_MAX_AGE": "600",
        "PHEU_LOG_LEVEL": "WARNING",
    }
    gunicorn = Path(sys.executable).with_name("gunicorn")
    process = subprocess.Popen(
        [
            str(gunicorn),
            "pheu.wsgi:application",
            "-w",
            workers,
            "-b",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
        ],
        env=env,
    )
    try:
        _wait_until_up(port, process)
        path = f"/forms/lead/{team.form_key}/"
        counter = iter(range(10**9))
        lock = threading.Lock()
        latencies: list[float] = []

        def post(conn: http.client.HTTPConnection, i: int) -> float:
            body = json.dumps(
                {
                    "contact_name": f"Nguyễn Văn {i}",
                    "email": f"khach{i}@congty{i % 97}.vn",
                    "phone": f"091{i % 10} {i % 1000:03d} {i % 997:03d}",
                    "company_name": f"Công ty {i % 500}",
                    "country": "VN",
                    "description": "Tôi cần báo giá phần mềm CRM cho 20 người.",
                    "visitor_id": f"v{i}",
                }
            ).encode()
            t0 = time.perf_counter()
            conn.request("POST", path, body=body, headers={"Content-Type": "application/json"})
            response = conn.getresponse()
            response.read()
            elapsed = (time.perf_counter() - t0) * 1000
            if response.status != 201:
                raise RuntimeError(f"HTTP {response.status}")
            return elapsed

        def client(count: int, sink: list[float] | None, interval: float) -> None:
            """``count`` posts, back to back (``interval`` 0) or one every ``interval`` seconds; a paced
            post's latency counts from the time it was due, so a late answer counts in the next posts too."""
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            mine = []
            due = time.perf_counter()
            for _ in range(count):
                with lock:
                    i = next(counter)
                if interval:
                    due += interval
                    time.sleep(max(0.0, due - time.perf_counter()))
                    late = (time.perf_counter() - due) * 1000
                    mine.append(post(conn, i) + max(0.0, late))
                else:
                    mine.append(post(conn, i))
            conn.close()
            if sink is not None:
                with lock:
                    sink.extend(mine)

        def run(total: int, sink: list[float] | None, rate: float = 0.0) -> float:
            share = [total // CLIENTS + (1 if k < total % CLIENTS else 0) for k in range(CLIENTS)]
            interval = CLIENTS / rate if rate else 0.0
            threads = [threading.Thread(target=client, args=(count, sink, interval)) for count in share]
            start = time.perf_counter()
            for thread in threads:
                thread.start()
                if interval:
                    time.sleep(interval / CLIENTS)  # the clients' posts spread evenly in time
            for thread in threads:
                thread.join()
            return time.perf_counter() - start

        run(WARMUP, None)
        elapsed = run(n, latencies)
        paced: list[float] = []
        paced_elapsed = run(n, paced, rate=PACED_RATE)
        stored = Lead.objects.filter(team=team).count()
        if stored != 2 * n + WARMUP or len(latencies) != n or len(paced) != n:
            raise RuntimeError(f"{stored} leads stored for {2 * n + WARMUP} posts")
    finally:
        process.terminate()
        process.wait(timeout=30)
    return {
        "leads": n,
        "clients": CLIENTS,
        "web_workers": int(workers),
        "leads_per_s": n / elapsed,
        "p50_ms": statistics.median(latencies),
        "p95_ms": _percentile(latencies, 95),
        "p99_ms": _percentile(latencies, 99),
        "paced_rate": PACED_RATE,
        "paced_leads_per_s": n / paced_elapsed,
        "paced_p50_ms": statistics.median(paced),
        "paced_p95_ms": _percentile(paced, 95),
        "paced_p99_ms": _percentile(paced, 99),
    }
