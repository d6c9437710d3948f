"""``rules_count``: evaluate typical rules (``Domain.to_q()``) as one ``COUNT(*)`` each over many leads.

The leads are made by set-based SQL (``INSERT … SELECT`` over ``generate_series`` on PostgreSQL, a recursive
CTE on SQLite): no Python object per row. Texts come from small vocabularies whose keys are computed here with
``text_key`` (the same function ``Lead.normalize()`` uses) and picked in SQL by a deterministic hash of the
row number, so a value and its key always come from the same vocabulary slot; a sample of the rows is
re-normalised in Python after the fill to prove the stored keys are what ``normalize()`` would store.

Distributions: 70% of the leads in Vietnam (the rest US/CA/SG/GB/AU/JP), Vietnamese names (38% Nguyễn) or
English ones to match, 75% with a company, 90% with an e-mail (≈40% at gmail.com), 85% with a phone, scores
uniform 0–100, company sizes in four bands (30% unknown), created over the last two years; tags on ≈30% of the
leads (1–2 each), 1–5 page views on ≈20%.
"""

from __future__ import annotations

import datetime as dt
import functools
import os
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from bench._registry import benchmark

N_DEFAULT = 1_000_000
# Rules slower than this on PostgreSQL get their candidate index tried (then dropped).
SLOW_MS = float(os.environ.get("PHEU_BENCH_RULES_SLOW_MS", "150"))


# --- deterministic pseudo-random numbers in SQL ---------------------------------------------------------
_P1 = 2_147_483_647  # primes below 2**31: g * A and h1 * C stay below 2**63 for g up to 10**9
_P2 = 2_147_483_629


def _h(salt: int, g: str = "g") -> str:
    """A hash of the integer column ``g`` (a non-negative integer below 2**31), different for each salt."""
    a = 1_103_515_245 + salt * 2_654_435
    b = 12_345 + salt * 97_531
    c = 48_271 + salt * 69_621
    d = 7 + salt * 1_000_003
    return f"((((({g}) * {a} + {b}) %% {_P1}) * {c} + {d}) %% {_P2})"


def _r(salt: int, k: int, g: str = "g") -> str:
    """A pseudo-random integer in ``[0, k)``."""
    return f"({_h(salt, g)} %% {k})"


# --- dialects -------------------------------------------------------------------------------------------
class _Dialect:
    vendor = ""

    def __init__(self) -> None:
        self.params: list[Any] = []

    def param(self, value: Any) -> str:
        self.params.append(value)
        return "%s"

    def param_before(self, value: Any, inner: str) -> str:
        """A parameter placed before those of the already rendered ``inner`` text (which follows it)."""
        self.params.insert(len(self.params) - inner.count("%s"), value)
        return "%s"

    def take_params(self) -> list[Any]:
        params, self.params = self.params, []
        return params

    def series(self, n: int) -> str:
        raise NotImplementedError

    def pick(self, values: Sequence[Any], index: str) -> str:
        raise NotImplementedError

    def text(self, expr: str) -> str:
        raise NotImplementedError

    def pad(self, expr: str, width: int) -> str:
        raise NotImplementedError

    def minus_seconds(self, base: str, seconds: str) -> str:
        raise NotImplementedError

    def plus_seconds(self, base: str, seconds: str) -> str:
        raise NotImplementedError

    def timestamp(self, value: dt.datetime) -> str:
        raise NotImplementedError

    def prepare(self, cursor: Any) -> None:
        """Run before the statements built so far."""

    fence = ""  # keeps a subquery from being flattened (so that its expressions are computed once per row)


class _Postgres(_Dialect):
    vendor = "postgresql"
    fence = " OFFSET 0"

    def series(self, n: int) -> str:
        return f"SELECT s.g::bigint AS g FROM generate_series(1, {self.param(n)}) AS s(g)"

    def pick(self, values: Sequence[Any], index: str) -> str:
        kind = "bigint" if all(v is None or isinstance(v, int) for v in values) else "text"
        return f"({self.param_before(list(values), index)}::{kind}[])[({index}) + 1]"

    def text(self, expr: str) -> str:
        return f"({expr})::text"

    def pad(self, expr: str, width: int) -> str:
        return f"lpad(({expr})::text, {width}, '0')"

    def minus_seconds(self, base: str, seconds: str) -> str:
        return f"({base} - ({seconds}) * interval '1 second')"

    def plus_seconds(self, base: str, seconds: str) -> str:
        return f"({base} + ({seconds}) * interval '1 second')"

    def timestamp(self, value: dt.datetime) -> str:
        return f"{self.param(value)}::timestamptz"


class _Sqlite(_Dialect):
    vendor = "sqlite"

    def series(self, n: int) -> str:
        return (
            "WITH RECURSIVE s(g) AS (SELECT 1 UNION ALL SELECT g + 1 FROM s "
            f"WHERE g < {self.param(n)}) SELECT g FROM s"
        )

    def __init__(self) -> None:
        super().__init__()
        self.vocab: dict[tuple[Any, ...], int] = {}

    def pick(self, values: Sequence[Any], index: str) -> str:
        # No arrays in SQLite: the vocabularies go to a temporary table (json_extract per row is 10x slower).
        number = self.vocab.setdefault(tuple(values), len(self.vocab))
        return f"(SELECT v FROM bench_vocab WHERE list = {number} AND i = ({index}))"

    def prepare(self, cursor: Any) -> None:
        cursor.execute(
            "CREATE TEMP TABLE IF NOT EXISTS bench_vocab (list, i, v, PRIMARY KEY (list, i)) WITHOUT ROWID"
        )
        cursor.execute("DELETE FROM bench_vocab")
        cursor.executemany(
            "INSERT INTO bench_vocab (list, i, v) VALUES (%s, %s, %s)",
            [(number, i, v) for values, number in self.vocab.items() for i, v in enumerate(values)],
        )

    def text(self, expr: str) -> str:
        return f"CAST(({expr}) AS TEXT)"

    def pad(self, expr: str, width: int) -> str:
        return f"substr('{'0' * width}' || ({expr}), -{width}, {width})"

    def minus_seconds(self, base: str, seconds: str) -> str:
        return f"datetime({base}, '-' || ({seconds}) || ' seconds')"

    def plus_seconds(self, base: str, seconds: str) -> str:
        return f"datetime({base}, '+' || ({seconds}) || ' seconds')"

    def timestamp(self, value: dt.datetime) -> str:
        # Django stores aware datetimes on SQLite as naive UTC text.
        return self.param(value.astimezone(dt.UTC).replace(tzinfo=None).strftime("%Y-%m-%d %H:%M:%S"))


