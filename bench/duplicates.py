"""Duplicate detection over many leads (SPEC section 6 and 13).

- ``duplicates_exact``: the exact-key scan (``pheu.leads.duplicates.exact_groups``: e-mail, phone/mobile,
  customer, company e-mail domain — set-based ``GROUP BY``) over ``n`` leads (default 1,000,000;
  target ≤ 5 s);
- ``duplicates_fuzzy``: the matcher's scan (``similar_groups``: blocking in SQL, the pairs streamed and
  compared, groups by centre) over ``n`` leads (default 1,000,000; target ≤ 120 s and RSS ≤ 1 GB on
  PostgreSQL), then the lookup on the same base (target ≤ 20 ms);
- ``duplicates_labelled``: pair precision, recall and F1 of the matcher at the "propose merge" threshold on
  labelled data (SPEC section 13: precision ≥ 0.98, F1 ≥ 0.97): the Faker vi_VN set of ``n`` people
  (default 2,000) and FEBRL's febrl1, febrl2 and febrl4 (its two files as one base), each imported as leads
  (name, address, phone and e-mail where the set has them), the matcher trained on it (``pheu duplicates
  --train``) and scanned; the shipped weights' figures too. Each set in a transaction rolled back.
  ``python -m bench.duplicates --fit`` prints the shipped weights again (``DEFAULT_WEIGHTS``);
- ``duplicates_lookup``: ``find_duplicates`` for one lead against ``n`` stored leads: queries per lookup
  (target ≤ 3, all index scans — the plans are printed) and latency percentiles.

The leads are made by ``bench.rules``' SQL (set-based, realistic Vietnamese/English data) when the
database holds none, a third of them linked to customers on PostgreSQL (:func:`_link_partners`); an
existing base is reused as it is (``python -m bench`` empties it first).
"""

from __future__ import annotations

import statistics
import time
from typing import Any

from bench._registry import benchmark


def _ensure(n: int) -> dict[str, float]:
    """Fill an empty base with ``n`` leads: the lead rows of ``bench.rules`` (no tags or page views, which
    duplicate detection does not read), indexes rebuilt after the fill, then ``VACUUM ANALYZE``."""
    from django.db import connection, transaction
    from django.utils import timezone

    from bench import rules
    from pheu.leads import blocking, scores
    from pheu.leads.models import Lead

    if Lead.objects.exists():
        return {}
    t0 = time.perf_counter()
    d = rules._Postgres() if connection.vendor == "postgresql" else rules._Sqlite()
    with transaction.atomic(), connection.cursor() as cursor:
        refs = rules._reference_rows()
        rebuild = []
        if d.vendor == "postgresql":
            # As bench.rules.fill: foreign keys hold by construction; skip their deferred triggers.
            cursor.execute("SET LOCAL session_replication_role = replica")
            cursor.execute("SET LOCAL maintenance_work_mem = '256MB'")
            rebuild = rules._pg_drop_indexes(cursor, [Lead._meta.db_table])
        sql, params = rules._lead_sql(d, n, refs, timezone.now().replace(microsecond=0))
        d.prepare(cursor)
        cursor.execute(sql, params)
        scores.add_missing_rows(cursor)  # the score rows the insert trigger would have made
        if d.vendor == "postgresql":
            _link_partners(cursor, n)
        t1 = time.perf_counter()
        blocking.fill_match_keys(cursor)  # the matcher's keys, as Lead.normalize() computes them
        fill_keys_s = time.perf_counter() - t1
        for definition in rebuild:
            cursor.execute(definition)
    with connection.cursor() as cursor:
        cursor.execute("VACUUM (ANALYZE)" if d.vendor == "postgresql" else "ANALYZE")
    return {"fill_s": time.perf_counter() - t0, "fill_match_keys_s": fill_keys_s}


