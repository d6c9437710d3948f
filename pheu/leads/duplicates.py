"""Duplicate detection (SPEC section 6): reads only.

Two kinds of evidence, each a :class:`MatchReason` with a score from 0 to 100:

- exact keys (score 100), read through the indexed normalised columns of ``Lead``: the same
  ``email_normalized``; the same E.164 number as phone or mobile, either way round; the same customer or a
  customer of the same company; the same company e-mail domain (never a public provider's,
  :mod:`pheu.lib.public_domains`);
- similar names (score = similarity): the person's ``name_key`` or the company name without its legal form
  (unaccented, fuzzy with rapidfuzz), counted only when corroborated by another signal — same city, postcode
  or street, same company, or a similar e-mail local part. Pairs are only compared inside *blocks* (records
  that share an indexed key), never all pairs.

:func:`find_duplicates` answers for one record in two index-scan queries; :func:`scan_duplicates` lists the
groups of the whole base (set-based ``GROUP BY`` for the exact keys, blocking for the fuzzy ones).
Only active records are candidates: merged-away and lost records are inactive.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from django.db import connection, transaction
from django.db.models import (
    Aggregate,
    BooleanField,
    Case,
    Count,
    Expression,
    Q,
    QuerySet,
    TextField,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.utils.translation import gettext_lazy as _
from rapidfuzz import fuzz, process

from pheu.contacts.models import Partner
from pheu.leads.models import Lead
from pheu.lib.emails import email_domain
from pheu.lib.public_domains import PUBLIC_EMAIL_DOMAINS, is_public_domain
from pheu.lib.text import text_key

NAME_THRESHOLD = 85  # a person's or company name at least this similar (0–100) is "similar"
TOKEN_THRESHOLD = 80  # every word of the shorter name must be at least this close to a word of the other
LOCAL_THRESHOLD = 85  # e-mail local parts at least this similar corroborate
CANDIDATE_LIMIT = 500  # the most records one fuzzy lookup compares (newest first)
MAX_BLOCK = 200  # larger blocks are compared by sorted neighbourhood instead of all pairs
WINDOW = 8  # …each record with the next WINDOW records of the block sorted by name
MAX_GROUP = 10  # the most records one similar-name group of the scan joins
SCAN_WORK_MEM = "64MB"  # PostgreSQL work_mem of the exact-key scan's transaction
PREFILTER = 70  # token-sort similarity below which two names (or companies) are not compared further

# Local parts that say nothing about a person: shared mailboxes.
GENERIC_LOCAL_PARTS: frozenset[str] = frozenset(
    {"admin", "contact", "hello", "hr", "info", "kinhdoanh", "lienhe", "mail", "office", "sales", "support"}
)
# Words of a legal form, dropped before company names are compared ("Công ty TNHH ABC" ~ "ABC Co., Ltd").
LEGAL_WORDS: frozenset[str] = frozenset(
    {
        "co",
        "company",
        "cong",
        "corp",
        "corporation",
        "cp",
        "cty",
        "gmbh",
        "inc",
        "jsc",
        "limited",
        "llc",
        "ltd",
        "mtv",
        "phan",
        "plc",
        "pte",
        "tnhh",
        "ty",
    }
)


class Reason(StrEnum):
    EMAIL = "email"
    PHONE = "phone"
    PARTNER = "partner"
    EMAIL_DOMAIN = "email_domain"
    SIMILAR_NAME = "similar_name"
    SIMILAR_COMPANY = "similar_company"


class Signal(StrEnum):
    """What corroborates a similar name."""

    CITY = "city"
    ZIP = "zip"
    STREET = "street"
    COMPANY = "company"
    EMAIL_LOCAL = "email_local"


REASON_LABELS = {
    Reason.EMAIL: _("same e-mail"),
    Reason.PHONE: _("same phone"),
    Reason.PARTNER: _("same customer"),
    Reason.EMAIL_DOMAIN: _("same company e-mail domain"),
    Reason.SIMILAR_NAME: _("similar name"),
    Reason.SIMILAR_COMPANY: _("similar company name"),
}
SIGNAL_LABELS = {
    Signal.CITY: _("same city"),
    Signal.ZIP: _("same postal code"),
    Signal.STREET: _("same street"),
    Signal.COMPANY: _("same company"),
    Signal.EMAIL_LOCAL: _("similar e-mail"),
}
# Strongest first: the order reasons are listed in.
_REASON_ORDER = {reason: i for i, reason in enumerate(Reason)}


@dataclass(frozen=True)
class MatchReason:
    """Why two records look like one: ``code`` (a :class:`Reason`), ``score`` (100 for an exact key, the
    similarity for a name), ``value`` (the shared key, e.g. the number or the domain; "" for names) and, for a
    similar name, the corroborating ``signals``."""

    code: str
    score: int
    value: str = ""
    signals: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        return str(REASON_LABELS[Reason(self.code)])

    @property
    def signal_labels(self) -> list[str]:
        return [str(SIGNAL_LABELS[Signal(s)]) for s in self.signals]

    def as_dict(self) -> dict[str, Any]:
        return {"code": self.code, "score": self.score, "value": self.value, "signals": list(self.signals)}


@dataclass(frozen=True)
class DuplicateMatch:
    """One record similar to the record asked about, with every reason, strongest first."""

    lead_id: int
    reasons: tuple[MatchReason, ...]
    score: int
    name: str = ""

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(r.code for r in self.reasons)

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.lead_id,
            "name": self.name,
            "score": self.score,
            "reasons": [r.as_dict() for r in self.reasons],
        }


@dataclass(frozen=True)
class DuplicateGroup:
    """Records of the base that look like one: their ids (ascending), the reasons and the best score."""

    ids: tuple[int, ...]
    reasons: tuple[MatchReason, ...]
    score: int

    def as_dict(self) -> dict[str, Any]:
        return {"ids": list(self.ids), "score": self.score, "reasons": [r.as_dict() for r in self.reasons]}


# --- keys -----------------------------------------------------------------------------------------------
def _index_expression(name: str) -> Expression:
    """The expression of one of Lead's functional indexes: lookups use exactly it, so the index applies."""
    index = next(index for index in Lead._meta.indexes if index.name == name)
    return index.expressions[0]


