"""A small in-memory schema for database-free tests: records are dicts, lookups read lists."""

from __future__ import annotations

from collections.abc import Hashable, Iterable

from django.db.models import Q

from pheu.lib.text import text_key
from pheu.rules import Candidate, FieldSpec, FieldType, NameLookup, Schema

T = FieldType

COUNTRIES = [  # code, English, Vietnamese
    ("VN", "Vietnam", "Việt Nam"),
    ("US", "United States", "Hoa Kỳ"),
    ("CA", "Canada", "Ca-na-đa"),
    ("DE", "Germany", "Đức"),
]
TEAMS = [(1, "Miền Bắc"), (2, "Miền Nam"), (3, "Export")]
TAGS = [(10, "VIP"), (11, "Khách sỉ"), (12, "hot lead")]
PARTNERS = [(100, "Công ty Ánh Dương"), (101, "Acme")]

calls: dict[str, int] = {"countries": 0, "teams": 0, "tags": 0, "partners": 0}


def _countries() -> Iterable[Candidate]:
    calls["countries"] += 1
    for code, en, vi in COUNTRIES:
        yield Candidate(code, (text_key(en), text_key(vi), text_key(code)), en)


def _named(rows: list[tuple[int, str]], counter: str):
    def load() -> Iterable[Candidate]:
        calls[counter] += 1
        for pk, name in rows:
            yield Candidate(pk, (text_key(name),), name)

    return load


def _find_partners(ids: tuple[Hashable, ...], keys: tuple[str, ...]) -> Iterable[Candidate]:
    calls["partners"] += 1
    for pk, name in PARTNERS:
        if pk in ids or text_key(name) in keys:
            yield Candidate(pk, (text_key(name),), name)


COUNTRY = Schema("country", (FieldSpec("code", T.TEXT, "code"),))
COUNTRY_LOOKUP = NameLookup(load_all=_countries, id_type=str)
NAMED = Schema("named", ())
PAGEVIEW = Schema(
    "pageview",
    (
        FieldSpec("url", T.TEXT, "URL", key="url_key"),
        FieldSpec("created_at", T.DATETIME, "viewed at"),
    ),
)
PARTNER = Schema(
    "partner",
    (
        FieldSpec("name", T.TEXT, "name", key="name_key"),
        FieldSpec(
            "country", T.RELATION, "country", target=COUNTRY, lookup=COUNTRY_LOOKUP, aliases=("country_id",)
        ),
    ),
)


def _band_q(band: str | None) -> Q:
    return Q(size__isnull=True) if band is None else Q(size__gte={"small": 1, "big": 50}[band])


SCHEMA = Schema(
    "record",
    (
        FieldSpec("id", T.INT, "ID"),
        FieldSpec("name", T.TEXT, "name", key="name_key"),
        FieldSpec(
            "email",
            T.TEXT,
            "e-mail",
            key="email_key",
            fold=lambda s: s.strip().lower(),
            aliases=("email_from",),
        ),
        FieldSpec("phone", T.TEXT, "phone"),
        FieldSpec("score", T.INT, "score"),
        FieldSpec("amount", T.DECIMAL, "amount"),
        FieldSpec("active", T.BOOL, "active"),
        FieldSpec("due", T.DATE, "due date", aliases=("date_deadline",)),
        FieldSpec("created_at", T.DATETIME, "created", aliases=("create_date",)),
        FieldSpec("kind", T.CHOICE, "type", choices=(("lead", "Lead"), ("opportunity", "Opportunity"))),
        FieldSpec("priority", T.CHOICE, "priority", choices=((0, "Normal"), (1, "Good"), (2, "Very good"))),
        FieldSpec(
            "band", T.CHOICE, "size band", choices=(("small", "Small"), ("big", "Big")), value_q=_band_q
        ),
        FieldSpec(
            "country", T.RELATION, "country", target=COUNTRY, lookup=COUNTRY_LOOKUP, aliases=("country_id",)
        ),
        FieldSpec(
            "team",
            T.RELATION,
            "sales team",
            target=NAMED,
            lookup=NameLookup(load_all=_named(TEAMS, "teams")),
            aliases=("team_id",),
        ),
        FieldSpec(
            "partner",
            T.RELATION,
            "customer",
            target=PARTNER,
            lookup=NameLookup(find=_find_partners),
            aliases=("partner_id",),
        ),
        FieldSpec(
            "tags",
            T.MANY,
            "tags",
            target=NAMED,
            lookup=NameLookup(load_all=_named(TAGS, "tags")),
            aliases=("tag_ids",),
        ),
        FieldSpec("pageviews", T.MANY, "page views", target=PAGEVIEW, aliases=("score_pageview_ids",)),
    ),
)
