"""Lead intake as users run it: ``POST /api/v1/leads/`` and the public web form, over HTTP through
``pheu serve``.

``intake_http`` (``--n`` = the larger base, default 1,000,000) measures both on a base of 1,000 leads and then
on a base of ``n`` leads, in one run, so that the two can be compared as a ratio. ``lead_create_api`` and
``webform`` run one of the two on one base of ``n`` leads (default 1,000).

The scene is like the demo's, at the base's scale: the fill of :mod:`bench.rules` (4 teams, 8 salespeople,
leads with page views and tags, created and assigned over the last 60 days), then

- team rules and minimum scores (Hà Nội and the north, Hồ Chí Minh and the south, the rest of Vietnam with a
  minimum score, abroad), two members per team, one of them with a rule of its own, capacities that leave
  room for what the bench posts (one member of the north is full: the choice skips them on every lead);
- four scoring rules (country, company size, an e-mail domain, page views), real-time assignment on.

``pheu serve`` is started as a user starts it (its default workers, threads and database connections, the
embedded worker beside it, access log on), with one exception printed with the settings: the web form's
per-IP rate limit is off, since every post comes from 127.0.0.1. The API posts carry ``"user": null``, so
that assignment chooses the team and salesperson, as an integration's leads do.

For each target: 1 client and 8 clients posting back to back (``*_per_s``: the most the server takes;
latencies at that saturation), then the 8 clients paced to offer ``PACED_RATE`` posts a second together
(latencies counted from when each post was due, so a slow answer also counts in the posts queued behind
it). Every answer must be 201; the leads stored, the leads assigned and the members over capacity are checked
after each base.
"""

from __future__ import annotations

import datetime as dt
import http.client
import json
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench._db import reset_database
from bench._registry import benchmark

SMALL_BASE = 1_000
PACED_RATE = 300.0  # leads/s offered together by the 8 clients (SPEC 13's throughput)
POSTS = int(os.environ.get("BENCH_INTAKE_POSTS", "3000"))  # per 8-client phase
SINGLE_POSTS = int(os.environ.get("BENCH_INTAKE_SINGLE_POSTS", "600"))  # per 1-client phase
WARMUP = 100
FORM_KEY = "bench-intake-form"
# Options added to `pheu serve` (e.g. "--workers 3 --threads 2"), to compare with its defaults.
SERVE_ARGS = tuple(os.environ.get("BENCH_SERVE_ARGS", "").split())
# Where the posted leads come from: each row picks a team by its rule (north, south, elsewhere in Vietnam
# with a minimum score, abroad).
PLACES = [
    ("VN", "Hà Nội", "Cầu Giấy"),
    ("VN", "Hồ Chí Minh", "Quận 1"),
    ("VN", "Hải Phòng", "Lê Chân"),
    ("VN", "Đà Nẵng", "Hải Châu"),
    ("VN", "Hồ Chí Minh", "Thủ Đức"),
    ("SG", "", "Singapore"),
    ("US", "California", "San Francisco"),
    ("VN", "Hà Nội", "Đống Đa"),
]
NORTH = ["Hà Nội", "Hải Phòng", "Quảng Ninh", "Nghệ An", "Thừa Thiên Huế"]
SOUTH = ["Hồ Chí Minh", "Bình Dương", "Đồng Nai", "Cần Thơ", "Khánh Hòa"]


def _percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(pct / 100 * (len(ordered) - 1)))]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# --- the scene ------------------------------------------------------------------------------------------
@dataclass
class Scene:
    token: str
    base: int
    members: int
    fill_s: float


