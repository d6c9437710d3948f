"""The duplicate matcher's blocking in the database (SPEC section 6; the method: :mod:`pheu.leads.matching`).

Every lead stores its blocking keys in ``Lead.match_keys`` (:func:`pheu.leads.matching.stored_keys`:
e-mail, numbers, the name's words in any order, their first letters, each name word with the postcode,
the city or the street's name, the house number with the street's words, the e-mail's name part, the
company and its e-mail domain), computed when the lead is written. A pair of records is compared when
they share a key that at most ``BLOCK_CAP`` records share; a key shared by more is a *stop key* (too common
to tell anything: "nguyen" in Hồ Chí Minh City), not used, and counted.

The whole-base scan (:func:`scan_pairs`) works set-based, in one transaction:

1. the keys of the records, one row per (key, record) — ``unnest`` on PostgreSQL, each key as a 64-bit
   hash (``hashtextextended``), ``json_each`` on SQLite, the text — and the size of each key's block with
   its first and last record (``GROUP BY``); the stop keys' texts are read from their first record and
   written to :class:`~pheu.leads.models.MatchStopKey` (whole-base scans) for the lookup;
2. the candidate pairs: a block of two records is its pair; the records of the blocks of three to ``cap``
   (a second pass over the keys) joined with each other; ``UNION`` (a pair sharing three keys is compared
   once);
3. the pairs streamed to Python with both records' fields (a server-side cursor on PostgreSQL, read in
   chunks): memory stays bounded whatever the size of the base, only the pairs reaching the threshold
   are kept.

The lookup on one lead (:func:`shares_a_key`) uses the same keys: on PostgreSQL a GIN index over the
words of ``match_keys`` (``string_to_array(match_keys, ' ') && keys``), the stop keys left out; on SQLite
(the portable path, small bases) a substring test per key.
"""

from __future__ import annotations

import contextlib
import json
import queue
import threading
import time
from collections.abc import Generator, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import connection
from django.db.models import BooleanField, QuerySet
from django.db.models.expressions import RawSQL

from pheu.leads.matching import BLOCK_CAP, MatchRecord, company_core, match_keys_of

FILL_BATCH = 5000
FETCH = 5000  # rows per fetch of the pair stream
CACHE = 200_000  # records of the stream kept for the pairs to come
SCAN_WORK_MEM = "128MB"  # PostgreSQL work_mem of the scan's transaction (hash joins and aggregates)
GIN_INDEX = "lead_match_keys_gin"

# What the matcher reads of each record of a pair, in _record's order.
_FIELDS = ("id", "name_key", "company_key", "email_normalized", "phone_e164", "mobile_e164", "street_key",
           "city_key", "zip")  # fmt: skip


def _table() -> str:
    from pheu.leads.models import Lead

    return connection.ops.quote_name(Lead._meta.db_table)


# --- keys -----------------------------------------------------------------------------------------------
def fill_match_keys(cursor: Any = None, *, table: str = "leads_lead") -> int:
    """Compute ``match_keys`` where it is missing (NULL: rows written by a path that does not compute it);
    return how many rows were filled. In batches of ``FILL_BATCH`` rows, each one ``UPDATE`` (PostgreSQL:
    from two arrays)."""
    own = cursor is None
    cursor = cursor or connection.cursor()
    vendor = cursor.db.vendor if hasattr(cursor, "db") else connection.vendor
    filled = 0
    try:
        last = 0
        while True:
            cursor.execute(
                f"SELECT id, name_key, company_key, email_normalized, phone_e164, mobile_e164, street_key, "
                f"city_key, zip FROM {table} WHERE match_keys IS NULL AND id > %s ORDER BY id LIMIT %s",
                [last, FILL_BATCH],
            )
            rows = cursor.fetchall()
            if not rows:
                return filled
            ids, keys = [], []
            for pk, name, company, email, phone, mobile, street, city, zip_ in rows:
                ids.append(pk)
                keys.append(
                    match_keys_of(
                        name_key=name or "",
                        company_key=company or "",
                        email=email or "",
                        phones=(phone or "", mobile or ""),
                        street=street or "",
                        city=city or "",
                        zip_=zip_ or "",
                    )
                )
            if vendor == "postgresql":
                cursor.execute(
                    f"UPDATE {table} AS t SET match_keys = v.k FROM "
                    f"(SELECT unnest(%s::bigint[]) AS id, unnest(%s::text[]) AS k) AS v WHERE t.id = v.id",
                    [ids, keys],
                )
            else:
                cursor.executemany(
                    f"UPDATE {table} SET match_keys = %s WHERE id = %s", list(zip(keys, ids, strict=True))
                )
            filled += len(rows)
            last = ids[-1]
    finally:
        if own:
            cursor.close()


