"""Duplicate detection (SPEC section 6): reads only.

Two kinds of evidence:

- exact keys (a :class:`MatchReason` of score 100), read through the indexed normalised columns of ``Lead``:
  the same ``email_normalized``; the same E.164 number as phone or mobile, either way round; the same
  customer or a customer of the same company; the same company e-mail domain (never a public provider's,
  :mod:`pheu.lib.public_domains`); on a lead's list, the same company name;
- the probabilistic matcher (:mod:`pheu.leads.matching`, Fellegi–Sunter): a match probability from the
  comparison of names, e-mails, phones, company, street, city and postcode, with the evidence of each.

:func:`find_duplicates` answers for one record in two index-scan queries; :func:`scan_duplicates` lists the
groups of the whole base: set-based ``GROUP BY`` for the exact keys (:func:`exact_groups`, unchanged by the
matcher), the matcher's blocking and connected pairs for the rest (:func:`similar_groups`). The two
thresholds ("show as similar", "propose merge") are the installation's settings (:class:`Thresholds`).
A lookup lists active and lost records (lost ones flagged, never proposed for merge); a scan, active ones.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from django.db import connection, transaction
from django.db.models import (
    Aggregate,
    BigIntegerField,
    BooleanField,
    Case,
    Count,
    Expression,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    TextField,
    Value,
    When,
)
from django.db.models.expressions import RawSQL
from django.db.models.functions import Coalesce
from django.utils.translation import gettext_lazy as _

from pheu.contacts.models import Partner
from pheu.core.models import PheuSettings
from pheu.leads.blocking import ScanStats, match_record, scan_pairs, shares_a_key
from pheu.leads.choices import WonStatus
from pheu.leads.matching import (
    DEFAULT_WEIGHTS,
    Evidence,
    Field,
    MatchRecord,
    PairScore,
    Scorer,
    Weights,
    clusters,
    stored_keys,
)
from pheu.leads.models import Lead
from pheu.lib.public_domains import PUBLIC_EMAIL_DOMAINS
from pheu.lib.text import text_key

CANDIDATE_LIMIT = 500  # the most records one lookup compares (those sharing the person's own keys first)
COMPANY_LIMIT = 50  # …of which at most this many colleagues (the same customer or company e-mail domain)
SCAN_WORK_MEM = "64MB"  # PostgreSQL work_mem of the exact-key scan's transaction


class Reason(StrEnum):
    EMAIL = "email"
    PHONE = "phone"
    PARTNER = "partner"
    EMAIL_DOMAIN = "email_domain"
    COMPANY = "company"
    SIMILAR_NAME = "similar_name"
    SIMILAR_COMPANY = "similar_company"
    SIMILAR = "similar"  # the matcher's probability alone (no exact key): see the evidence


REASON_LABELS = {
    Reason.EMAIL: _("same e-mail"),
    Reason.PHONE: _("same phone"),
    Reason.PARTNER: _("same customer"),
    Reason.EMAIL_DOMAIN: _("same company e-mail domain"),
    Reason.COMPANY: _("same company name"),
    Reason.SIMILAR_NAME: _("similar name"),
    Reason.SIMILAR_COMPANY: _("similar company name"),
    Reason.SIMILAR: _("likely the same"),
}
# Strongest first: the order reasons are listed in.
_REASON_ORDER = {reason: i for i, reason in enumerate(Reason)}


@dataclass(frozen=True)
class MatchReason:
    """Why two records look like one: ``code`` (a :class:`Reason`), ``score`` (100 for an exact key, the
    similarity in percent for a name) and ``value`` (the shared key, e.g. the number or the domain)."""

    code: str
    score: int
    value: str = ""

    @property
    def label(self) -> str:
        return str(REASON_LABELS[Reason(self.code)])

    def as_dict(self) -> dict[str, Any]:
        return {"code": self.code, "score": self.score, "value": self.value}


@dataclass(frozen=True)
class DuplicateMatch:
    """One record similar to the record asked about: every reason (strongest first), the matcher's
    probability (0–1) with its evidence, whether it is lost, and whether it is proposed for merge."""

    lead_id: int
    reasons: tuple[MatchReason, ...]
    score: int  # the probability in percent
    name: str = ""
    probability: float = 0.0
    evidence: tuple[Evidence, ...] = ()
    lost: bool = False
    propose: bool = False

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(r.code for r in self.reasons)

    @property
    def evidence_text(self) -> str:
        return ", ".join(str(e) for e in self.evidence)

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.lead_id,
            "name": self.name,
            "score": self.score,
            "probability": round(self.probability, 4),
            "lost": self.lost,
            "propose_merge": self.propose,
            "reasons": [r.as_dict() for r in self.reasons],
            "evidence": [e.as_dict() for e in self.evidence],
        }


@dataclass(frozen=True)
class DuplicateGroup:
    """Records of the base that look like one: their ids (ascending), the reasons and the best score; for
    a group of the matcher, every pair joining it (likeliest first; ``pair_count`` of them)."""

    ids: tuple[int, ...]
    reasons: tuple[MatchReason, ...]
    score: int
    pairs: tuple[PairScore, ...] = ()
    pair_count: int = 0

    @property
    def probability(self) -> float | None:
        return min((p.probability for p in self.pairs), default=None)

    def as_dict(self) -> dict[str, Any]:
        return {
            "ids": list(self.ids),
            "score": self.score,
            "reasons": [r.as_dict() for r in self.reasons],
            "pairs": [p.as_dict() for p in self.pairs],
            "pair_count": self.pair_count,
        }


@dataclass(frozen=True)
class Thresholds:
    """The installation's matcher: its two thresholds, as probabilities (0–1), and its weights (trained on
    its base by ``pheu duplicates --train``, else the shipped :data:`DEFAULT_WEIGHTS`)."""

    show: float
    merge: float
    weights: Weights = DEFAULT_WEIGHTS

    @classmethod
    def load(cls) -> Thresholds:
        settings = PheuSettings.load()
        weights = (
            Weights.from_dict(settings.duplicate_weights) if settings.duplicate_weights else DEFAULT_WEIGHTS
        )
        return cls(settings.duplicate_show_threshold / 100, settings.duplicate_merge_threshold / 100, weights)


# --- keys -----------------------------------------------------------------------------------------------
def _index_expression(name: str) -> Expression:
    """The expression of one of Lead's functional indexes: lookups use exactly it, so the index applies."""
    index = next(index for index in Lead._meta.indexes if index.name == name)
    return index.expressions[0]