def build_scene(base: int) -> Scene:
    """An empty database filled with ``base`` leads and the demo-like configuration above."""
    from django.db import connection
    from rest_framework.authtoken.models import Token

    import bench.rules
    from pheu.accounts.models import Role, User
    from pheu.core.models import PheuSettings
    from pheu.leads.models import Lead
    from pheu.scoring.services import create_scoring_rule
    from pheu.teams.models import Team, TeamMember

    reset_database()
    integration = User.objects.create_user("bench-api", password="bench-pass-1", role=Role.SALES_MANAGER)
    # Scoring rules first, while the base is empty (each creation re-scores the open leads); the fill then
    # gives every lead a stored score.
    for name, domain, points in (
        ("Việt Nam", "[['country_id', '=', 'Vietnam']]", 10),
        ("Doanh nghiệp vừa", "[['company_size', '>=', 50]]", 20),
        ("Gmail", "[['email_from', '=ilike', '%@gmail.com']]", -5),
        ("Xem bảng giá", "[['pageviews.url', 'ilike', '/pricing']]", 15),
    ):
        create_scoring_rule(actor=None, values={"name": name, "domain": domain, "points": points})
    t0 = time.perf_counter()
    bench.rules.fill(base, age_days=60)
    fill_s = time.perf_counter() - t0
    hanoi, saigon, danang, abroad = Team.objects.order_by("sequence")
    rules = {
        hanoi: (f"[['country_id', '=', 'Vietnam'], ['state', 'in', {NORTH!r}]]", 0),
        saigon: (f"[['country_id', '=', 'Vietnam'], ['state', 'in', {SOUTH!r}]]", 0),
        danang: ("[['country_id', '=', 'Vietnam']]", 10),
        abroad: ("[['country_id', '!=', 'Vietnam']]", 5),
    }
    for team, (domain, min_score) in rules.items():
        team.assignment_domain, team.min_score = domain, min_score
        team.save(update_fields=["assignment_domain", "min_score"])
    hanoi.form_key = FORM_KEY
    hanoi.save(update_fields=["form_key"])
    sellers = list(User.objects.filter(username__startswith="sale").order_by("username"))
    member_rules = ["[['state', '=', 'Hà Nội']]", "", "", "[['company_size', '>=', 50]]", "", "", "", ""]
    member_rules[7] = "[['country_id', 'in', ['Singapore', 'Australia']]]"
    teams = [hanoi, saigon, danang, abroad]
    loads = exact_loads()
    room = 10 * POSTS + 10 * SINGLE_POSTS + WARMUP * 10  # more than one base's posts can bring
    members = []
    for index, seller in enumerate(sellers):
        team = teams[index // 2]
        load = loads.get((team.pk, seller.pk), 0)
        # The north's second member is full: the member choice passes over them on every lead.
        capacity = max(load, 1) if index == 1 else load + room
        members.append(
            TeamMember(
                team=team, user=seller, capacity=capacity, assignment_domain=member_rules[index], weight=1
            )
        )
    TeamMember.objects.bulk_create(members)
    settings = PheuSettings.load()
    settings.realtime_assignment = True
    settings.save()
    token = Token.objects.create(user=integration).key
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE" if connection.vendor == "postgresql" else "ANALYZE")
    return Scene(token=token, base=Lead.objects.count(), members=len(members), fill_s=fill_s)


def exact_loads() -> dict[tuple[int, int], int]:
    """(team, salesperson) → leads assigned in the exact last 30 days, counted on the lead table (the bench's
    own check, independent of the day counts the service reads)."""
    from django.db import connection
    from django.utils import timezone

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT team_id, user_id, COUNT(*) FROM leads_lead WHERE user_id IS NOT NULL "
            "AND team_id IS NOT NULL AND assigned_at >= %s GROUP BY team_id, user_id",
            [timezone.now() - dt.timedelta(days=30)],
        )
        return {(t, u): count for t, u, count in cursor.fetchall()}


def scene_check(scene: Scene, posted: int) -> dict[str, float]:
    """What the base holds after the posts: every post stored, how many assigned, members over capacity."""
    from pheu.leads.models import Lead
    from pheu.teams.models import TeamMember

    new = Lead.objects.filter(pk__gt=scene.base)
    over = 0
    loads = exact_loads()
    for member in TeamMember.objects.all():
        if loads.get((member.team_id, member.user_id), 0) > max(member.capacity, 1):
            over += 1
    stored = new.count()
    return {
        "stored": stored,
        "lost": posted - stored,
        "assigned": new.filter(user__isnull=False).count(),
        "members_over_capacity": over,
    }