def email_domain_expression() -> Expression:
    return _index_expression("lead_email_domain_idx")


def email_local_expression() -> Expression:
    return _index_expression("lead_email_local_idx")


def company_core(company_key: str) -> str:
    """The company key without the words of its legal form ("cong ty tnhh abc" → "abc")."""
    return " ".join(
        word for word in company_key.replace(".", " ").replace(",", " ").split() if word not in LEGAL_WORDS
    )


def email_local(email_normalized: str) -> str:
    local, at, _domain = email_normalized.rpartition("@")
    return local if at else ""


def name_similarity(a: str, b: str) -> int:
    """How alike two name keys are (0–100), strict about the words that tell people apart.

    Vietnamese names share family and middle names ("nguyen van an" / "nguyen van binh" are two people), so
    a plain string ratio is not enough: every word of the shorter name must be close to a distinct word of the
    longer one (in any order: "an nguyen" ~ "nguyen van an"), at most one word may be missing (a middle name;
    it costs 10 points), and the score is the mean closeness of the words.
    """
    ta, tb = a.split(), b.split()
    if not ta or not tb:
        return 0
    if a == b:
        return 100
    short, long = (ta, tb) if len(ta) <= len(tb) else (tb, ta)
    if len(long) - len(short) > 1:
        return 0
    free = list(range(len(long)))
    total = 0.0
    for word in short:
        best, best_j = 0.0, -1
        for j in free:
            ratio = 100.0 if word == long[j] else fuzz.ratio(word, long[j])
            if ratio > best:
                best, best_j = ratio, j
        if best < TOKEN_THRESHOLD:
            return 0
        free.remove(best_j)
        total += best
    score = total / len(short)
    if len(long) != len(short):
        score -= 10
    return max(0, round(score))


