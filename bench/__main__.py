"""Run the benchmarks against a scratch database and print figures.

    python -m bench [--db URL] [--only NAME] [--n N]

The default database is PostgreSQL ``pheu_bench`` at 127.0.0.1 (created when missing, emptied before each
run); ``--db sqlite:///var/bench.sqlite3`` measures the embedded default.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from urllib.parse import urlsplit

from bench._registry import BENCHMARKS, DEFAULT_N, benchmark


def _prepare_database(url: str) -> None:
    parts = urlsplit(url)
    if parts.scheme.startswith("postgres"):
        import psycopg

        name = parts.path.lstrip("/")
        admin = url[: -len(parts.path)] + "/postgres"
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{name}"')
    elif parts.scheme == "sqlite":
        path = parts.path[1:]  # as dj_database_url reads it: sqlite:///var/x relative, sqlite:////x absolute
        for suffix in ("", "-wal", "-shm"):
            if os.path.exists(path + suffix):
                os.remove(path + suffix)


def _percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(pct / 100 * (len(ordered) - 1)))]


@benchmark("lead_create_api")
def lead_create_api(n: int) -> dict[str, float]:
    """POST /api/v1/leads/ in-process (one client): normalise, validate, history — what exists today."""
    from rest_framework.authtoken.models import Token
    from rest_framework.test import APIClient

    from pheu.accounts.models import Role, User
    from pheu.teams.models import Team, TeamMember

    user = User.objects.create_user("bench", password="bench-pass-1", role=Role.SALESPERSON)
    TeamMember.objects.create(team=Team.objects.create(name="Bench"), user=user)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    latencies = []
    start = time.perf_counter()
    for i in range(n):
        t0 = time.perf_counter()
        response = client.post(
            "/api/v1/leads/",
            {
                "name": f"Khách hàng {i}",
                "contact_name": f"Nguyễn Văn {i}",
                "email": f"khach{i}@congty{i % 97}.vn",
                "phone": f"091{i % 10} {i % 1000:03d} {i % 997:03d}",
                "country": "VN",
                "expected_revenue": "15000000.00",
            },
            format="json",
        )
        latencies.append((time.perf_counter() - t0) * 1000)
        assert response.status_code == 201, response.content
    elapsed = time.perf_counter() - start
    return {
        "leads": n,
        "leads_per_s": n / elapsed,
        "p50_ms": statistics.median(latencies),
        "p99_ms": _percentile(latencies, 99),
    }


import bench.assignment  # noqa: E402  (registers assignment_batch)
import bench.duplicates  # noqa: E402  (registers duplicates_exact, _fuzzy, _lookup)
import bench.imports  # noqa: E402  (registers import_csv)
import bench.pipeline  # noqa: E402  (registers pipeline_pages)
import bench.rules  # noqa: E402  (registers rules_count)
import bench.scoring  # noqa: E402  (registers scoring)
import bench.webform  # noqa: E402, F401  (registers webform)


def main() -> None:
    parser = argparse.ArgumentParser(prog="bench")
    parser.add_argument(
        "--db", default=os.environ.get("PHEU_BENCH_DB", "postgres://postgres@127.0.0.1:5432/pheu_bench")
    )
    parser.add_argument("--only", choices=sorted(BENCHMARKS))
    parser.add_argument("--n", type=int, default=None, help="size (default: each benchmark's own)")
    args = parser.parse_args()

    os.environ["PHEU_DATABASE_URL"] = args.db
    os.environ["PHEU_TASKS_BACKEND"] = "immediate"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pheu.settings")
    _prepare_database(args.db)
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)
    print(f"database: {urlsplit(args.db).scheme}")
    for name, fn in BENCHMARKS.items():
        if args.only and name != args.only:
            continue
        n = args.n if args.n is not None else DEFAULT_N[name]
        print(f"{name}: n={n}")
        figures = fn(n)
        print(f"{name:24s} " + "  ".join(f"{k}={v:,.1f}" for k, v in figures.items()))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