# --- vocabularies ---------------------------------------------------------------------------------------
def _weighted(items: Sequence[tuple[Any, int]]) -> list[Any]:
    """Each item repeated by its weight: picking a slot uniformly follows the weights."""
    return [item for item, weight in items for _ in range(weight)]


# (country, state, city, weight): the first 700 of the 1,000 slots are in Vietnam.
PLACES: list[tuple[tuple[str, str, str], int]] = [
    (("VN", "Hà Nội", "Cầu Giấy"), 60),
    (("VN", "Hà Nội", "Đống Đa"), 50),
    (("VN", "Hà Nội", "Hoàn Kiếm"), 40),
    (("VN", "Hà Nội", "Hai Bà Trưng"), 30),
    (("VN", "Hồ Chí Minh", "Quận 1"), 70),
    (("VN", "Hồ Chí Minh", "Quận 3"), 50),
    (("VN", "Hồ Chí Minh", "Bình Thạnh"), 50),
    (("VN", "Hồ Chí Minh", "Thủ Đức"), 50),
    (("VN", "Đà Nẵng", "Hải Châu"), 50),
    (("VN", "Hải Phòng", "Lê Chân"), 30),
    (("VN", "Hải Phòng", "Hồng Bàng"), 20),
    (("VN", "Cần Thơ", "Ninh Kiều"), 30),
    (("VN", "Bình Dương", "Thủ Dầu Một"), 40),
    (("VN", "Đồng Nai", "Biên Hòa"), 35),
    (("VN", "Khánh Hòa", "Nha Trang"), 25),
    (("VN", "Thừa Thiên Huế", "Huế"), 20),
    (("VN", "Quảng Ninh", "Hạ Long"), 25),
    (("VN", "Nghệ An", "Vinh"), 25),
    (("US", "California", "San Francisco"), 40),
    (("US", "New York", "New York"), 35),
    (("US", "Texas", "Austin"), 25),
    (("CA", "Ontario", "Toronto"), 30),
    (("CA", "British Columbia", "Vancouver"), 20),
    (("SG", "", "Singapore"), 30),
    (("GB", "England", "London"), 30),
    (("GB", "England", "Manchester"), 10),
    (("AU", "New South Wales", "Sydney"), 25),
    (("AU", "Victoria", "Melbourne"), 15),
    (("JP", "Tokyo", "Tokyo"), 25),
    (("JP", "Osaka", "Osaka"), 15),
]
VN_SLOTS = 700
# Foreign phones: typed prefix, then `base + x % span` on `width` digits (all valid numbers for phonenumbers).
PHONES = {
    "US": ("+1 212", 2_000_000, 8_000_000, 7),
    "CA": ("+1 416", 2_000_000, 8_000_000, 7),
    "SG": ("+65 9", 0, 7_000_000, 7),
    "GB": ("+44 20", 70_000_000, 10_000_000, 8),
    "AU": ("+61 40", 0, 10_000_000, 7),
    "JP": ("+81 90", 20_000_000, 80_000_000, 8),
}
VN_MOBILE = ["090", "091", "093", "094", "096", "097", "098", "086", "088", "032", "035", "038", "077", "083"]