@dataclass(frozen=True)
class _Facts:
    """What fuzzy matching reads of a record."""

    id: int
    name_key: str
    company: str  # company_core(company_key)
    local: str
    city: str
    zip: str
    street: str
    name: str = field(default="", compare=False)

    @classmethod
    def of(cls, row: Sequence[Any]) -> _Facts:
        pk, name_key, company_key, email, city, zip_, street, name = row
        return cls(
            id=pk,
            name_key=name_key or "",
            company=company_core(company_key or ""),
            local=email_local(email or ""),
            city=city or "",
            zip=(zip_ or "").strip().lower(),
            street=street or "",
            name=name or "",
        )


_FACT_FIELDS = ("id", "name_key", "company_key", "email_normalized", "city_key", "zip", "street_key", "name")


def _signals(a: _Facts, b: _Facts) -> list[str]:
    signals = []
    if a.city and a.city == b.city:
        signals.append(Signal.CITY)
    if a.zip and a.zip == b.zip:
        signals.append(Signal.ZIP)
    if a.street and a.street == b.street:
        signals.append(Signal.STREET)
    if a.company and a.company == b.company:
        signals.append(Signal.COMPANY)
    if (
        a.local
        and b.local
        and a.local not in GENERIC_LOCAL_PARTS
        and (a.local == b.local or fuzz.ratio(a.local, b.local) >= LOCAL_THRESHOLD)
    ):
        signals.append(Signal.EMAIL_LOCAL)
    return signals


def fuzzy_reasons(a: _Facts, b: _Facts) -> list[MatchReason]:
    """The similar-name reasons between two records: a similar name and at least one other signal."""
    reasons = []
    signals = _signals(a, b)
    if not signals:
        return reasons
    score = name_similarity(a.name_key, b.name_key)
    if score >= NAME_THRESHOLD:
        reasons.append(MatchReason(Reason.SIMILAR_NAME, score, signals=tuple(signals)))
    if a.company and b.company:
        company_score = round(fuzz.token_sort_ratio(a.company, b.company))
        others = tuple(s for s in signals if s != Signal.COMPANY)
        if company_score >= NAME_THRESHOLD and others:
            reasons.append(MatchReason(Reason.SIMILAR_COMPANY, company_score, signals=others))
    return reasons


def _any(conditions: Sequence[Q]) -> Q:
    combined = conditions[0]
    for cond in conditions[1:]:
        combined |= cond
    return combined


# --- one record -----------------------------------------------------------------------------------------
def _partner_family(partner_id: int) -> QuerySet[Partner]:
    """The customer, its company, and the company's (or its own) contacts."""
    parent = Partner.objects.filter(pk=partner_id).values("parent_id")
    return Partner.objects.filter(
        Q(pk=partner_id) | Q(parent_id=partner_id) | Q(pk__in=parent) | Q(parent_id__in=parent)
    ).values("pk")


