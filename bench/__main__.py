"""Run the benchmarks against a scratch database and print figures.

    python -m bench [--db URL] [--only NAME] [--n N] [--reuse]

The default database is PostgreSQL ``pheu_bench`` at 127.0.0.1 (created when missing, emptied before each
run); ``--db sqlite:///var/bench.sqlite3`` measures the embedded default. ``--reuse`` keeps the database: a
benchmark that supports it (``reports``) measures the base an earlier run of the same size filled instead of
filling it again (migrations still run; any other content is emptied and filled afresh).
"""

from __future__ import annotations

import argparse
import os
import sys
from urllib.parse import urlsplit

# Each benchmark module registers its benchmarks when imported.
import bench._db
import bench.assignment  # assignment_batch
import bench.duplicates  # duplicates_exact, _fuzzy, _lookup
import bench.imports  # import_csv
import bench.intake  # intake_http, lead_create_api, webform
import bench.pipeline  # pipeline_pages
import bench.reports  # reports
import bench.rules  # rules_count
import bench.scoring  # scoring
import bench.webhooks  # webhooks
import bench.workers
from bench._db import prepare_database
from bench._registry import BENCHMARKS, DEFAULT_N


def main() -> None:
    parser = argparse.ArgumentParser(prog="bench")
    parser.add_argument(
        "--db", default=os.environ.get("PHEU_BENCH_DB", "postgres://postgres@127.0.0.1:5432/pheu_bench")
    )
    parser.add_argument("--only", choices=sorted(BENCHMARKS))
    parser.add_argument("--n", type=int, default=None, help="size (default: each benchmark's own)")
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="keep the database; reuse the base an earlier run of the same benchmark and size filled",
    )
    args = parser.parse_args()

    os.environ["PHEU_DATABASE_URL"] = args.db
    os.environ["PHEU_TASKS_BACKEND"] = "immediate"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pheu.settings")
    bench._db.REUSE = args.reuse
    prepare_database(args.db, keep=args.reuse)
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)
    print(f"database: {urlsplit(args.db).scheme}{' (kept: --reuse)' if args.reuse else ''}")
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