FAMILY = _weighted(
    [
        ("Nguyễn", 38),
        ("Trần", 11),
        ("Lê", 9),
        ("Phạm", 7),
        ("Hoàng", 5),
        ("Huỳnh", 4),
        ("Phan", 4),
        ("Vũ", 4),
        ("Võ", 3),
        ("Đặng", 3),
        ("Bùi", 3),
        ("Đỗ", 3),
        ("Hồ", 2),
        ("Ngô", 2),
        ("Dương", 1),
        ("Lý", 1),
    ]
)
MIDDLE = ["Văn", "Thị", "Minh", "Ngọc", "Đức", "Thu", "Hữu", "Thanh", "Quốc", "Hoàng", "Kim", "Xuân"]
GIVEN = [
    "An",
    "Bình",
    "Cường",
    "Dũng",
    "Hà",
    "Hương",
    "Lan",
    "Long",
    "Mai",
    "Nam",
    "Phương",
    "Quang",
    "Thảo",
    "Trang",
    "Tuấn",
    "Việt",
    "Hải",
    "Huy",
    "Linh",
    "Khánh",
    "Sơn",
    "Tâm",
    "Yến",
    "Đạt",
    "Hiếu",
    "Nhung",
]
FIRST_EN = [
    "James",
    "Mary",
    "John",
    "Emma",
    "Michael",
    "Olivia",
    "David",
    "Sophia",
    "Daniel",
    "Emily",
    "Hiroshi",
    "Yuki",
    "Wei",
    "Priya",
    "Liam",
    "Chloe",
]
LAST_EN = [
    "Smith",
    "Johnson",
    "Brown",
    "Taylor",
    "Wilson",
    "Lee",
    "Tan",
    "Tanaka",
    "Sato",
    "Clark",
    "Walker",
    "Nguyen",
    "Martin",
    "Anderson",
]
COMPANY_PREFIX_VN = ["Công ty TNHH", "Công ty Cổ phần", "Tập đoàn"]
COMPANY_CORE_VN = [
    "Minh Phát",
    "Hòa Bình",
    "Sao Việt",
    "An Khang",
    "Thành Công",
    "Phú Thịnh",
    "Đại Dương",
    "Trường Sơn",
    "Hưng Thịnh",
    "Bách Khoa",
    "Việt Tiến",
    "Đông Á",
    "Hoàng Gia",
    "Tân Phú",
    "Kim Long",
    "Ánh Dương",
]
COMPANY_TAIL_VN = ["", "Việt Nam", "Toàn Cầu", "Miền Nam", "Công nghệ", "Thương mại"]
COMPANY_CORE_EN = [
    "Acme",
    "Blue Ocean",
    "Northwind",
    "Globex",
    "Initech",
    "Sakura",
    "Maple Leaf",
    "Harbour",
    "Redwood",
    "Lion City",
    "Kangaroo",
    "Pinnacle",
]
COMPANY_SUFFIX_EN = ["Ltd", "Inc.", "Pte. Ltd.", "Co., Ltd.", "Group", "Holdings"]
NEEDS = [
    "Tư vấn phần mềm CRM",
    "Báo giá máy chủ",
    "Hợp tác phân phối",
    "Đăng ký dùng thử",
    "Mua bản quyền",
    "Triển khai ERP",
    "Đào tạo nhân viên",
    "Hỏi giá gói doanh nghiệp",
    "CRM implementation",
    "Website redesign",
    "Support contract",
    "Pricing request",
]
JOB_TITLES = [
    "Giám đốc",
    "Phó giám đốc",
    "Trưởng phòng IT",
    "Kế toán trưởng",
    "Nhân viên mua hàng",
    "CEO",
    "Sales Manager",
    "IT Director",
    "",
]
INDUSTRIES = [
    "Bán lẻ",
    "Sản xuất",
    "Xây dựng",
    "Giáo dục",
    "Y tế",
    "Công nghệ thông tin",
    "Logistics",
    "Tài chính",
    "Du lịch",
    "",
]
STREETS_VN = [
    "Lê Lợi",
    "Nguyễn Huệ",
    "Trần Hưng Đạo",
    "Hai Bà Trưng",
    "Lý Thường Kiệt",
    "Điện Biên Phủ",
    "Nguyễn Trãi",
    "Cách Mạng Tháng Tám",
    "Phạm Văn Đồng",
    "Võ Văn Kiệt",
]
STREETS_EN = ["Main Street", "King Street", "Orchard Road", "High Street", "George Street", "Market Street"]
MAIL_DOMAINS = _weighted(
    [("gmail.com", 44), ("yahoo.com", 8), ("outlook.com", 5), ("hotmail.com", 4), ("", 39)]
)  # "": the company's own domain (or gmail.com for a person without a company)
SOURCES = ["Website", "E-mail", "Điện thoại", "Hội thảo", "Facebook", "Zalo", "Giới thiệu"]
SOURCE_WEIGHTS = [30, 15, 15, 10, 12, 10, 8]
STAGES = [
    ("New", 1, 10, False, 40),
    ("Qualified", 2, 30, False, 25),
    ("Proposition", 3, 60, False, 20),
    ("Won", 4, 100, True, 15),
]
TEAMS = ["Kinh doanh Hà Nội", "Kinh doanh Hồ Chí Minh", "Kinh doanh Đà Nẵng", "Quốc tế"]
TAGS = [
    "VIP",
    "Khách tiềm năng",
    "Đối tác",
    "Hội chợ 2025",
    "Cần gọi lại",
    "Doanh nghiệp lớn",
    "Newsletter",
    "Báo giá",
]
URLS = [
    "/",
    "/pricing",
    "/pricing?plan=pro",
    "/en/pricing",
    "/vi/bang-gia",
    "/blog/crm-la-gi",
    "/blog/quan-ly-khach-hang",
    "/blog/10-meo-ban-hang",
    "/blog/Zalo-OA-cho-doanh-nghiep",
    "/features/automation",
    "/features/reports",
    "/contact",
    "/demo",
    "/about",
    "/careers",
]
URL_WEIGHTS = [25, 8, 3, 2, 3, 6, 5, 5, 3, 6, 4, 8, 5, 4, 2]


def _slug(text: str) -> str:
    from pheu.lib.text import text_key

    return "".join(ch for ch in text_key(text) if ch.isalnum())


# --- the fill -------------------------------------------------------------------------------------------
@dataclass
class _Refs:
    stages: list[int]
    stage_probability: list[int]
    teams: list[int]
    users: list[int]
    sources: list[int]
    tags: dict[str, int]


def _reference_rows() -> _Refs:
    from pheu.accounts.models import Role, User
    from pheu.contacts.models import Tag
    from pheu.leads.models import Source, Stage
    from pheu.teams.models import Team

    stages = [
        Stage.objects.create(name=name, sequence=seq, probability=prob, is_won=won)
        for name, seq, prob, won, _w in STAGES
    ]
    teams = [Team.objects.create(name=name, sequence=i) for i, name in enumerate(TEAMS)]
    users = []
    people = [
        ("An", "Nguyễn"),
        ("Bình", "Trần"),
        ("Chi", "Lê"),
        ("Dũng", "Phạm"),
        ("Giang", "Hoàng"),
        ("Hạnh", "Vũ"),
        ("Kevin", "Tan"),
        ("Lucy", "Brown"),
    ]
    for i, (first, last) in enumerate(people):
        users.append(
            User.objects.create(
                username=f"sale{i}",
                first_name=first,
                last_name=last,
                email=f"sale{i}@pheu.vn",
                password="!",
                role=Role.SALESPERSON,
            )
        )
    sources = [Source.objects.create(name=name) for name in SOURCES]
    tags = {name: Tag.objects.create(name=name).pk for name in TAGS}
    return _Refs(
        stages=[s.pk for s in stages],
        stage_probability=[prob for _n, _s, prob, _w2, _w in STAGES],
        teams=[t.pk for t in teams],
        users=[u.pk for u in users],
        sources=[s.pk for s in sources],
        tags=tags,
    )


def _keyed(values: Sequence[str]) -> tuple[list[str], list[str]]:
    """Values and their keys; checks that keys of parts joined by a separator are the key of the joined text
    (true when a part has no outer white space and its key neither), which the SQL relies on."""
    from pheu.lib.text import text_key

    keys = [text_key(v) for v in values]
    for value, key in zip(values, keys, strict=True):
        assert value == value.strip() and key == key.strip() and "  " not in key, value
        assert text_key(f"x {value} - y") == f"x {key} - y".replace("x  -", "x -"), value
    return list(values), keys