# --- the server -----------------------------------------------------------------------------------------
class Server:
    """``pheu serve`` on a free port, as a user starts it; its console (access log) goes to a file."""

    def __init__(self, extra_env: dict[str, str] | None = None, args: tuple[str, ...] = SERVE_ARGS) -> None:
        self.port = _free_port()
        self.log = Path("var") / "bench-serve.log"
        self.log.parent.mkdir(exist_ok=True)
        env = {k: v for k, v in os.environ.items() if k != "PHEU_TASKS_BACKEND"}  # the default backend
        env.update({"PHEU_WEBFORM_RATE_LIMIT": "0", **(extra_env or {})})
        self.env = env
        pheu = Path(sys.executable).with_name("pheu")
        self.argv = [str(pheu), "serve", "--port", str(self.port), *args]
        self.process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> Server:
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(self.argv, env=self.env, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"pheu serve exited at start (see {self.log})")
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
                conn.request("GET", "/healthz")
                conn.getresponse().read()
                conn.close()
                return self
            except OSError:
                time.sleep(0.2)
        raise RuntimeError("pheu serve did not start")

    def __exit__(self, *exc: object) -> None:
        assert self.process is not None
        self.process.terminate()
        try:
            self.process.wait(timeout=40)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def serve_settings() -> str:
    """What ``pheu serve`` runs with by default, as its own code says."""
    from django.conf import settings

    from pheu.core.serving import DEFAULT_THREADS, DEFAULT_WORKERS

    db = settings.DATABASES["default"]
    return (
        f"pheu serve defaults: workers={DEFAULT_WORKERS} threads={DEFAULT_THREADS}, "
        f"CONN_MAX_AGE={db['CONN_MAX_AGE']} CONN_HEALTH_CHECKS={db['CONN_HEALTH_CHECKS']}, "
        "tasks backend=database (embedded worker on), access log on; bench change: PHEU_WEBFORM_RATE_LIMIT=0"
        + (f"; serve options: {' '.join(SERVE_ARGS)}" if SERVE_ARGS else "")
    )


# --- the load -------------------------------------------------------------------------------------------
Body = Callable[[int], tuple[str, bytes, dict[str, str]]]


def api_request(token: str) -> Body:
    headers = {"Content-Type": "application/json", "Authorization": f"Token {token}"}

    def make(i: int) -> tuple[str, bytes, dict[str, str]]:
        country, state, city = PLACES[i % len(PLACES)]
        body = {
            "name": f"Nhu cầu phần mềm CRM {i}",
            "contact_name": f"Nguyễn Văn {i}",
            "company_name": f"Công ty Bench {i % 500}",
            "email": f"khach{i}@congty{i % 97}.vn",
            "phone": f"091{i % 10} {i % 1000:03d} {i % 997:03d}",
            "country": country,
            "state": state,
            "city": city,
            "company_size": (i * 7) % 300,
            "expected_revenue": "15000000.00",
            "user": None,
        }
        return "/api/v1/leads/", json.dumps(body).encode(), headers

    return make


def webform_request() -> Body:
    headers = {"Content-Type": "application/json"}

    def make(i: int) -> tuple[str, bytes, dict[str, str]]:
        country, state, city = PLACES[i % len(PLACES)]
        body = {
            "contact_name": f"Trần Thị {i}",
            "email": f"web{i}@congty{i % 89}.vn",
            "phone": f"098{i % 10} {i % 1000:03d} {i % 991:03d}",
            "company_name": f"Công ty Web {i % 400}",
            "country": country,
            "state": state,
            "city": city,
            "description": "Tôi cần báo giá phần mềm CRM cho 20 người.",
            "visitor_id": f"bench-v{i}",
        }
        return f"/forms/lead/{FORM_KEY}/", json.dumps(body).encode(), headers

    return make