def email_domain_expression() -> Expression:
    return _index_expression("lead_email_domain_idx")


def email_local_expression() -> Expression:
    return _index_expression("lead_email_local_idx")


# What the matcher reads of a record, in this order (see _record).
_MATCH_FIELDS = ("id", "name_key", "company_key", "email_normalized", "phone_e164", "mobile_e164",
                 "street_key", "city_key", "zip", "family", "won_status", "active", "name")  # fmt: skip


_LOOKUP_FIELDS = tuple("customer" if name == "family" else name for name in _MATCH_FIELDS)
_SAME_CUSTOMER = -1


def _record(row: Sequence[Any]) -> MatchRecord:
    *values, family, won, active, name = row
    return match_record(values, family, lost=won == WonStatus.LOST or not active, name=name or "")


def _with_family(queryset: QuerySet[Lead]) -> QuerySet[Lead]:
    """The customer of each record, a contact counted as its company (one LEFT JOIN: for many records)."""
    return queryset.annotate(family=Coalesce("partner__parent_id", "partner_id"))


def _with_family_of_each(queryset: QuerySet[Lead]) -> QuerySet[Lead]:
    """:func:`_with_family` for a few records (a lookup's): the company read by primary key per record.
    A join would let PostgreSQL, misjudging how many records share a key (the GIN index's estimate is a
    default, thousands), hash the whole partner table for a lookup of a handful of records (17 ms at
    100,000 partners)."""
    company = Partner.objects.filter(pk=OuterRef("partner_id")).values("parent_id")[:1]
    return queryset.annotate(family=Coalesce(Subquery(company), "partner_id", output_field=BigIntegerField()))


def match_records(queryset: QuerySet[Lead] | None = None) -> list[MatchRecord]:
    """The active records of ``queryset`` (every one by default) as the matcher reads them, in chunks."""
    qs = (queryset if queryset is not None else Lead.objects.all()).filter(active=True).order_by()
    return [_record(row) for row in _with_family(qs).values_list(*_MATCH_FIELDS).iterator(chunk_size=20_000)]