def _lead_sql(
    d: _Dialect, n: int, refs: _Refs, now: dt.datetime, age_days: int = 730
) -> tuple[str, list[Any]]:
    from django.db import connection

    from pheu.leads.models import Lead

    place_slots = _weighted(PLACES)
    assert len(place_slots) == 1000 and all(p[0] == "VN" for p in place_slots[:VN_SLOTS])
    countries = [p[0] for p in place_slots]
    states, state_keys = _keyed([p[1] for p in place_slots])
    cities, city_keys = _keyed([p[2] for p in place_slots])
    fam, fam_k = _keyed(FAMILY)
    mid, mid_k = _keyed(MIDDLE)
    giv, giv_k = _keyed(GIVEN)
    fen, fen_k = _keyed(FIRST_EN)
    len_, len_k = _keyed(LAST_EN)
    vn_companies = [
        f"{p} {c} {t}".strip() for p in COMPANY_PREFIX_VN for c in COMPANY_CORE_VN for t in COMPANY_TAIL_VN
    ]
    vn_domains = [
        f"{_slug(c)}{_slug(t)}.vn"
        for _p in COMPANY_PREFIX_VN
        for c in COMPANY_CORE_VN
        for t in COMPANY_TAIL_VN
    ]
    en_companies = [f"{c} {s}" for c in COMPANY_CORE_EN for s in COMPANY_SUFFIX_EN]
    en_domains = [f"{_slug(c)}.com" for c in COMPANY_CORE_EN for _s in COMPANY_SUFFIX_EN]
    vco, vco_k = _keyed(vn_companies)
    eco, eco_k = _keyed(en_companies)
    needs, needs_k = _keyed(NEEDS)
    jobs, jobs_k = _keyed(JOB_TITLES)
    inds, inds_k = _keyed(INDUSTRIES)
    svn, svn_k = _keyed(STREETS_VN)
    sen, sen_k = _keyed(STREETS_EN)
    source_slots = _weighted(list(zip(refs.sources, SOURCE_WEIGHTS, strict=True)))
    stage_slots = _weighted([(i, w) for i, (*_x, w) in enumerate(STAGES)])
    user_slots = [*refs.users, *refs.users, None, None, None]  # ≈ 16% unassigned
    p = d.pick
    vn = "r.pl < 700"

    # Layer 1: one row number and the slots it picks.
    slots = {
        "pl": _r(1, 1000),
        "fa": _r(2, len(fam)),
        "mi": _r(3, len(mid)),
        "gi": _r(4, len(giv)),
        "fe": _r(5, len(fen)),
        "le": _r(6, len(len_)),
        "vc": _r(7, len(vco)),
        "ec": _r(8, len(eco)),
        "co": _r(9, 100),
        "ne": _r(10, len(needs)),
        "tt": _r(11, 2),
        "jo": _r(12, len(jobs)),
        "ind": _r(13, len(inds)),
        "sv": _r(14, len(svn)),
        "se": _r(15, len(sen)),
        "sn": _r(16, 300),
        "md": _r(17, len(MAIL_DOMAINS)),
        "em": _r(18, 10),
        "en": _r(19, 1000),
        "ph": _r(20, 100),
        "pp": _r(21, len(VN_MOBILE)),
        "pd": _r(22, 100_000_000),
        "sz": _r(24, 100),
        "szv": _r(25, 10_000),
        "age": _r(26, age_days * 86_400),
        "st": _r(27, len(stage_slots)),
        "lo": _r(28, 100),
        "so": _r(29, len(source_slots)),
        "us": _r(30, len(user_slots)),
        "tm": _r(31, len(refs.teams)),
        "pr": _r(32, 10),
        "ra": _r(33, 4),
        "rev": _r(34, 500),
    }
    layer1 = ", ".join(f"{expr} AS {name}" for name, expr in slots.items())
    series = d.series(n)
    series_params = d.take_params()

    # Layer 2: the picked parts (value and key from the same slot).
    def stage_idx() -> str:
        return p(stage_slots, "r.st")

    country_phone = " ".join(
        f"WHEN '{c}' THEN '{prefix} ' || {d.pad(f'{base} + r.pd %% {span}', width)}"
        for c, (prefix, base, span, width) in PHONES.items()
    )
    country_e164 = " ".join(
        f"WHEN '{c}' THEN '{prefix.replace(' ', '')}' || {d.pad(f'{base} + r.pd %% {span}', width)}"
        for c, (prefix, base, span, width) in PHONES.items()
    )

    def mobile() -> str:  # a parameter per use, so that parameters stay in text order
        return p(VN_MOBILE, "r.pp")

    parts = {
        "g": "r.g",
        "country": p(countries, "r.pl"),
        "state": p(states, "r.pl"),
        "state_k": p(state_keys, "r.pl"),
        "city": p(cities, "r.pl"),
        "city_k": p(city_keys, "r.pl"),
        "contact": f"CASE WHEN {vn} THEN {p(fam, 'r.fa')} || ' ' || {p(mid, 'r.mi')} || ' ' || "
        f"{p(giv, 'r.gi')} ELSE {p(fen, 'r.fe')} || ' ' || {p(len_, 'r.le')} END",
        "contact_k": f"CASE WHEN {vn} THEN {p(fam_k, 'r.fa')} || ' ' || {p(mid_k, 'r.mi')} || ' ' || "
        f"{p(giv_k, 'r.gi')} ELSE {p(fen_k, 'r.fe')} || ' ' || {p(len_k, 'r.le')} END",
        "local": f"CASE WHEN {vn} THEN {p(giv_k, 'r.gi')} || '.' || {p(fam_k, 'r.fa')} "
        f"ELSE {p(fen_k, 'r.fe')} || '.' || {p(len_k, 'r.le')} END"
        f" || CASE WHEN r.en < 600 THEN {d.text('r.en')} ELSE '' END",
        "company": f"CASE WHEN r.co >= 75 THEN '' WHEN {vn} THEN {p(vco, 'r.vc')} ELSE {p(eco, 'r.ec')} END",
        "company_k": f"CASE WHEN r.co >= 75 THEN '' WHEN {vn} THEN {p(vco_k, 'r.vc')} "
        f"ELSE {p(eco_k, 'r.ec')} END",
        "company_domain": f"CASE WHEN r.co >= 75 THEN 'gmail.com' WHEN {vn} THEN {p(vn_domains, 'r.vc')} "
        f"ELSE {p(en_domains, 'r.ec')} END",
        "need": p(needs, "r.ne"),
        "need_k": p(needs_k, "r.ne"),
        "job": p(jobs, "r.jo"),
        "job_k": p(jobs_k, "r.jo"),
        "industry": p(inds, "r.ind"),
        "industry_k": p(inds_k, "r.ind"),
        "street": f"{d.text('r.sn + 1')} || ' ' || CASE WHEN {vn} THEN {p(svn, 'r.sv')} "
        f"ELSE {p(sen, 'r.se')} END",
        "street_k": f"{d.text('r.sn + 1')} || ' ' || CASE WHEN {vn} THEN {p(svn_k, 'r.sv')} "
        f"ELSE {p(sen_k, 'r.se')} END",
        "mail_domain": p(MAIL_DOMAINS, "r.md"),
        "has_email": "r.em < 9",
        "phone": f"CASE WHEN r.ph >= 85 THEN '' WHEN {vn} THEN {mobile()} || {d.pad('(r.pd %% 10)', 1)} "
        f"|| ' ' || {d.pad('(r.pd / 10) %% 1000', 3)} || ' ' || {d.pad('(r.pd / 10000) %% 1000', 3)} "
        f"ELSE CASE {p(countries, 'r.pl')} {country_phone} END END",
        "phone_e164": f"CASE WHEN r.ph >= 85 THEN '' WHEN {vn} THEN '+84' || substr({mobile()}, 2, 2) || "
        f"{d.pad('(r.pd %% 10)', 1)} || {d.pad('(r.pd / 10) %% 1000', 3)} || "
        f"{d.pad('(r.pd / 10000) %% 1000', 3)} ELSE CASE {p(countries, 'r.pl')} {country_e164} END END",
        "title_from_company": "r.tt = 0",
        "company_size": "CASE WHEN r.sz < 30 THEN NULL WHEN r.sz < 58 THEN 1 + r.szv %% 9 "
        "WHEN r.sz < 79 THEN 10 + r.szv %% 40 WHEN r.sz < 93 THEN 50 + r.szv %% 200 "
        "ELSE 250 + r.szv %% 4750 END",
        "created_at": d.minus_seconds(d.timestamp(now), "r.age"),
        "stage_i": stage_idx(),
        "lost": "r.lo < 12",
        "source_id": p(source_slots, "r.so"),
        "user_id": p(user_slots, "r.us"),
        "team_id": f"CASE WHEN {vn} THEN {p(refs.teams[:3], 'r.tm %% 3')} ELSE {refs.teams[3]} END",
        "priority": "CASE WHEN r.pr < 6 THEN 0 WHEN r.pr < 8 THEN 1 WHEN r.pr < 9 THEN 2 ELSE 3 END",
        "rating": p(["", "cold", "warm", "hot"], "r.ra"),
        "revenue": "(r.rev + 1) * 1000000",
        "vn": vn,
        "stage_id": p(refs.stages, stage_idx()),
        "probability": p(refs.stage_probability, stage_idx()),
    }
    layer2 = ", ".join(f"{expr} AS {name}" for name, expr in parts.items())
    layer2_params = d.take_params()
    # Layer 3: the row.
    email = (
        "CASE WHEN b.has_email THEN b.local || '@' || "
        "CASE WHEN b.mail_domain = '' THEN b.company_domain ELSE b.mail_domain END ELSE '' END"
    )
    title_lead = "CASE WHEN b.title_from_company AND b.company <> '' THEN b.company ELSE b.contact END"
    title_lead_k = "CASE WHEN b.title_from_company AND b.company <> '' THEN b.company_k ELSE b.contact_k END"
    title = f"{title_lead} || ' - ' || b.need"
    title_k = f"{title_lead_k} || ' - ' || b.need_k"
    phone_digits = "replace(replace(b.phone, ' ', ''), '+', '')"
    search_text = (
        f"{title_k} || CASE WHEN b.company <> '' THEN ' | ' || b.company_k ELSE '' END"
        " || ' | ' || b.contact_k"
        f" || CASE WHEN b.has_email THEN ' | ' || lower({email}) ELSE '' END"
        f" || CASE WHEN b.phone <> '' THEN ' | ' || b.phone || ' | ' || {phone_digits}"
        " || ' | ' || b.phone_e164 ELSE '' END"
    )
    won = f"b.stage_i = {len(STAGES) - 1}"
    columns: dict[str, str] = {
        "type": f"CASE WHEN b.stage_i >= 2 THEN '{'opportunity'}' ELSE 'lead' END",
        "name": title,
        "contact_name": "b.contact",
        "company_name": "b.company",
        "email": email,
        "phone": "b.phone",
        "mobile": "''",
        "website": "CASE WHEN b.company <> '' THEN 'https://www.' || b.company_domain ELSE '' END",
        "job_title": "b.job",
        "street": "b.street",
        "city": "b.city",
        "state": "b.state",
        "zip": "''",
        "country_id": "b.country",
        "language": "CASE WHEN b.vn THEN 'vi' ELSE 'en' END",
        "company_size": "b.company_size",
        "industry": "b.industry",
        "team_id": "b.team_id",
        "user_id": "b.user_id",
        "stage_id": "b.stage_id",
        "probability": "b.probability",
        "expected_revenue": "b.revenue",
        "rating": "b.rating",
        "priority": "b.priority",
        "source_id": "b.source_id",
        "won_status": f"CASE WHEN {won} THEN 'won' WHEN b.lost THEN 'lost' ELSE 'open' END",
        "active": f"CASE WHEN b.lost AND NOT ({won}) THEN FALSE ELSE TRUE END",
        "created_at": "b.created_at",
        "updated_at": "b.created_at",
        "assigned_at": "CASE WHEN b.user_id IS NULL THEN NULL ELSE b.created_at END",
        "email_normalized": f"lower({email})",
        "phone_e164": "b.phone_e164",
        "mobile_e164": "''",
        "name_key": "b.contact_k",
        "company_key": "b.company_k",
        "search_text": search_text,
        "title_key": title_k,
        "contact_key": "b.contact_k",
        "job_title_key": "b.job_k",
        "street_key": "b.street_k",
        "city_key": "b.city_k",
        "state_key": "b.state_k",
        "industry_key": "b.industry_k",
        "website_key": "CASE WHEN b.company <> '' THEN 'https://www.' || b.company_domain ELSE '' END",
    }
    # Every other column: NULL when nullable, else the field's default (new fields need no change here).
    select: list[str] = []
    names: list[str] = []
    assert not d.params  # the expressions above take no parameter: the defaults below come in text order
    for field in Lead._meta.concrete_fields:
        if field.primary_key:
            continue
        names.append(connection.ops.quote_name(field.column))
        if field.column in columns:
            select.append(columns[field.column])
        elif field.null:
            select.append("NULL")
        elif field.blank and field.empty_strings_allowed and not field.has_default():
            select.append("''")
        elif field.has_default():
            select.append(d.param(field.get_db_prep_save(field.get_default(), connection)))
        else:
            raise RuntimeError(f"bench/rules.py: no value for the new column {field.column}")
    layer3_params = d.take_params()
    sql = (
        f"INSERT INTO {connection.ops.quote_name(Lead._meta.db_table)} ({', '.join(names)}) "
        f"SELECT {', '.join(select)} FROM (SELECT {layer2} FROM (SELECT g, {layer1} FROM ({series}) AS s"
        f"{d.fence}) AS r{d.fence}) AS b"
    )
    # Parameters in text order: the select list, layer 2, then the series inside layer 1.
    return sql, [*layer3_params, *layer2_params, *series_params]