def find_duplicates(lead: Lead, *, queryset: QuerySet[Lead] | None = None) -> list[DuplicateMatch]:
    """The active records that look like ``lead``, best first, each with every reason.

    ``queryset`` narrows the candidates (pass ``Lead.objects.visible_to(user)`` on pages); ``lead`` may be
    unsaved (its keys are computed here). Two queries, each a combination of index scans and each of at most
    ``CANDIDATE_LIMIT`` records: the exact keys (those of the person first), then the blocks of the fuzzy
    comparison (same name key, company key, postcode or e-mail local part), compared in Python.
    """
    lead.normalize()
    base = (queryset if queryset is not None else Lead.objects.all()).filter(active=True)
    if lead.pk is not None:
        base = base.exclude(pk=lead.pk)
    found: dict[int, list[MatchReason]] = defaultdict(list)
    names: dict[int, str] = {}

    # 1. Exact keys.
    domain = email_domain(lead.email_normalized)
    if is_public_domain(domain):
        domain = ""
    phones = sorted({p for p in (lead.phone_e164, lead.mobile_e164) if p})
    exact: list[Q] = []
    if lead.email_normalized:
        exact.append(Q(email_normalized=lead.email_normalized))
    if phones:
        exact += [Q(phone_e164__in=phones), Q(mobile_e164__in=phones)]
    strong = list(exact)  # the person's own keys, listed before the company's (customer, domain)
    family = _partner_family(lead.partner_id) if lead.partner_id else None
    if family is not None:
        exact.append(Q(partner_id__in=family))
    if domain:
        exact.append(Q(email_domain=domain) & ~Q(email_normalized=""))
    if exact:
        rows = (
            base.alias(email_domain=email_domain_expression())
            .filter(_any(exact))
            # A large customer or company domain has thousands of records: at most CANDIDATE_LIMIT, the
            # records sharing the person's own e-mail or phone first.
            .order_by(Case(When(_any(strong), then=0), default=1) if strong else Value(0))
            .annotate(
                same_partner=Case(When(partner_id__in=family, then=True), default=False)
                if family is not None
                else Case(default=False, output_field=BooleanField())
            )
            .values_list("id", "name", "email_normalized", "phone_e164", "mobile_e164", "same_partner")[
                :CANDIDATE_LIMIT
            ]
        )
        for pk, name, email, phone, mobile, same_partner in rows:
            names[pk] = name
            if lead.email_normalized and email == lead.email_normalized:
                found[pk].append(MatchReason(Reason.EMAIL, 100, email))
            shared = sorted({phone, mobile} & set(phones) - {""})
            if shared:
                found[pk].append(MatchReason(Reason.PHONE, 100, ", ".join(shared)))
            if same_partner:
                found[pk].append(MatchReason(Reason.PARTNER, 100, str(lead.partner_id)))
            if domain and email_domain(email) == domain:
                found[pk].append(MatchReason(Reason.EMAIL_DOMAIN, 100, domain))

    # 2. Similar names, inside the blocks of the record's indexed keys.
    me = _Facts.of([lead.pk or 0, lead.name_key, lead.company_key, lead.email_normalized, lead.city_key,
                    lead.zip, lead.street_key, lead.name])  # fmt: skip
    block: list[Q] = []
    if lead.name_key:
        block.append(Q(name_key=lead.name_key))
    if lead.company_key:
        block.append(Q(company_key=lead.company_key))
    if lead.zip.strip():
        block.append(Q(zip=lead.zip.strip()))
    if me.local and me.local not in GENERIC_LOCAL_PARTS:
        block.append(Q(email_local=me.local) & ~Q(email_normalized=""))
    if block:
        rows = (
            base.alias(email_local=email_local_expression())
            .filter(_any(block))
            .order_by()  # no ORDER BY: it would turn the bitmap of index scans into a walk of the primary key
            .values_list(*_FACT_FIELDS)[:CANDIDATE_LIMIT]
        )
        for row in rows:
            other = _Facts.of(row)
            reasons = fuzzy_reasons(me, other)
            if reasons:
                names[other.id] = other.name
                found[other.id].extend(reasons)

    matches = [
        DuplicateMatch(
            lead_id=pk,
            reasons=tuple(sorted(reasons, key=lambda r: (_REASON_ORDER[Reason(r.code)], -r.score))),
            score=max(r.score for r in reasons),
            name=names.get(pk, ""),
        )
        for pk, reasons in found.items()
    ]
    matches.sort(key=lambda m: (-m.score, _REASON_ORDER[Reason(m.reasons[0].code)], -m.lead_id))
    return matches


# --- the whole base -------------------------------------------------------------------------------------
class _Ids(Aggregate):
    """The ids of a group: an array on PostgreSQL, a comma-separated text on SQLite."""

    function = "ARRAY_AGG"
    template = "%(function)s(%(distinct)s%(expressions)s)"
    allow_distinct = True
    output_field = TextField()

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        return super().as_sql(compiler, connection, function="GROUP_CONCAT", **extra)