def candidates(queryset: QuerySet[Lead] | None = None) -> QuerySet[Lead]:
    """The records a lookup may list: active ones and lost ones (a salesperson wants to see those on the
    lead), never merged-away ones."""
    qs = queryset if queryset is not None else Lead.objects.all()
    return qs.filter(Q(active=True) | Q(won_status=WonStatus.LOST), merged_into__isnull=True)


def _any(conditions: Sequence[Q]) -> Q:
    combined = conditions[0]
    for cond in conditions[1:]:
        combined |= cond
    return combined


# --- one record -----------------------------------------------------------------------------------------
def _of_partner_family(partner_id: int) -> RawSQL:
    """A condition on leads: the record's customer is the partner ``partner_id``, its company, or a contact
    of either.

    The family's ids come from four index scans of the partners (by primary key and by company), joined by
    ``UNION``; on PostgreSQL as an array (``partner_id = ANY(ARRAY(…))``, computed once), so that the
    leads' partner index serves the condition inside an ``OR`` too. (An ``IN`` over one partner query
    whose ``OR`` mixed the keys with subqueries read the whole partner table, and then the leads' partner
    index whole: 0.8 s a lookup with 100,000 partners.)"""
    partners = connection.ops.quote_name(Partner._meta.db_table)
    leads = connection.ops.quote_name(Lead._meta.db_table)
    family = (
        f"SELECT id FROM {partners} WHERE id = %s "
        f"UNION SELECT id FROM {partners} WHERE parent_id = %s "
        f"UNION SELECT parent_id FROM {partners} WHERE id = %s AND parent_id IS NOT NULL "
        f"UNION SELECT c.id FROM {partners} AS me JOIN {partners} AS c ON c.parent_id = me.parent_id "
        "WHERE me.id = %s"
    )
    if connection.vendor == "postgresql":
        sql = f"{leads}.partner_id = ANY(ARRAY({family}))"
    else:
        sql = f"{leads}.partner_id IN ({family})"
    return RawSQL(sql, [partner_id] * 4, output_field=BooleanField())