def _tags_sql(d: _Dialect, refs: _Refs) -> tuple[str, list[Any]]:
    from django.db import connection

    from pheu.leads.models import Lead

    through = Lead.tags.through._meta
    tag_ids = list(refs.tags.values())
    k = len(tag_ids)
    first = f"{_r(40, k, 'l.id')}"
    second = f"(({first} + 1 + {_r(41, k - 1, 'l.id')}) %% {k})"
    lead_table = connection.ops.quote_name(Lead._meta.db_table)
    lead_col = through.get_field("lead").column
    tag_col = through.get_field("tag").column
    sql = (
        f"INSERT INTO {connection.ops.quote_name(through.db_table)} ({lead_col}, {tag_col}) "
        f"SELECT l.id, {d.pick(tag_ids, first)} FROM {lead_table} l WHERE {_r(42, 10, 'l.id')} < 3 "
        f"UNION ALL SELECT l.id, {d.pick(tag_ids, second)} FROM {lead_table} l WHERE {_r(42, 10, 'l.id')} < 1"
    )
    return sql, d.take_params()


def _pageviews_sql(d: _Dialect) -> tuple[str, list[Any]]:
    from django.db import connection

    from pheu.leads.models import Lead
    from pheu.scoring.models import PageView

    urls, url_keys = _keyed(_weighted(list(zip(URLS, URL_WEIGHTS, strict=True))))
    slot = _r(50, len(urls), "(l.id * 8 + k.k)")
    lead_table = connection.ops.quote_name(Lead._meta.db_table)
    ks = " UNION ALL ".join(f"SELECT {i} AS k" for i in range(1, 6))
    sql = (
        f"INSERT INTO {connection.ops.quote_name(PageView._meta.db_table)} "
        "(lead_id, url, url_key, visitor_id, email_normalized, created_at) "
        f"SELECT l.id, {d.pick(urls, slot)}, {d.pick(url_keys, slot)}, 'v' || {d.text('l.id')}, '', "
        f"{d.plus_seconds('l.created_at', '3600 * k.k')} FROM {lead_table} l JOIN ({ks}) AS k "
        f"ON k.k <= 1 + {_r(51, 5, 'l.id')} WHERE {_r(52, 5, 'l.id')} = 0"
    )
    return sql, d.take_params()