class Load:
    """Clients posting over keep-alive connections (reopened when the server closes one)."""

    def __init__(self, port: int, make: Body, start: int) -> None:
        self.port = port
        self.make = make
        self.counter = iter(range(start, 10**9))
        self.lock = threading.Lock()
        self.errors: list[str] = []

    def _post(self, conn: http.client.HTTPConnection, i: int) -> float:
        path, body, headers = self.make(i)
        t0 = time.perf_counter()
        try:
            conn.request("POST", path, body=body, headers=headers)
            response = conn.getresponse()
            text = response.read()
        except (OSError, http.client.HTTPException) as exc:
            conn.close()
            with self.lock:
                self.errors.append(f"{type(exc).__name__}: {exc}")
            return (time.perf_counter() - t0) * 1000
        elapsed = (time.perf_counter() - t0) * 1000
        if response.status != 201:
            with self.lock:
                self.errors.append(f"HTTP {response.status}: {text[:200]!r}")
        if response.getheader("Connection", "").lower() == "close":
            conn.close()
        return elapsed

    def _client(self, count: int, sink: list[float], interval: float) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        mine = []
        due = time.perf_counter()
        for _ in range(count):
            with self.lock:
                i = next(self.counter)
            if interval:
                due += interval
                time.sleep(max(0.0, due - time.perf_counter()))
                late = max(0.0, (time.perf_counter() - due) * 1000)
                mine.append(self._post(conn, i) + late)
            else:
                mine.append(self._post(conn, i))
        conn.close()
        with self.lock:
            sink.extend(mine)

    def run(self, clients: int, total: int, rate: float = 0.0) -> tuple[float, list[float]]:
        """Seconds and latencies (ms) of ``total`` posts by ``clients`` clients (``rate``: paced, posts/s)."""
        share = [total // clients + (1 if k < total % clients else 0) for k in range(clients)]
        interval = clients / rate if rate else 0.0
        sink: list[float] = []
        threads = [threading.Thread(target=self._client, args=(count, sink, interval)) for count in share]
        start = time.perf_counter()
        for thread in threads:
            thread.start()
            if interval:
                time.sleep(interval / clients)  # the clients' posts spread evenly in time
        for thread in threads:
            thread.join()
        return time.perf_counter() - start, sink


def measure(port: int, make: Body, label: str, start: int) -> tuple[dict[str, float], int, list[str]]:
    """The four phases for one target; figures, posts sent, errors."""
    load = Load(port, make, start)
    figures: dict[str, float] = {}
    load.run(8, WARMUP)
    posted = WARMUP
    seconds, lat = load.run(1, SINGLE_POSTS)
    posted += SINGLE_POSTS
    figures.update(
        {f"{label}_1c_per_s": SINGLE_POSTS / seconds, f"{label}_1c_p50_ms": statistics.median(lat)}
    )
    seconds, lat = load.run(8, POSTS)
    posted += POSTS
    figures.update(
        {
            f"{label}_8c_per_s": POSTS / seconds,
            f"{label}_8c_p50_ms": statistics.median(lat),
            f"{label}_8c_p99_ms": _percentile(lat, 99),
        }
    )
    seconds, lat = load.run(8, POSTS, rate=PACED_RATE)
    posted += POSTS
    figures.update(
        {
            f"{label}_paced_per_s": POSTS / seconds,
            f"{label}_paced_p50_ms": statistics.median(lat),
            f"{label}_paced_p95_ms": _percentile(lat, 95),
            f"{label}_paced_p99_ms": _percentile(lat, 99),
        }
    )
    figures[f"{label}_errors"] = len(load.errors)
    return figures, posted, load.errors


TARGETS = {"api": lambda scene: api_request(scene.token), "webform": lambda scene: webform_request()}


def run_base(base: int, targets: tuple[str, ...]) -> dict[str, float]:
    scene = build_scene(base)
    print(
        f"  base {scene.base:,} leads (fill {scene.fill_s:.1f} s), {scene.members} members\n"
        f"  {serve_settings()}"
    )
    print(
        f"  posts per phase: 1 client {SINGLE_POSTS}, 8 clients {POSTS} saturated and {POSTS} paced at "
        f"{PACED_RATE:.0f}/s; warm-up {WARMUP}"
    )
    figures: dict[str, float] = {}
    posted = 0
    errors: list[str] = []
    with Server() as server:
        for name in targets:
            found, sent, errs = measure(server.port, TARGETS[name](scene), name, start=posted)
            figures.update(found)
            posted += sent
            errors += errs
    for line in sorted(set(errors))[:5]:
        print(f"  error: {line}")
    figures.update(scene_check(scene, posted))
    return figures


def _print(label: str, figures: dict[str, Any]) -> None:
    print(f"  {label}: " + "  ".join(f"{k}={v:,.1f}" for k, v in figures.items()))


@benchmark("intake_http", default_n=1_000_000)
def intake_http(n: int) -> dict[str, float]:
    small = run_base(SMALL_BASE, ("api", "webform"))
    _print(f"base {SMALL_BASE:,}", small)
    large = run_base(n, ("api", "webform"))
    _print(f"base {n:,}", large)
    figures: dict[str, float] = {"base_small": SMALL_BASE, "base_large": n}
    for key, value in large.items():
        figures[key] = value
        if key.endswith(("_per_s", "_ms")) and small.get(key):
            figures[f"{key}_ratio"] = value / small[key]
    return figures


@benchmark("lead_create_api", default_n=SMALL_BASE)
def lead_create_api(n: int) -> dict[str, float]:
    return {"base": n, **run_base(n, ("api",))}


@benchmark("webform", default_n=SMALL_BASE)
def webform(n: int) -> dict[str, float]:
    return {"base": n, **run_base(n, ("webform",))}