def _id_list(value: Any) -> tuple[int, ...]:
    if isinstance(value, list):  # PostgreSQL: an array of integers already
        return tuple(sorted(value))
    return tuple(sorted(int(v) for v in str(value).split(",")))


def _grouped(queryset: QuerySet[Lead], key: str) -> Iterator[tuple[Any, tuple[int, ...]]]:
    rows = (
        queryset.values(key)
        .annotate(ids=_Ids("id"), n=Count("id"))  # one row per record: no DISTINCT (it forbids hashing)
        .filter(n__gt=1)
        .order_by()
        .values_list(key, "ids")
    )
    # Fetched at once (not in chunks of a hundred rows, nor through a server-side cursor, which PostgreSQL
    # plans for its first rows): a whole base's groups are wanted.
    sql, params = rows.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        fetched = cursor.fetchall()
    for value, ids in fetched:
        yield value, _id_list(ids)


def _phone_groups(queryset: QuerySet[Lead] | None) -> Iterator[tuple[str, tuple[int, ...]]]:
    """Groups by number, phone and mobile together ("either way round"): one ``UNION ALL`` grouped.

    ``queryset`` None: every active record (a plain filter); else the records it selects (``id IN (…)``).
    """
    table = connection.ops.quote_name(Lead._meta.db_table)
    if queryset is None:
        scope_sql, params = "active", []
    else:
        subquery, scope_params = queryset.filter(active=True).order_by().values("id").query.sql_with_params()
        scope_sql, params = f"id IN ({subquery})", list(scope_params)
    ids = "ARRAY_AGG(id)" if connection.vendor == "postgresql" else "GROUP_CONCAT(id)"
    # A mobile equal to the record's own phone is left out, so that each (number, record) comes once and the
    # aggregate needs no DISTINCT. The numbers are grouped in order (read from the phone and mobile indexes,
    # then sorted): hashing them would keep an id list for each of a million numbers that most records
    # have alone, which spills to disk.
    sql = (
        f"SELECT number, {ids} FROM ("
        f"SELECT phone_e164 AS number, id FROM {table} WHERE phone_e164 <> '' AND {scope_sql} "
        f"UNION ALL SELECT mobile_e164, id FROM {table} "
        f"WHERE mobile_e164 <> '' AND mobile_e164 <> phone_e164 AND {scope_sql} ORDER BY number"
        f") numbers GROUP BY number HAVING COUNT(*) > 1"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, *params])
        rows = cursor.fetchall()
    for number, group in rows:
        yield number, _id_list(group)


def exact_groups(queryset: QuerySet[Lead] | None = None) -> list[DuplicateGroup]:
    """Groups of active records sharing an exact key: set-based ``GROUP BY`` per key (four queries)."""
    with transaction.atomic():
        if connection.vendor == "postgresql":
            # Hash aggregates over a million keys want more than the default 4 MB (else they spill to disk).
            with connection.cursor() as cursor:
                cursor.execute(f"SET LOCAL work_mem = '{SCAN_WORK_MEM}'")
        return _exact_groups(queryset)


def _exact_groups(queryset: QuerySet[Lead] | None) -> list[DuplicateGroup]:
    qs = (queryset if queryset is not None else Lead.objects.all()).filter(active=True).order_by()
    by_ids: dict[tuple[int, ...], list[MatchReason]] = defaultdict(list)
    for email, ids in _grouped(qs.exclude(email_normalized=""), "email_normalized"):
        by_ids[ids].append(MatchReason(Reason.EMAIL, 100, email))
    for number, ids in _phone_groups(queryset):
        by_ids[ids].append(MatchReason(Reason.PHONE, 100, number))
    partners = qs.filter(partner__isnull=False).annotate(family=Coalesce("partner__parent_id", "partner_id"))
    for family, ids in _grouped(partners, "family"):
        by_ids[ids].append(MatchReason(Reason.PARTNER, 100, str(family)))
    domains = (
        qs.exclude(email_normalized="")
        .annotate(domain=email_domain_expression())
        .exclude(domain__in=sorted(PUBLIC_EMAIL_DOMAINS))
        .exclude(domain="")
    )
    for domain, ids in _grouped(domains, "domain"):
        by_ids[ids].append(MatchReason(Reason.EMAIL_DOMAIN, 100, domain))
    return [DuplicateGroup(ids, tuple(reasons), 100) for ids, reasons in by_ids.items()]