def find_duplicates(
    lead: Lead,
    *,
    queryset: QuerySet[Lead] | None = None,
    thresholds: Thresholds | None = None,
) -> list[DuplicateMatch]:
    """The records that look like ``lead``, most likely first, each with its reasons, probability and
    evidence.

    Listed: a record sharing an exact key (e-mail, phone either way round, customer or its company, company
    e-mail domain, company name) or whose match probability reaches the "show as similar" threshold. Active
    and lost records are candidates, merged-away ones never; a lost one is flagged (``lost``) and never
    proposed for merge. ``propose``: the probability reaches the "propose merge" threshold.

    ``queryset`` narrows the candidates (pass ``Lead.objects.visible_to(user)`` on pages); ``lead`` may be
    unsaved (its keys are computed here). Two queries (and one for the settings when ``thresholds`` is not
    given), each a combination of index scans of at most ``CANDIDATE_LIMIT`` records: the exact keys
    (those of the person first), then the blocks of the matcher (same name key, company key, postcode or
    e-mail local part).
    """
    lead.normalize()
    thresholds = thresholds or Thresholds.load()
    base = candidates(queryset)
    if lead.pk is not None:
        base = base.exclude(pk=lead.pk)
    found: dict[int, list[MatchReason]] = defaultdict(list)
    records: dict[int, MatchRecord] = {}
    family = _of_partner_family(lead.partner_id) if lead.partner_id else None
    # The customer comparison needs only "same or not": a record of the lead's customer family is given
    # the lead's own marker (-1), any other its customer's id.
    me = _record([lead.pk or 0, lead.name_key, lead.company_key, lead.email_normalized, lead.phone_e164,
                  lead.mobile_e164, lead.street_key, lead.city_key, lead.zip,
                  _SAME_CUSTOMER if family is not None else None, lead.won_status, lead.active,
                  lead.name])  # fmt: skip

    def scoped(qs: QuerySet[Lead]) -> QuerySet[Lead]:
        if family is None:
            return _with_family_of_each(qs).annotate(customer=F("family"))
        same = Case(
            When(family, then=Value(_SAME_CUSTOMER)), default=F("family"), output_field=IntegerField()
        )
        return _with_family_of_each(qs).annotate(customer=same)

    # 1. The person: the same e-mail or phone, or a blocking key of the matcher in common (not a stop key:
    # the scan of the whole base compares the very same pairs, pheu.leads.blocking; a GIN index on
    # PostgreSQL). Bounded by the stop keys (each usable key is shared by at most BLOCK_CAP records).
    domain = me.domain
    phones = list(me.phones)
    strong: list[Q] = []
    if lead.email_normalized:
        strong.append(Q(email_normalized=lead.email_normalized))
    if phones:
        strong += [Q(phone_e164__in=phones), Q(mobile_e164__in=phones)]
    person = list(strong)
    keys = stored_keys(me)
    if keys:
        person.append(Q(shares_a_key(keys)))
    # Term frequency: how many records of the base carry the lead's name (read with the rows; all records,
    # merged-away and lost ones too, so that the name's index alone answers).
    table = connection.ops.quote_name(Lead._meta.db_table)
    carriers = RawSQL(
        f"SELECT COUNT(*) FROM {table} WHERE name_key = %s",
        [me.name_key],
        output_field=IntegerField(),
    )
    base_name_count = 0
    if person:
        rows = (
            scoped(base)
            .filter(_any(person))
            .annotate(name_count=carriers)
            .order_by(Case(When(_any(strong), then=0), default=1) if strong else Value(0))
            .values_list(*_LOOKUP_FIELDS, "name_count")[:CANDIDATE_LIMIT]
        )
        for row in rows:
            records[row[0]] = _record(row[:-1])
            base_name_count = row[-1]
    # 2. The company: the same customer (or its company) or company e-mail domain. A large company has
    # thousands of records: the first COMPANY_LIMIT found (up to CANDIDATE_LIMIT records in all).
    company: list[Q] = []
    if family is not None:
        company.append(Q(family))
    if domain:
        company.append(Q(email_domain=domain) & ~Q(email_normalized=""))
    room = min(COMPANY_LIMIT, CANDIDATE_LIMIT - len(records))
    if company and room > 0:
        company_rows = (
            scoped(base.alias(email_domain=email_domain_expression()))
            .filter(_any(company))
            .exclude(pk__in=list(records))
            .order_by()  # no ORDER BY: it would sort every record of the company
            .values_list(*_LOOKUP_FIELDS)[:room]
        )
        for row in company_rows:
            records[row[0]] = _record(row)
    for other in records.values():
        if me.email and other.email == me.email:
            found[other.id].append(MatchReason(Reason.EMAIL, 100, me.email))
        shared = sorted(set(other.phones) & set(phones))
        if shared:
            found[other.id].append(MatchReason(Reason.PHONE, 100, ", ".join(shared)))
        if family is not None and other.customer == _SAME_CUSTOMER:
            found[other.id].append(MatchReason(Reason.PARTNER, 100, str(lead.partner_id)))
        if domain and other.domain == domain:
            found[other.id].append(MatchReason(Reason.EMAIL_DOMAIN, 100, domain))

    # How many records carry the lead's name: in the base (the lead among them once saved).
    if me.name_key:
        found_count = sum(other.name_key == me.name_key for other in records.values())
        name_count = max(base_name_count + (0 if lead.pk else 1), 1 + found_count)
    else:
        name_count = 0
    matches = []
    scorer = Scorer(thresholds.weights, 0.0)  # every candidate scored, with its evidence
    for pk, other in records.items():
        scored = scorer(me, other, name_count)
        if scored is None:  # never at threshold 0
            continue
        reasons = found.get(pk, [])
        levels = {e.field: e for e in scored.evidence}
        if me.company and other.company == me.company:
            reasons.append(MatchReason(Reason.COMPANY, 100, me.company))
        if not reasons and scored.probability < thresholds.show:
            continue
        name = levels.get(Field.NAME)
        if name is not None and name.level in ("same", "close", "fair"):
            reasons.append(MatchReason(Reason.SIMILAR_NAME, round(name.similarity * 100)))
        similar_company = levels.get(Field.COMPANY)
        if similar_company is not None and similar_company.level == "close":
            reasons.append(MatchReason(Reason.SIMILAR_COMPANY, round(similar_company.similarity * 100)))
        if not reasons:
            reasons.append(MatchReason(Reason.SIMILAR, scored.percent))
        matches.append(
            DuplicateMatch(
                lead_id=pk,
                reasons=tuple(sorted(reasons, key=lambda r: (_REASON_ORDER[Reason(r.code)], -r.score))),
                score=scored.percent,
                name=other.name,
                probability=scored.probability,
                evidence=scored.evidence,
                lost=other.lost,
                propose=scored.probability >= thresholds.merge and not other.lost,
            )
        )
    matches.sort(key=lambda m: (-m.probability, _REASON_ORDER[Reason(m.reasons[0].code)], -m.lead_id))
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