def _pg_drop_indexes(cursor: Any, tables: list[str]) -> list[str]:
    """Drop the tables' indexes that back no constraint; return their definitions (rebuilt after the fill,
    sorted once instead of updated row by row)."""
    cursor.execute(
        "SELECT i.indexname, i.indexdef FROM pg_indexes i WHERE i.schemaname = current_schema() "
        "AND i.tablename = ANY(%s) AND NOT EXISTS (SELECT 1 FROM pg_constraint c "
        "WHERE c.conindid = (quote_ident(i.schemaname) || '.' || quote_ident(i.indexname))::regclass)",
        [tables],
    )
    rows = cursor.fetchall()
    for name, _definition in rows:
        cursor.execute(f'DROP INDEX "{name}"')
    return [definition for _name, definition in rows]


def fill(n: int, *, age_days: int = 730) -> dict[str, float]:
    """Fill the (empty, migrated) database with ``n`` leads, their tags and page views; seconds per step.

    The leads are created (and the assigned ones assigned) over the last ``age_days`` days."""
    from django.db import connection, transaction
    from django.utils import timezone

    from pheu.assignment import loads as member_loads
    from pheu.leads import totals as pipeline_totals
    from pheu.leads.models import Lead, LeadScore
    from pheu.scoring.models import PageView

    d: _Dialect = _Postgres() if connection.vendor == "postgresql" else _Sqlite()
    timings: dict[str, float] = {}
    now = timezone.now().replace(microsecond=0)
    t0 = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        refs = _reference_rows()
        rebuild: list[str] = []
        if d.vendor == "postgresql":
            cursor.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
            if cursor.fetchone()[0]:
                # Foreign keys hold by construction (ids of the rows made above); skip their row-by-row
                # deferred triggers (11 per lead), as a restore would.
                cursor.execute("SET LOCAL session_replication_role = replica")
            cursor.execute("SET LOCAL maintenance_work_mem = '256MB'")
            rebuild = _pg_drop_indexes(
                cursor, [Lead._meta.db_table, Lead.tags.through._meta.db_table, PageView._meta.db_table]
            )
        sql, params = _lead_sql(d, n, refs, now, age_days)
        tags_sql = _tags_sql(d, refs)
        views_sql = _pageviews_sql(d)
        d.prepare(cursor)
        cursor.execute(sql, params)
        # Scores uniform in 0–100, in their own table (the insert trigger did not fire under the replica
        # role; where it did, its rows of 0 are replaced).
        cursor.execute(f"DELETE FROM {LeadScore._meta.db_table}")
        cursor.execute(
            f"INSERT INTO {LeadScore._meta.db_table} (lead_id, score) "
            f"SELECT id, {_r(23, 101, 'id')} FROM {Lead._meta.db_table}",
            [],
        )
        timings["fill_leads_s"] = time.perf_counter() - t0
        t1 = time.perf_counter()
        cursor.execute(*tags_sql)
        cursor.execute(*views_sql)
        timings["fill_tags_views_s"] = time.perf_counter() - t1
        t1 = time.perf_counter()
        for definition in rebuild:
            cursor.execute(definition)
        timings["fill_indexes_s"] = time.perf_counter() - t1
    # The triggers keeping the pipeline's running totals did not fire under the replica role: count afresh.
    t1 = time.perf_counter()
    pipeline_totals.rebuild()
    member_loads.rebuild()  # the members' day counts, likewise
    timings["fill_pipeline_totals_s"] = time.perf_counter() - t1
    t1 = time.perf_counter()
    with connection.cursor() as cursor:
        # PostgreSQL: VACUUM too, so that the visibility map is set as in steady state (index-only scans).
        cursor.execute("VACUUM (ANALYZE)" if d.vendor == "postgresql" else "ANALYZE")
    timings["analyze_s"] = time.perf_counter() - t1
    timings["fill_total_s"] = time.perf_counter() - t0
    return timings