def create_gin_index(cursor: Any) -> None:
    """PostgreSQL: the GIN index over the words of ``match_keys`` that the lookup reads."""
    cursor.execute(
        f"CREATE INDEX IF NOT EXISTS {GIN_INDEX} ON leads_lead USING gin (string_to_array(match_keys, ' '))"
    )


def _stop_table() -> str:
    from pheu.leads.models import MatchStopKey

    return connection.ops.quote_name(MatchStopKey._meta.db_table)


def shares_a_key(keys: Sequence[str]) -> RawSQL:
    """A condition on leads: the record shares one of ``keys`` that is not a stop key."""
    stop = _stop_table()
    if connection.vendor == "postgresql":
        return RawSQL(
            f"string_to_array(match_keys, ' ') && ARRAY(SELECT k FROM unnest(%s::text[]) AS k "
            f"WHERE NOT EXISTS (SELECT 1 FROM {stop} AS s WHERE s.key = k))",
            [list(keys)],
            output_field=BooleanField(),
        )
    usable = f"SELECT value FROM json_each(%s) WHERE value NOT IN (SELECT key FROM {stop})"
    return RawSQL(
        f"EXISTS (SELECT 1 FROM ({usable}) AS k "
        f"WHERE instr(' ' || match_keys || ' ', ' ' || k.value || ' ') > 0)",
        [json.dumps(list(keys))],
        output_field=BooleanField(),
    )


# --- the scan -------------------------------------------------------------------------------------------
@dataclass
class ScanStats:
    """What a scan did: records with keys, candidate pairs compared, and the stop keys it did not use
    (shared by more than ``cap`` records; the largest few with their sizes)."""

    records: int = 0
    pairs: int = 0
    stop_keys: int = 0
    largest_stop_keys: tuple[tuple[str, int], ...] = ()
    cap: int = BLOCK_CAP
    seconds: dict[str, float] = field(default_factory=dict)  # per step: blocks, pairs, fill

    def as_dict(self) -> dict[str, Any]:
        return {
            "records": self.records,
            "pairs": self.pairs,
            "stop_keys": self.stop_keys,
            "largest_stop_keys": [[key, n] for key, n in self.largest_stop_keys],
            "cap": self.cap,
            "seconds": {step: round(s, 3) for step, s in self.seconds.items()},
        }


def _scope_sql(queryset: QuerySet[Any] | None) -> tuple[str, list[Any]]:
    if queryset is None:
        return "", []
    sql, params = queryset.order_by().values("id").query.sql_with_params()
    return f" AND l.id IN ({sql})", list(params)


def match_record(values: Sequence[Any], family: int | None, **extra: Any) -> MatchRecord:
    """The matcher's record of a row of (id, name key, company key, e-mail, phone, mobile, street, city,
    postcode); ``extra``: the record's other fields (lost, name), where the caller read them."""
    pk, name_key, company_key, email, phone, mobile, street, city, zip_ = values
    return MatchRecord(
        id=pk,
        name_key=name_key or "",
        company=company_core(company_key or ""),
        email=email or "",
        phones=tuple(sorted({p for p in (phone, mobile) if p})),
        street=street or "",
        city=city or "",
        zip=(zip_ or "").strip().lower(),
        customer=family,
        **extra,
    )


def prefetched(cursor: Any, size: int) -> Generator[list[Any], None, None]:
    """The rows of ``cursor`` (executed) in lists of ``size``, the next list fetched by a thread while the
    caller works on the current one: the database joins the next pairs to their records (another process,
    another core) while Python compares the previous ones, instead of each waiting for the other.

    The thread alone reads the cursor while this generator runs (the caller must not use the connection
    until it ends). An error of the fetch is raised here; when the caller stops early, the thread ends
    after at most the fetch under way. (The client library waits for the server without the GIL.)"""
    chunks: queue.Queue[list[Any] | BaseException] = queue.Queue(maxsize=2)
    stop = threading.Event()

    def fetch() -> None:
        try:
            while not stop.is_set():
                rows = cursor.fetchmany(size)
                chunks.put(rows)
                if not rows:
                    return
        except BaseException as exc:  # handed to the caller's thread, raised there
            chunks.put(exc)

    thread = threading.Thread(target=fetch, name="pheu-scan-prefetch", daemon=True)
    thread.start()
    try:
        while True:
            item = chunks.get()
            if isinstance(item, BaseException):
                raise item
            if not item:
                return
            yield item
    finally:
        stop.set()
        while thread.is_alive():  # a put may be waiting for room: make it
            with contextlib.suppress(queue.Empty):
                chunks.get(timeout=0.05)
        thread.join()


