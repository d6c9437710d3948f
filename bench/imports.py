"""``import_csv``: import an N-row CSV of leads (normalised, duplicate-flagged, scored, assigned) against two
floors measured in the same run: a bare ``COPY`` of the same file into an unindexed table of text columns,
and the floor the lead table allows — a bare ``INSERT … SELECT`` of the same rows, ready (the import's own,
copied aside), into ``leads_lead`` with its indexes and trigger (rolled back). Target (issue 24): import
≤ 2 × that floor; 10,000 rows ≤ 1.5 s.

The file is written first (deterministic Vietnamese and English leads: names, companies, e-mails, phones,
cities, countries, tags; ≈5% share an e-mail with an earlier row, so duplicates are flagged). Peak memory
is the bench process's own (``resource.getrusage``): the import streams, so it must not grow with N.
SPEC section 13: import ≤ 2 × the INSERT … SELECT floor; RSS ≤ 500 MB.
"""

from __future__ import annotations

import csv
import random
import resource
import tempfile
import time
from pathlib import Path

from bench._registry import benchmark

HEADER = [
    "Mã bên ngoài",
    "Tên",
    "Tên người liên hệ",
    "Tên công ty",
    "Email",
    "Điện thoại",
    "Di động",
    "Thành phố",
    "Quốc gia",
    "Quy mô công ty (số nhân viên)",
    "Doanh thu dự kiến",
    "Nhãn",
]
FAMILY = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng", "Bùi", "Đỗ"]
MIDDLE = ["Văn", "Thị", "Hữu", "Đức", "Minh", "Thanh", "Quốc", "Ngọc"]
GIVEN = [
    "An",
    "Bình",
    "Chi",
    "Dũng",
    "Giang",
    "Hà",
    "Hải",
    "Hạnh",
    "Hùng",
    "Lan",
    "Linh",
    "Long",
    "Mai",
    "Nam",
    "Ngọc",
    "Phúc",
    "Quân",
    "Sơn",
    "Tâm",
    "Thảo",
    "Trang",
    "Tuấn",
    "Việt",
    "Yến",
]
EN_NAMES = ["John Smith", "Mary Johnson", "David Brown", "Sarah Miller", "James Wilson", "Emma Davis"]
TRADES = ["Thương mại", "Xây dựng", "Công nghệ", "Vận tải", "Thực phẩm", "Dệt may", "Dược phẩm"]
CITIES = [
    ("Hà Nội", "VN"),
    ("TP Hồ Chí Minh", "VN"),
    ("Đà Nẵng", "VN"),
    ("Hải Phòng", "VN"),
    ("Cần Thơ", "VN"),
    ("Singapore", "SG"),
    ("New York", "US"),
    ("Toronto", "Canada"),
]
TAGS = ["VIP", "Hội thảo", "Đối tác", "Khách cũ", ""]


def write_file(path: Path, n: int, *, seed: int = 8) -> None:
    rng = random.Random(seed)
    emails: list[str] = []
    with open(path, "w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(HEADER)
        for i in range(n):
            if rng.random() < 0.15:
                contact = rng.choice(EN_NAMES)
            else:
                contact = f"{rng.choice(FAMILY)} {rng.choice(MIDDLE)} {rng.choice(GIVEN)}"
            company = f"Công ty {rng.choice(TRADES)} {rng.choice(GIVEN)} {i % 9973}"
            if emails and rng.random() < 0.05:
                email = rng.choice(emails)
            else:
                email = f"user{i}@{rng.choice(['gmail.com', 'congty.vn', 'example.com.vn'])}"
                if len(emails) < 10_000:
                    emails.append(email)
            city, country = rng.choice(CITIES)
            phone = f"09{rng.randrange(10**8):08d}" if rng.random() < 0.85 else ""
            mobile = f"+84 3{rng.randrange(10**8):08d}" if rng.random() < 0.3 else ""
            writer.writerow(
                [
                    f"bench-{i}",
                    f"Cơ hội {company}",
                    contact,
                    company,
                    email,
                    phone,
                    mobile,
                    city,
                    country,
                    rng.choice(["", "12", "80", "300"]),
                    rng.choice(["", "15.000.000", "250000000"]),
                    rng.choice(TAGS),
                ]
            )


class _Undo(Exception):
    pass


def _insert_select_floor(run_id: int) -> float:
    """Seconds of a bare ``INSERT … SELECT`` of the rows the import created, ready in a temporary table,
    into ``leads_lead`` (its indexes, constraints and score trigger included); rolled back."""
    from django.db import connection, transaction

    from pheu.imports.models import ImportLine
    from pheu.leads.models import Lead

    columns = ", ".join(f.column for f in Lead._meta.concrete_fields if not f.primary_key)
    lead, line = Lead._meta.db_table, ImportLine._meta.db_table
    seconds = float("nan")
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                f"CREATE TEMP TABLE bench_floor ON COMMIT DROP AS SELECT {columns} FROM {lead} l "
                f"JOIN {line} i ON i.lead_id = l.id WHERE i.import_run_id = %s",
                [run_id],
            )
            cursor.execute("UPDATE bench_floor SET external_id = external_id || '-floor'")  # unique
            cursor.execute("ANALYZE bench_floor")
            t0 = time.perf_counter()
            cursor.execute(f"INSERT INTO {lead} ({columns}) SELECT {columns} FROM bench_floor")
            seconds = time.perf_counter() - t0
            raise _Undo
    except _Undo:
        pass
    return seconds


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