def check_sample(size: int = 300) -> int:
    """Re-normalise a sample of the generated leads in Python; return how many differ (must be 0)."""
    from pheu.leads.models import KEY_COLUMNS, Lead

    keys = list(KEY_COLUMNS)
    total = Lead.objects.count()
    step = max(1, total // size)
    bad = 0
    ids = (
        list(Lead.objects.order_by("pk").values_list("pk", flat=True)[::step][:size])
        if total <= 200_000
        else list(range(1, total + 1, step))[:size]
    )
    for lead in Lead.objects.filter(pk__in=ids):
        stored = {k: getattr(lead, k) for k in keys}
        lead.normalize()
        diff = {k: (stored[k], getattr(lead, k)) for k in keys if stored[k] != getattr(lead, k)}
        if diff:
            bad += 1
            if bad <= 3:
                print(f"  key mismatch on lead {lead.pk}: {diff}")
    return bad


# --- the rules ------------------------------------------------------------------------------------------
@dataclass
class Rule:
    text: str
    index: tuple[str, ...] = ()  # PostgreSQL DDL of the index that would serve it (tried only when slow)
    index_note: str = ""
    probes: tuple[str, ...] = ()  # more selective rules of the same kind, timed with and without the index
    # The same rows selected by EXISTS directly on the to-many table (no join back to leads_lead), to measure
    # the shape `to_q()` gives to-many conditions: a function of the parsed domain's ids -> Q.
    direct: Callable[[], Any] | None = None


def _direct_tags(name: str) -> Callable[[], Any]:
    def build() -> Any:
        from django.db.models import Exists, OuterRef, Q

        from pheu.contacts.models import Tag
        from pheu.leads.models import Lead

        tag_id = Tag.objects.get(name=name).pk  # resolved once, as parse_domain() does
        through = Lead.tags.through.objects.filter(lead_id=OuterRef("pk"), tag_id=tag_id)
        return Q(Exists(through))

    return build


def _direct_pageviews(like: str) -> Callable[[], Any]:
    def build() -> Any:
        from django.db.models import Exists, OuterRef, Q

        from pheu.scoring.models import PageView

        return Q(Exists(PageView.objects.filter(lead_id=OuterRef("pk"), url_key__rules_like=like)))

    return build


def rules() -> list[Rule]:
    from django.utils import timezone

    month_ago = (timezone.localdate() - dt.timedelta(days=30)).isoformat()

    def trgm(name: str, table: str, column: str) -> tuple[str, ...]:
        return (
            "CREATE EXTENSION IF NOT EXISTS pg_trgm",
            f"CREATE INDEX {name} ON {table} USING gin ({column} gin_trgm_ops)",
        )

    return [
        Rule("[['country_id', 'in', ['United States', 'Canada']]]"),
        Rule(
            "[['country_id', '=', 'Vietnam'], ['state', 'in', ['Hà Nội', 'Hải Phòng']]]",
            ("CREATE INDEX bench_lead_country_state ON leads_lead (country_id, state)",),
            "btree (country_id, state)",
            ("[['country_id', '=', 'Vietnam'], ['state', '=', 'Nghệ An']]",),
        ),
        Rule("['|', ['source', '=', 'Website'], ['score', '>=', 50]]"),
        Rule(
            "[['pageviews.url', 'ilike', '/pricing']]",
            trgm("bench_pageview_url_trgm", "scoring_pageview", "url_key"),
            "pg_trgm GIN on scoring_pageview.url_key",
            ("[['pageviews.url', 'ilike', '/blog/zalo']]",),
            _direct_pageviews("%/pricing%"),
        ),
        Rule(
            "[['email_from', '=ilike', '%@gmail.com']]",
            trgm("bench_lead_email_trgm", "leads_lead", "email_normalized"),
            "pg_trgm GIN on leads_lead.email_normalized",
            ("[['email_from', '=ilike', '%@saoviettoancau.vn']]",),
        ),
        Rule(
            "[['name', 'ilike', 'nguyen']]",
            trgm("bench_lead_title_trgm", "leads_lead", "title_key"),
            "pg_trgm GIN on leads_lead.title_key",
            ("[['name', 'ilike', 'Sao Việt Toàn Cầu']]", "[['name', 'ilike', 'Đặng Kim Yến']]"),
        ),
        Rule("[['tag_ids', 'in', ['VIP']]]", direct=_direct_tags("VIP")),
        Rule(
            "[['company_size', '>=', 250]]",
            ("CREATE INDEX bench_lead_company_size ON leads_lead (company_size)",),
            "btree (company_size)",
        ),
        Rule("[['country_id', 'not in', ['Vietnam']], ['score', '>', 30]]"),
        Rule(f"[['created_at', '>=', '{month_ago}'], ['stage_id', '=', 'New']]"),
    ]


def _median_ms(fn: Callable[[], Any], runs: int = 3) -> tuple[float, Any]:
    result = fn()  # warm-up
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        result = fn()
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times), result