def _link_partners(cursor: Any, n: int) -> None:
    """Customers for a third of the leads, as a base that converts has them: ``n`` / 10 companies and
    ``n`` * 4 / 10 contacts (each of a company), each lead of the third linked to one of them — so that
    the lookup reads a customer's family (its company and the company's contacts) on every third lead."""
    from pheu.contacts.models import Partner
    from pheu.leads.models import Lead

    partners = Partner._meta.db_table
    companies, contacts = max(1, n // 10), max(1, n * 4 // 10)
    columns = (
        "is_company, parent_id, name, job_title, email, phone, mobile, website, street, city, state, zip, "
        "language, vat, notes, active, created_at, updated_at, email_normalized, phone_e164, mobile_e164, "
        "name_key"
    )
    blank = "'', '', '', '', '', '', '', '', '', 'vi', '', '', true, now(), now(), '', '', ''"
    cursor.execute(f"SELECT COALESCE(MAX(id), 0) FROM {partners}")
    first = cursor.fetchone()[0] + 1
    cursor.execute(
        f"INSERT INTO {partners} (id, {columns}) SELECT %s + g, true, NULL, 'Company ' || g, {blank}, "
        f"'company ' || g FROM generate_series(0, %s) AS g",
        [first, companies - 1],
    )
    cursor.execute(
        f"INSERT INTO {partners} (id, {columns}) SELECT %s + g, false, %s + g %% %s, 'Contact ' || g, "
        f"{blank}, 'contact ' || g FROM generate_series(0, %s) AS g",
        [first + companies, first, companies, contacts - 1],
    )
    cursor.execute(
        f"SELECT setval(pg_get_serial_sequence('{partners}', 'id'), %s)", [first + companies + contacts]
    )
    cursor.execute(
        f"UPDATE {Lead._meta.db_table} SET partner_id = %s + id %% %s WHERE id %% 3 = 0",
        [first, companies + contacts],
    )


def _sprinkle_duplicates(count: int) -> None:
    """Make ``count`` recent leads look like older ones (same e-mail / phone / similar name), as real bases
    have, so that the scans find and group something. One UPDATE … FROM, set-based."""
    from django.db import connection

    from pheu.leads.models import Lead

    table = connection.ops.quote_name(Lead._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT MIN(id), MAX(id) FROM {table}")
        low, high = cursor.fetchone()
        if connection.vendor != "postgresql":
            return
        cursor.execute(
            f"""
            UPDATE {table} AS t SET email = s.email, email_normalized = s.email_normalized,
                   mobile = s.phone, mobile_e164 = s.phone_e164, city = s.city, city_key = s.city_key,
                   match_keys = NULL
            FROM {table} AS s
            WHERE t.id BETWEEN %s AND %s AND s.id = t.id - %s AND t.id %% 7 = 0
            """,
            [high - count * 7, high, (high - low) // 2],
        )
    from pheu.leads.blocking import fill_match_keys

    fill_match_keys()  # the changed records' keys (as saving them would)


@benchmark("duplicates_exact", default_n=1_000_000)
def duplicates_exact(n: int) -> dict[str, float]:
    from pheu.leads.duplicates import exact_groups
    from pheu.leads.models import Lead

    figures = _ensure(n)
    _sprinkle_duplicates(min(20_000, n // 50))
    runs = []
    groups: list[Any] = []
    for _ in range(3):
        t0 = time.perf_counter()
        groups = exact_groups()
        runs.append(time.perf_counter() - t0)
    by_reason: dict[str, int] = {}
    for group in groups:
        for reason in group.reasons:
            by_reason[reason.code] = by_reason.get(reason.code, 0) + 1
    result = {
        **figures,
        "leads": Lead.objects.count(),
        "groups": len(groups),
        **{f"groups_{k}": v for k, v in sorted(by_reason.items())},
        "scan_s_best": min(runs),
        "scan_s_median": statistics.median(runs),
    }
    print("  ".join(f"{k}={v:,.3f}" for k, v in result.items()))
    # The one-record lookup on the same base (a separate run would fill it again).
    result.update({f"lookup_{k}": v for k, v in duplicates_lookup(n).items() if k not in ("leads", "fill_s")})
    return result


@benchmark("duplicates_fuzzy", default_n=1_000_000)
def duplicates_fuzzy(n: int) -> dict[str, float]:
    """The whole-base scan of likely matches (target at 1,000,000 leads on PostgreSQL: ≤ 120 s, RSS ≤ 1 GB),
    then the lookup on one lead on the same base (≤ 20 ms)."""
    import resource

    from django.db import connection

    from pheu.leads import blocking, matching
    from pheu.leads.duplicates import Thresholds, similar_groups
    from pheu.leads.models import Lead

    figures = _ensure(n)
    _sprinkle_duplicates(min(20_000, n // 50))
    thresholds = Thresholds.load()
    print(
        f"  settings: block cap {matching.BLOCK_CAP} records (a key shared by more is a stop key), "
        f"show ≥ {thresholds.show:.0%}, merge ≥ {thresholds.merge:.0%}, fetch {blocking.FETCH} rows, "
        f"work_mem {blocking.SCAN_WORK_MEM if connection.vendor == 'postgresql' else '-'}"
    )
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    stats = blocking.ScanStats()
    t0 = time.perf_counter()
    groups = similar_groups(thresholds=thresholds, stats=stats)
    elapsed = time.perf_counter() - t0
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    sizes = sorted((len(g.ids) for g in groups), reverse=True)
    print(f"  largest stop keys: {', '.join(f'{k} ({v:,})' for k, v in stats.largest_stop_keys)}")
    result = {
        **figures,
        "leads": Lead.objects.count(),
        "records_with_keys": stats.records,
        "candidate_pairs": stats.pairs,
        "stop_keys": stats.stop_keys,
        "groups": len(groups),
        "records_in_groups": sum(sizes),
        "largest_group": sizes[0] if sizes else 0,
        "pairs_kept": sum(g.pair_count for g in groups),
        "scan_s": elapsed,
        "peak_rss_mb_before": rss_before,
        "peak_rss_mb": rss,
        **{f"scan_{step}_s": seconds for step, seconds in stats.seconds.items()},
    }
    print("  ".join(f"{k}={v:,.3f}" for k, v in result.items()))
    result.update({f"lookup_{k}": v for k, v in duplicates_lookup(n).items() if k not in ("leads", "fill_s")})
    return result


@benchmark("duplicates_lookup", default_n=1_000_000)
def duplicates_lookup(n: int) -> dict[str, float]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from pheu.leads.duplicates import find_duplicates
    from pheu.leads.models import Lead

    figures = _ensure(n)
    # Recent records with an e-mail and a phone (the bench data has no postcodes): the new-lead check.
    sample = list(Lead.objects.exclude(email_normalized="").exclude(phone_e164="").order_by("-id")[:200])
    latencies, queries, found = [], [], 0
    for lead in sample:
        with CaptureQueriesContext(connection) as ctx:
            t0 = time.perf_counter()
            found += len(find_duplicates(lead))
            latencies.append((time.perf_counter() - t0) * 1000)
        queries.append(len(ctx.captured_queries))
    if connection.vendor == "postgresql":
        with CaptureQueriesContext(connection) as ctx:
            find_duplicates(sample[0])
        with connection.cursor() as cursor:
            for query in ctx.captured_queries:
                cursor.execute("EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF) " + query["sql"])
                print("--", query["sql"][:160], "…")
                print("\n".join(row[0] for row in cursor.fetchall()))
    ordered = sorted(latencies)
    return {
        **figures,
        "leads": Lead.objects.count(),
        "lookups": len(sample),
        "matches_per_lookup": found / max(1, len(sample)),
        "max_queries": max(queries),
        "p50_ms": statistics.median(latencies),
        "p95_ms": ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))],
    }


@benchmark("duplicates_labelled", default_n=2_000)
def duplicates_labelled(n: int) -> dict[str, float]:
    from django.db import transaction

    from pheu.leads.duplicates import Thresholds, similar_groups
    from pheu.leads.labelled import febrl_set, import_leads, pair_quality, vi_set
    from pheu.leads.models import Lead
    from pheu.leads.services.matching import train_matcher

    results: dict[str, float] = {}
    for name, make in (
        ("vi", lambda: vi_set(n)),
        ("febrl1", lambda: febrl_set("febrl1")),
        ("febrl2", lambda: febrl_set("febrl2")),
        ("febrl4", lambda: febrl_set("febrl4")),
    ):
        labelled = make()
        with transaction.atomic():
            ids = import_leads(labelled)
            truth = labelled.true_pairs(ids)
            scope = Lead.objects.filter(pk__gte=min(ids), pk__lte=max(ids))
            for kind in ("shipped", "trained"):
                if kind == "trained":
                    t0 = time.perf_counter()
                    train_matcher(queryset=scope)
                    results[f"{name}_train_s"] = time.perf_counter() - t0
                thresholds = Thresholds.load()
                t0 = time.perf_counter()
                groups = similar_groups(scope, thresholds=thresholds)
                elapsed = time.perf_counter() - t0
                predicted = [(p.a, p.b) for g in groups for p in g.pairs if p.probability >= thresholds.merge]
                quality = pair_quality(predicted, truth)
                print(f"  {name} ({len(ids)} records, {kind} weights): {quality.as_dict()}")
                key = name if kind == "trained" else f"{name}_shipped"
                results.update({f"{key}_precision_pct": 100 * quality.precision,
                                f"{key}_recall_pct": 100 * quality.recall,
                                f"{key}_f1_pct": 100 * quality.f1})  # fmt: skip
                if kind == "trained":
                    results[f"{name}_scan_s"] = elapsed
            transaction.set_rollback(True)
    return results


def _print_fitted_weights() -> None:
    import json
    import os

    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pheu.settings")
    django.setup()
    from pheu.leads.labelled import febrl_set, fit, vi_set

    print(json.dumps(fit([vi_set(), febrl_set("febrl1")]).as_dict(), indent=2))


if __name__ == "__main__":
    import sys

    if sys.argv[1:] != ["--fit"]:
        sys.exit("usage: python -m bench.duplicates --fit   (the benchmarks run with python -m bench)")
    _print_fitted_weights()