def _drop(cursor: Any, *names: str) -> None:
    for name in names:
        cursor.execute(f"DROP TABLE IF EXISTS {name}")


def scan_pairs(
    queryset: QuerySet[Any] | None = None, *, cap: int = BLOCK_CAP, stats: ScanStats | None = None
) -> Iterator[tuple[MatchRecord, MatchRecord, int]]:
    """The candidate pairs of the active records (of ``queryset``, default all): (record a, record b, how
    many active records carry a's name), a < b, streamed (mostly in order of a). Run inside a transaction.

    A whole-base scan (``queryset`` None) also rewrites the stop keys."""
    from pheu.contacts.models import Partner

    stats = stats if stats is not None else ScanStats()
    stats.cap = cap
    table, partners, stop = _table(), connection.ops.quote_name(Partner._meta.db_table), _stop_table()
    scope, params = _scope_sql(queryset)
    postgres = connection.vendor == "postgresql"
    temp = "CREATE TEMP TABLE {} ON COMMIT DROP AS " if postgres else "CREATE TEMP TABLE {} AS "
    names = ("pheu_dup_blocks", "pheu_dup_stop", "pheu_dup_small", "pheu_dup_pairs", "pheu_dup_names",
             "pheu_dup_recs")  # fmt: skip
    with connection.cursor() as cursor:
        if postgres:
            cursor.execute(f"SET LOCAL work_mem = '{SCAN_WORK_MEM}'")
        _drop(cursor, *names)
        t0 = time.perf_counter()
        fill_match_keys(cursor, table=table)
        stats.seconds["fill"] = time.perf_counter() - t0
        # Each (key, record), the key as a 64-bit hash on PostgreSQL: grouping and joining ten million
        # integers is twice as fast as as many texts (two keys of a base sharing a hash is a chance of one
        # in a million at a million records; it would only compare a few more pairs). SQLite: the text.
        if postgres:
            keys = (
                f"SELECT hashtextextended(k, 0) AS h, l.id FROM {table} AS l, "
                "unnest(string_to_array(l.match_keys, ' ')) AS k"
            )
        else:
            keys = (
                f"SELECT j.value AS h, l.id FROM {table} AS l, "
                f"json_each('[\"' || replace(l.match_keys, ' ', '\",\"') || '\"]') AS j"
            )
        # The keys are read twice from the table (their blocks, then the records of the blocks of three
        # records or more) rather than stored once: most keys are a single record's, and storing every
        # (key, record) would write the whole base again.
        keys = f"{keys} WHERE l.active AND l.match_keys <> ''{scope}"
        t0 = time.perf_counter()
        # 1. The blocks: each key shared by two records or more, with its size and its first and last
        # record (a block of two is its pair already).
        cursor.execute(
            temp.format("pheu_dup_blocks") + "SELECT h, COUNT(*) AS n, MIN(id) AS first, MAX(id) AS last "
            f"FROM ({keys}) AS k GROUP BY h HAVING COUNT(*) > 1",
            params,
        )
        if postgres:
            cursor.execute("ANALYZE pheu_dup_blocks")
        # The stop keys' texts: read again from their first record (PostgreSQL; SQLite has them).
        if postgres:
            cursor.execute(
                temp.format("pheu_dup_stop") + f"SELECT k AS key, b.n FROM pheu_dup_blocks AS b "
                f"JOIN {table} AS l ON l.id = b.first, unnest(string_to_array(l.match_keys, ' ')) AS k "
                "WHERE b.n > %s AND hashtextextended(k, 0) = b.h",
                [cap],
            )
        else:
            cursor.execute(
                temp.format("pheu_dup_stop") + "SELECT h AS key, n FROM pheu_dup_blocks WHERE n > %s", [cap]
            )
        stats.seconds["blocks"] = time.perf_counter() - t0
        cursor.execute(
            f"SELECT COUNT(*) FROM {table} AS l WHERE l.active AND l.match_keys <> ''{scope}", params
        )
        stats.records = cursor.fetchone()[0]
        cursor.execute("SELECT COUNT(*) FROM pheu_dup_blocks WHERE n > %s", [cap])
        stats.stop_keys = cursor.fetchone()[0]
        cursor.execute("SELECT key, n FROM pheu_dup_stop ORDER BY n DESC, key LIMIT 5")
        stats.largest_stop_keys = tuple((key, n) for key, n in cursor.fetchall())
        if queryset is None:
            cursor.execute(f"DELETE FROM {stop}")
            cursor.execute(f"INSERT INTO {stop} (key, records) SELECT DISTINCT key, n FROM pheu_dup_stop")
        t0 = time.perf_counter()
        # 2. The records of the blocks of three to ``cap`` records (a hash join on the few usable blocks),
        # then the pairs: those of the blocks of two and of these, each once (UNION).
        cursor.execute(
            temp.format("pheu_dup_small")
            + f"SELECT k.h, k.id FROM ({keys}) AS k JOIN pheu_dup_blocks AS b ON b.h = k.h "
            "WHERE b.n > 2 AND b.n <= %s",
            [*params, cap],
        )
        if postgres:
            cursor.execute("ANALYZE pheu_dup_small")
        cursor.execute(
            temp.format("pheu_dup_pairs") + "SELECT a, b FROM ("
            "SELECT first AS a, last AS b FROM pheu_dup_blocks WHERE n = 2 "
            "UNION SELECT x.id, y.id FROM pheu_dup_small AS x JOIN pheu_dup_small AS y "
            "ON y.h = x.h AND y.id > x.id) AS p ORDER BY a, b"
        )
        # Term frequency: how many records (of the scope; merged-away and lost ones too, as the lookup counts
        # them) carry each name carried more than once (the name's index, read in order).
        cursor.execute(
            temp.format("pheu_dup_names") + f"SELECT l.name_key, COUNT(*) AS n FROM {table} AS l "
            f"WHERE l.name_key <> ''{scope} GROUP BY l.name_key HAVING COUNT(*) > 1",
            params,
        )
        if postgres:
            cursor.execute("ANALYZE pheu_dup_pairs")
            cursor.execute("ANALYZE pheu_dup_names")
        cursor.execute("SELECT COUNT(*) FROM pheu_dup_pairs")
        stats.pairs = cursor.fetchone()[0]
        stats.seconds["pairs"] = time.perf_counter() - t0
        # The records of the pairs, narrow (what the matcher reads, the customer's company, how many
        # records carry the name), so that the pairs are joined to them by hashing, not by looking up the
        # lead table twice a pair.
        t0 = time.perf_counter()
        fields = ", ".join(f"l.{f}" for f in _FIELDS)
        cursor.execute(
            temp.format("pheu_dup_recs")
            + f"SELECT {fields}, COALESCE(pa.parent_id, l.partner_id) AS family, COALESCE(nm.n, 1) AS name_n "
            f"FROM {table} AS l LEFT JOIN {partners} AS pa ON pa.id = l.partner_id "
            "LEFT JOIN pheu_dup_names AS nm ON nm.name_key = l.name_key "
            "WHERE l.id IN (SELECT a FROM pheu_dup_pairs UNION SELECT b FROM pheu_dup_pairs)"
        )
        if postgres:
            cursor.execute("ANALYZE pheu_dup_recs")
        stats.seconds["records"] = time.perf_counter() - t0
    a_fields = ", ".join(f"ra.{f}" for f in _FIELDS)
    b_fields = ", ".join(f"rb.{f}" for f in _FIELDS)
    stream = (
        f"SELECT {a_fields}, ra.family, {b_fields}, rb.family, ra.name_n FROM pheu_dup_pairs AS p "
        "JOIN pheu_dup_recs AS ra ON ra.id = p.a JOIN pheu_dup_recs AS rb ON rb.id = p.b"
    )
    width = len(_FIELDS)
    cursor = connection.chunked_cursor()
    # The records of the pairs, kept while they come again (a record of a block is in several pairs);
    # emptied when large, so that memory stays bounded.
    cache: dict[int, MatchRecord] = {}
    try:
        cursor.execute(stream)
        current: MatchRecord | None = None
        chunks = prefetched(cursor, FETCH) if postgres else iter(lambda: cursor.fetchmany(FETCH), [])
        for rows in chunks:
            if len(cache) > CACHE:
                cache.clear()
            for row in rows:
                if current is None or current.id != row[0]:
                    current = cache.get(row[0]) or match_record(row[:width], row[width])
                    cache[current.id] = current
                other = cache.get(row[width + 1])
                if other is None:
                    other = cache[row[width + 1]] = match_record(
                        row[width + 1 : 2 * width + 1], row[2 * width + 1]
                    )
                yield current, other, row[-1]
    finally:
        cursor.close()
        if not postgres:
            with connection.cursor() as c:
                _drop(c, *names)