def _ages(ids: Iterable[int]) -> dict[int, tuple[Any, int]]:
    """(created, id) of each record, the order of the groups' centres: read in chunks by a plain cursor
    (a scan has hundreds of thousands; only the order of the dates matters, not their time zone)."""
    ids = sorted(ids)
    table = connection.ops.quote_name(Lead._meta.db_table)
    age: dict[int, tuple[Any, int]] = {}
    with connection.cursor() as cursor:
        for start in range(0, len(ids), 20_000):
            chunk = ids[start : start + 20_000]
            if connection.vendor == "postgresql":
                cursor.execute(f"SELECT id, created_at FROM {table} WHERE id = ANY(%s)", [chunk])
            else:
                marks = ", ".join(["%s"] * len(chunk))
                cursor.execute(f"SELECT id, created_at FROM {table} WHERE id IN ({marks})", chunk)
            age.update((pk, (created, pk)) for pk, created in cursor.fetchall())
    return age


def similar_groups(
    queryset: QuerySet[Lead] | None = None,
    *,
    thresholds: Thresholds | None = None,
    stats: ScanStats | None = None,
) -> list[DuplicateGroup]:
    """Groups of active records joined by pairs whose match probability reaches the "show as similar"
    threshold, over the base: the blocking in the database (:mod:`pheu.leads.blocking`: the pairs sharing
    a key, streamed), the comparisons (:mod:`pheu.leads.matching`), then the groups
    (:func:`~pheu.leads.matching.clusters`: pairs at the "propose merge" threshold join their records, a
    weaker pair only adds a record to the group of its oldest record — no chains of namesakes). Every
    group is kept, whatever its size, with all its pairs; ``stats`` receives what the scan did (pairs
    compared, stop keys not used)."""
    thresholds = thresholds or Thresholds.load()
    scorer = Scorer(thresholds.weights, thresholds.show)
    pairs = []
    with transaction.atomic():
        for a, b, name_count in scan_pairs(queryset, stats=stats):
            pair = scorer(a, b, name_count)
            if pair is not None:
                pairs.append(pair)
    age = _ages({pk for pair in pairs for pk in (pair.a, pair.b)})
    groups = []
    for ids_, group_pairs in clusters(pairs, merge=thresholds.merge, age=age):
        best = group_pairs[0]
        groups.append(
            DuplicateGroup(
                ids_,
                (MatchReason(Reason.SIMILAR, best.percent),),
                min(p.percent for p in group_pairs),
                pairs=tuple(group_pairs),
                pair_count=len(group_pairs),
            )
        )
    return groups


def scan_duplicates(
    queryset: QuerySet[Lead] | None = None,
    *,
    fuzzy: bool = True,
    exact: bool = True,
    stats: ScanStats | None = None,
) -> list[DuplicateGroup]:
    """The duplicate groups of the base (or of ``queryset``): exact-key groups and similar-name groups,
    groups with the same records joined into one with all their reasons; strongest and largest first."""
    by_ids: dict[tuple[int, ...], list[MatchReason]] = defaultdict(list)
    pairs: dict[tuple[int, ...], DuplicateGroup] = {}
    for group in [
        *(exact_groups(queryset) if exact else []),
        *(similar_groups(queryset, stats=stats) if fuzzy else []),
    ]:
        by_ids[group.ids].extend(group.reasons)
        if group.pairs:
            pairs[group.ids] = group
    groups = [
        DuplicateGroup(
            ids,
            tuple(sorted(reasons, key=lambda r: (_REASON_ORDER[Reason(r.code)], -r.score))),
            max(r.score for r in reasons),
            pairs=pairs[ids].pairs if ids in pairs else (),
            pair_count=pairs[ids].pair_count if ids in pairs else 0,
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