@benchmark("import_csv", default_n=100_000)
def import_csv(n: int) -> dict[str, float]:
    from django.db import connection

    from pheu.core.models import PheuSettings
    from pheu.imports.services import import_file
    from pheu.leads.models import Lead
    from pheu.scoring.models import ScoringRule
    from pheu.teams.models import Team

    if not Team.objects.filter(name="Bench import").exists():
        Team.objects.create(name="Bench import")
    # The whole intake path: new leads are assigned as they come in.
    PheuSettings.objects.update_or_create(pk=1, defaults={"realtime_assignment": True})
    ScoringRule.objects.get_or_create(
        name="Bench VN", defaults={"domain": "[['country.code', '=', 'VN']]", "points": 10}
    )
    rss_before = _rss_mb()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "leads.csv"
        t0 = time.perf_counter()
        write_file(path, n)
        write_s = time.perf_counter() - t0
        size_mb = path.stat().st_size / 1e6
        copy_s = float("nan")
        if connection.vendor == "postgresql":
            columns = ", ".join(f"c{i} text" for i in range(len(HEADER)))
            with connection.cursor() as cursor:
                cursor.execute(
                    f"DROP TABLE IF EXISTS bench_bare_copy; CREATE UNLOGGED TABLE bench_bare_copy ({columns})"
                )
                t0 = time.perf_counter()
                with (
                    cursor.cursor.copy(
                        "COPY bench_bare_copy FROM STDIN WITH (FORMAT csv, HEADER true)"
                    ) as copy,
                    open(path, "rb") as handle,
                ):
                    while chunk := handle.read(1 << 20):
                        copy.write(chunk)
                copy_s = time.perf_counter() - t0
                cursor.execute("DROP TABLE bench_bare_copy")
        before = Lead.objects.count()
        t0 = time.perf_counter()
        run = import_file(actor=None, path=path)
        import_s = time.perf_counter() - t0
        assert run.status == "done", run.message
        assert Lead.objects.count() - before == run.created_count
        steps = getattr(run, "step_seconds", {})
        rss_import = _rss_mb()
        floor_s = _insert_select_floor(run.pk) if connection.vendor == "postgresql" else float("nan")
        # Re-import the first tenth of the file (same external ids): every row updates its record.
        write_file(path, max(1, n // 10))
        t0 = time.perf_counter()
        again = import_file(actor=None, path=path)
        update_s = time.perf_counter() - t0
        assert again.status == "done" and again.created_count == 0, again.message
    from bench.rules import check_sample

    mismatches = check_sample()
    return {
        "rows": n,
        "file_mb": size_mb,
        "write_file_s": write_s,
        "bare_copy_s": copy_s,
        "import_s": import_s,
        "floor_insert_select_s": floor_s,
        "x_floor": import_s / floor_s if floor_s == floor_s else float("nan"),
        "x_copy": import_s / copy_s if copy_s == copy_s else float("nan"),
        "rows_per_s": n / import_s,
        "created": run.created_count,
        "rows_with_errors": run.error_count,
        "duplicates": run.duplicate_count,
        **{f"step_{name}_s": seconds for name, seconds in steps.items()},
        "peak_rss_import_mb": rss_import,
        "reimport_rows": again.updated_count,
        "reimport_s": update_s,
        "reimport_rows_per_s": again.updated_count / update_s,
        "peak_rss_mb": _rss_mb(),
        "rss_before_mb": rss_before,
        "key_mismatches": mismatches,
    }