def _close(query: str, choices: list[str], offset: int) -> Iterator[int]:
    """Indexes (``offset`` +) of ``choices`` roughly similar to ``query``: a C-speed prefilter (rapidfuzz)
    before the exact similarity rules, loose enough never to drop a pair they would keep."""
    for _choice, _score, j in process.extract(
        query, choices, scorer=fuzz.token_sort_ratio, score_cutoff=PREFILTER, limit=None
    ):
        yield offset + j


def _clusters(
    values: Iterable[str], similarity: Callable[[str, str], int], block_key: Callable[[str], str]
) -> dict[str, tuple[str, int]]:
    """Each distinct value → (its cluster's representative, its similarity to it, 100 for itself).

    Only distinct values are compared (a base has far fewer distinct names than records), only inside a
    block, all pairs of a small block and the next ``WINDOW`` values of a large one in sorted order.
    """
    blocks: dict[str, list[str]] = defaultdict(list)
    for value in values:
        blocks[block_key(value)].append(value)
    parent: dict[str, str] = {}

    def root(x: str) -> str:
        while parent.get(x, x) != x:
            parent[x] = parent.get(parent[x], parent[x])
            x = parent[x]
        return x

    for block in blocks.values():
        if len(block) < 2:
            continue
        block.sort()
        for i, a in enumerate(block):
            stop = len(block) if len(block) <= MAX_BLOCK else i + 1 + WINDOW
            for j in _close(a, block[i + 1 : stop], i + 1):
                b = block[j]
                if similarity(a, b) >= NAME_THRESHOLD:
                    ra, rb = root(a), root(b)
                    if ra != rb:
                        parent[max(ra, rb)] = min(ra, rb)
    result: dict[str, tuple[str, int]] = {}
    for value in parent:
        rep = root(value)
        result[value] = (rep, 100 if value == rep else similarity(value, rep))
    for value in set(parent.values()):
        rep = root(value)
        result.setdefault(value, (rep, 100 if value == rep else similarity(value, rep)))
    return result


def _company_similarity(a: str, b: str) -> int:
    return round(fuzz.token_sort_ratio(a, b))


def _local_similarity(a: str, b: str) -> int:
    return round(fuzz.ratio(a, b))