def _count_sql(qs: Any) -> tuple[str, list[Any]]:
    """The exact SQL and parameters ``qs.count()`` sends."""
    from django.db import connection

    captured: list[tuple[str, list[Any]]] = []

    def wrapper(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        captured.append((sql, list(params or ())))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(wrapper):
        qs.count()
    return captured[-1]


def _explain(sql: str, params: list[Any], analyze: bool = False) -> list[str]:
    from django.db import connection

    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            options = "(ANALYZE, BUFFERS) " if analyze else ""
            cursor.execute(f"EXPLAIN {options}{sql}", params)
            return [row[0] for row in cursor.fetchall()]
        cursor.execute(f"EXPLAIN QUERY PLAN {sql}", params)
        rows = cursor.fetchall()
    depth: dict[int, int] = {0: -1}
    lines = []
    for node_id, parent, _unused, detail in rows:
        depth[node_id] = depth.get(parent, -1) + 1
        lines.append("  " * depth[node_id] + detail)
    return lines


def _node(line: str) -> str:
    return line.strip().removeprefix("->").strip().split("  (")[0]


def _top_node(plan: list[str]) -> str:
    """The plan's top node, the first node below the aggregation, and (for joins) the scans under it."""
    if not plan:
        return ""
    if "(cost=" not in plan[0]:  # SQLite
        return " > ".join(line.strip() for line in plan[:2])
    nodes = [_node(line) for line in plan if "(cost=" in line]
    skip = ("Aggregate", "Finalize", "Gather", "Partial", "Workers")
    below = [node for node in nodes[1:] if not node.startswith(skip)]
    summary = nodes[0] + (f" > {below[0]}" if below else "")
    scans = [node for node in below[1:] if "Scan" in node and "Bitmap Heap" not in node]
    return summary + (f" [{'; '.join(scans)}]" if scans else "")


@benchmark("rules_count", default_n=N_DEFAULT)
def rules_count(n: int) -> dict[str, float]:
    """Typical rules as users type them, each parsed with the lead schema and counted over ``n`` leads."""
    from django.db import connection

    from pheu.leads.models import Lead
    from pheu.leads.rules_schema import lead_schema
    from pheu.rules import parse_domain

    figures = fill(n)
    print("fill: " + "  ".join(f"{k}={v:.1f}" for k, v in figures.items()))
    mismatches = check_sample()
    print(f"keys re-normalised on a sample: {mismatches} mismatch(es)")
    schema = lead_schema()
    results = []
    print(f"{'#':>2} {'matches':>9} {'parse ms':>9} {'count ms':>9}  rule / plan")
    for i, rule in enumerate(rules(), 1):
        parse_ms, domain = _median_ms(functools.partial(parse_domain, rule.text, schema))
        qs = Lead.objects.filter(domain.to_q())
        count_ms, matches = _median_ms(qs.count)
        sql, params = _count_sql(qs)
        plan = _explain(sql, params)
        results.append((rule, matches, parse_ms, count_ms, sql, params))
        print(f"{i:>2} {matches:>9,} {parse_ms:>9.2f} {count_ms:>9.1f}  {rule.text}")
        print(f"{'':>33}plan: {_top_node(plan)}")
    slowest = max(results, key=lambda r: r[3])
    print(f"\nslowest: {slowest[0].text}  ({slowest[3]:.1f} ms)\nSQL: {slowest[4]}\nparams: {slowest[5]}")
    print("\n".join(_explain(slowest[4], slowest[5], analyze=True)))

    def timed_count(q: Any) -> tuple[float, int, list[str]]:
        qs = Lead.objects.filter(q)
        ms, matches = _median_ms(qs.count)
        return ms, matches, _explain(*_count_sql(qs))

    direct = [r for r in results if r[0].direct is not None]
    if direct:
        print(
            "\nto-many conditions: to_q()'s EXISTS (joins back to leads_lead) vs EXISTS on the to-many table:"
        )
    for rule, matches, _parse_ms, _ms, _sql, _params in direct:
        assert rule.direct is not None
        base_ms, _m, _plan = timed_count(parse_domain(rule.text, schema).to_q())
        alt_ms, alt_matches, alt_plan = timed_count(rule.direct())
        assert alt_matches == matches, (rule.text, alt_matches, matches)
        print(f"  {base_ms:.1f} -> {alt_ms:.1f} ms  {rule.text}\n      plan: {_top_node(alt_plan)}")

    if connection.vendor == "postgresql":
        print(f"\ncandidate indexes (bench database only, dropped after) for rules over {SLOW_MS:.0f} ms;")
        print("before/after re-timed back to back; probes: more selective rules of the same kind")
        for rule, _matches, _parse_ms, ms, _sql, _params in results:
            if ms < SLOW_MS or not rule.index:
                continue
            texts = [rule.text, *rule.probes]
            before = [timed_count(parse_domain(text, schema).to_q()) for text in texts]
            name = rule.index[-1].split()[2]
            table = rule.index[-1].split(" ON ")[1].split()[0]
            with connection.cursor() as cursor:
                t0 = time.perf_counter()
                for ddl in rule.index:
                    cursor.execute(ddl)
                build_s = time.perf_counter() - t0
                cursor.execute(f"ANALYZE {table}")
                cursor.execute("SELECT pg_relation_size(%s)", [name])
                size_mb = cursor.fetchone()[0] / 2**20
            print(f"  {rule.index_note} ({name}: build {build_s:.1f} s, {size_mb:.0f} MB)")
            for text, (b_ms, b_matches, _b_plan) in zip(texts, before, strict=True):
                a_ms, _a, a_plan = timed_count(parse_domain(text, schema).to_q())
                used = "used" if any(name in line for line in a_plan) else "NOT used"
                print(f"    {b_ms:8.1f} -> {a_ms:8.1f} ms  index {used:8s} {b_matches:>9,} rows  {text}")
            with connection.cursor() as cursor:
                cursor.execute(f"DROP INDEX {name}")
    figures["leads"] = Lead.objects.count()
    figures["count_ms_total"] = sum(r[3] for r in results)
    figures["count_ms_slowest"] = slowest[3]
    return figures