def fuzzy_groups(queryset: QuerySet[Lead] | None = None) -> list[DuplicateGroup]:
    """Groups of active records with a similar name (or company) and a shared signal, over the base.

    Set-based in Python: the distinct names, companies and e-mail local parts are clustered first (similar
    values share a representative: blocking + rapidfuzz, never all pairs), then records are grouped by
    (name cluster, signal value) — same city, postcode, street, company, or similar local part — and by
    (company cluster, city / postcode / street). A name group larger than ``MAX_GROUP`` is namesakes, not
    duplicates, and is left out. The score of a group is the lowest similarity of its values to their
    representative (100: identical keys).
    """
    qs = (queryset if queryset is not None else Lead.objects.all()).filter(active=True).order_by()
    facts = [_Facts.of(row) for row in qs.values_list(*_FACT_FIELDS).iterator(chunk_size=20_000)]
    names = _clusters(
        {f.name_key for f in facts if f.name_key},
        name_similarity,
        lambda k: (k.split() or [""])[0] + "|" + (k.split() or [""])[-1][:1],
    )
    companies = _clusters({f.company for f in facts if f.company}, _company_similarity, lambda k: k[:3])
    locals_ = _clusters(
        {f.local for f in facts if f.local and f.local not in GENERIC_LOCAL_PARTS},
        _local_similarity,
        lambda k: k[:2],
    )
    grouped: dict[tuple[str, str, str, str], list[tuple[int, int]]] = defaultdict(list)
    for f in facts:
        places = [(Signal.CITY, f.city), (Signal.ZIP, f.zip), (Signal.STREET, f.street)]
        name = names.get(f.name_key, (f.name_key, 100)) if f.name_key else None
        if name is not None:
            rep, score = name
            for signal, value in [*places, (Signal.COMPANY, f.company)]:
                if value:
                    grouped[(Reason.SIMILAR_NAME, rep, signal, value)].append((f.id, score))
            if f.local and f.local not in GENERIC_LOCAL_PARTS:
                local_rep = locals_.get(f.local, (f.local, 100))[0]
                grouped[(Reason.SIMILAR_NAME, rep, Signal.EMAIL_LOCAL, local_rep)].append((f.id, score))
        if f.company:
            rep, score = companies.get(f.company, (f.company, 100))
            for signal, value in places:
                if value:
                    grouped[(Reason.SIMILAR_COMPANY, rep, signal, value)].append((f.id, score))
    by_ids: dict[tuple[int, ...], dict[str, MatchReason]] = defaultdict(dict)
    for (code, _rep, signal, _value), members in grouped.items():
        if len(members) < 2 or (code == Reason.SIMILAR_NAME and len(members) > MAX_GROUP):
            continue
        ids = tuple(sorted({pk for pk, _score in members}))
        if len(ids) < 2:
            continue
        score = min(s for _pk, s in members)
        reasons = by_ids[ids]
        current = reasons.get(code)
        signals = tuple(dict.fromkeys((*(current.signals if current else ()), signal)))
        reasons[code] = MatchReason(code, min(score, current.score) if current else score, signals=signals)
    return [
        DuplicateGroup(
            ids,
            tuple(sorted(reasons.values(), key=lambda r: _REASON_ORDER[Reason(r.code)])),
            max(r.score for r in reasons.values()),
        )
        for ids, reasons in by_ids.items()
    ]


def scan_duplicates(
    queryset: QuerySet[Lead] | None = None, *, fuzzy: bool = True, exact: bool = True
) -> list[DuplicateGroup]:
    """The duplicate groups of the base (or of ``queryset``): exact-key groups and similar-name groups,
    groups with the same records joined into one with all their reasons; strongest and largest first."""
    by_ids: dict[tuple[int, ...], list[MatchReason]] = defaultdict(list)
    for group in [*(exact_groups(queryset) if exact else []), *(fuzzy_groups(queryset) if fuzzy else [])]:
        by_ids[group.ids].extend(group.reasons)
    groups = [
        DuplicateGroup(
            ids,
            tuple(sorted(reasons, key=lambda r: (_REASON_ORDER[Reason(r.code)], -r.score))),
            max(r.score for r in reasons),
        )
        for ids, reasons in by_ids.items()
    ]
    groups.sort(key=lambda g: (_REASON_ORDER[Reason(g.reasons[0].code)], -g.score, -len(g.ids), g.ids))
    return groups


def suggest_partners(lead: Lead, *, limit: int = 5) -> list[Partner]:
    """Active customers that match ``lead`` by e-mail, phone or name (the company's or the person's): the
    customers to propose when converting it. One query, by the partners' indexed keys."""
    lead.normalize()
    cond: list[Q] = []
    if lead.email_normalized:
        cond.append(Q(email_normalized=lead.email_normalized))
    phones = sorted({p for p in (lead.phone_e164, lead.mobile_e164) if p})
    if phones:
        cond += [Q(phone_e164__in=phones), Q(mobile_e164__in=phones)]
    names = [key for key in (text_key(lead.company_name)[:200], text_key(lead.contact_name)[:200]) if key]
    if names:
        cond.append(Q(name_key__in=names))
    if not cond:
        return []
    return list(
        Partner.objects.filter(_any(cond), active=True)
        .select_related("parent")
        .order_by("-is_company", "name")[:limit]
    )


def lead_names(ids: Iterable[int]) -> dict[int, str]:
    return dict(Lead.objects.filter(pk__in=list(ids)).values_list("id", "name"))
