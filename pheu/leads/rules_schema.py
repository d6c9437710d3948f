"""The lead fields the rule language may reach (SPEC sections 1 and 2), and the facts of one lead.

``lead_schema()`` is the whitelist: a domain can name these fields (and their Odoo aliases) and nothing else.
``lead_facts(lead)`` reads a lead, saved or not, into the plain dict that ``Domain.evaluate`` takes; for many
leads, load them with ``FACTS_SELECT_RELATED`` and ``FACTS_PREFETCH`` so that reading facts costs no query.

Matching by name: relations typed as text are looked up when the domain is parsed — countries by English or
Vietnamese name, alias or ISO code through ``Country.name_keys``; stages, teams, tags, UTM records and lost
reasons by name; salespeople by username, full name (either order) or e-mail — all compared as ``text_key``
(unaccented, lower-case). Customers, a large table, are found by exact ``name_key`` or id.

Text ``ilike`` compares the stored keys that ``Lead.normalize()`` keeps (``title_key``, ``company_key``,
``email_normalized``…): each field's ``fold`` below is exactly what is stored, truncation included.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Hashable, Iterable
from functools import cache
from typing import Any

from django.apps import apps
from django.db.models import Model, Q
from django.utils import timezone, translation
from django.utils.functional import lazy
from django.utils.translation import gettext_lazy as _

from pheu.accounts.models import User
from pheu.contacts.models import Country, Partner, Tag
from pheu.core.fields import model_field
from pheu.leads.choices import CompanySizeBand, CustomerType, LeadPriority, LeadRating, LeadType, WonStatus
from pheu.leads.models import RULE_KEY_FIELDS, Campaign, Lead, LeadScore, LostReason, Medium, Source, Stage
from pheu.lib.emails import email_key
from pheu.lib.text import text_key
from pheu.rules import Candidate, FieldSpec, FieldType, NameLookup, Schema
from pheu.teams.models import Team

T = FieldType

FACTS_SELECT_RELATED = (
    "partner__country",
    "country",
    "team",
    "user",
    "stage",
    "campaign",
    "source",
    "medium",
    "lost_reason",
    "score_row",
)
FACTS_PREFETCH = ("tags", "pageviews") if apps.is_installed("pheu.scoring") else ("tags",)


def _label(model: type[Model], name: str) -> Any:
    return model_field(model, name).verbose_name


def _key200(value: str) -> str:
    return text_key(value)[:200]  # what the CharField(200) *_key columns store


# --- lookups ------------------------------------------------------------------------------------------
def _country_name(name_en: str, name_vi: str) -> str:
    return name_vi if translation.get_language() == "vi" else name_en


_lazy_country_name = lazy(_country_name, str)


def _countries() -> Iterable[Candidate]:
    for code, code3, name_en, name_vi, name_keys in Country.objects.values_list(
        "code", "code3", "name_en", "name_vi", "name_keys"
    ):
        keys = (
            *name_keys.split(" | "),
            text_key(code),
            text_key(code3),
            text_key(name_en),
            text_key(name_vi),
        )
        yield Candidate(
            code, tuple(dict.fromkeys(k for k in keys if k)), _lazy_country_name(name_en, name_vi)
        )


def _by_name(model: type[Model]) -> NameLookup:
    def load() -> Iterable[Candidate]:
        for pk, name in model._base_manager.values_list("pk", "name"):
            yield Candidate(pk, (text_key(name),), name)

    return NameLookup(load_all=load)


def _users() -> Iterable[Candidate]:
    for pk, username, first, last, email in User.objects.values_list(
        "pk", "username", "first_name", "last_name", "email"
    ):
        keys = (
            text_key(username),
            text_key(f"{first} {last}"),
            text_key(f"{last} {first}"),
            email_key(email),
        )
        label = f"{first} {last}".strip() or username
        yield Candidate(pk, tuple(dict.fromkeys(k for k in keys if k)), label)


def _find_partners(ids: tuple[Hashable, ...], keys: tuple[str, ...]) -> Iterable[Candidate]:
    for pk, name, name_key in Partner.objects.filter(Q(pk__in=ids) | Q(name_key__in=keys)).values_list(
        "pk", "name", "name_key"
    ):
        yield Candidate(pk, (name_key,), name)


COUNTRY_LOOKUP = NameLookup(load_all=_countries, id_type=str)
USER_LOOKUP = NameLookup(load_all=_users)
PARTNER_LOOKUP = NameLookup(find=_find_partners, key_fold=_key200)
STAGE_LOOKUP = _by_name(Stage)
TEAM_LOOKUP = _by_name(Team)
TAG_LOOKUP = _by_name(Tag)
CAMPAIGN_LOOKUP = _by_name(Campaign)
SOURCE_LOOKUP = _by_name(Source)
MEDIUM_LOOKUP = _by_name(Medium)
LOST_REASON_LOOKUP = _by_name(LostReason)


# --- schemas of related records -----------------------------------------------------------------------
def _text(model: type[Model], name: str, **kw: Any) -> FieldSpec:
    return FieldSpec(name, T.TEXT, _label(model, name), **kw)


COUNTRY_SCHEMA = Schema(
    "country",
    (
        _text(Country, "code"),
        _text(Country, "code3"),
        _text(Country, "name_en"),
        _text(Country, "name_vi"),
    ),
)
PARTNER_SCHEMA = Schema(
    "partner",
    (
        FieldSpec("id", T.INT, "ID", orm="pk"),
        _text(Partner, "name", key="name_key", fold=_key200),
        _text(Partner, "email", key="email_normalized", fold=email_key),
        _text(Partner, "phone"),
        _text(Partner, "city"),
        FieldSpec("is_company", T.BOOL, _label(Partner, "is_company")),
        FieldSpec(
            "country",
            T.RELATION,
            _label(Partner, "country"),
            target=COUNTRY_SCHEMA,
            lookup=COUNTRY_LOOKUP,
            aliases=("country_id",),
        ),
    ),
)
STAGE_SCHEMA = Schema(
    "stage",
    (
        FieldSpec("probability", T.DECIMAL, _label(Stage, "probability")),
        FieldSpec("is_won", T.BOOL, _label(Stage, "is_won")),
        FieldSpec("sequence", T.INT, _label(Stage, "sequence")),
        FieldSpec("folded", T.BOOL, _label(Stage, "folded"), aliases=("fold",)),
    ),
)
USER_SCHEMA = Schema("user", (_text(User, "username", aliases=("login",)),))
NAMED_SCHEMA = Schema("named", ())  # teams, tags, UTM records, lost reasons: by name (`team.name`) or id


def _pageview_schema() -> Schema:
    PageView = apps.get_model("scoring", "PageView")  # scoring builds on leads: no import from here

    return Schema(
        "pageview",
        (
            _text(PageView, "url", key="url_key"),
            _text(PageView, "visitor_id"),
            FieldSpec("created_at", T.DATETIME, _label(PageView, "created_at"), aliases=("create_date",)),
        ),
    )


# --- the lead -----------------------------------------------------------------------------------------
_BANDS: dict[str, tuple[int, int | None]] = {
    CompanySizeBand.MICRO: (1, 10),
    CompanySizeBand.SMALL: (10, 50),
    CompanySizeBand.MEDIUM: (50, 250),
    CompanySizeBand.LARGE: (250, None),
}


def _band_q(band: str | None) -> Q:
    """The leads whose ``company_size_band`` is ``band`` (None: no band), as ``CompanySizeBand.of`` says."""
    if band is None:
        return Q(company_size__isnull=True) | Q(company_size__lt=1)
    low, high = _BANDS[band]
    within = Q(company_size__isnull=False, company_size__gte=low)  # never NULL: it may be negated
    return within & Q(company_size__lt=high) if high is not None else within


def _lead_fields() -> tuple[FieldSpec, ...]:
    def text(name: str, *aliases: str, key: str | None = None, fold: Any = text_key) -> FieldSpec:
        return FieldSpec(
            name, T.TEXT, _label(Lead, name), key=key or RULE_KEY_FIELDS.get(name), fold=fold, aliases=aliases
        )

    def rel(name: str, target: Schema, lookup: NameLookup, *aliases: str) -> FieldSpec:
        return FieldSpec(name, T.RELATION, _label(Lead, name), target=target, lookup=lookup, aliases=aliases)

    def choice(name: str, choices: Any) -> FieldSpec:
        return FieldSpec(name, T.CHOICE, _label(Lead, name), choices=tuple(choices))

    fields = [
        FieldSpec("id", T.INT, "ID"),
        choice("type", LeadType.choices),
        text("name"),
        text("contact_name"),
        text("company_name", "partner_name", key="company_key", fold=_key200),
        rel("partner", PARTNER_SCHEMA, PARTNER_LOOKUP, "partner_id"),
        text("email", "email_from", key="email_normalized", fold=email_key),
        text("phone"),
        text("mobile"),
        text("website"),
        text("job_title", "function"),
        text("street"),
        text("city"),
        text("state"),
        text("zip"),
        rel("country", COUNTRY_SCHEMA, COUNTRY_LOOKUP, "country_id"),
        text("language", "lang_code"),
        FieldSpec("company_size", T.INT, _label(Lead, "company_size")),
        FieldSpec(
            "company_size_band",
            T.CHOICE,
            _("company size band"),
            choices=tuple(CompanySizeBand.choices),
            value_q=_band_q,
        ),
        text("industry"),
        rel("team", NAMED_SCHEMA, TEAM_LOOKUP, "team_id"),
        rel("user", USER_SCHEMA, USER_LOOKUP, "user_id"),
        rel("stage", STAGE_SCHEMA, STAGE_LOOKUP, "stage_id"),
        FieldSpec("probability", T.DECIMAL, _label(Lead, "probability")),
        FieldSpec("automated_probability", T.DECIMAL, _label(Lead, "automated_probability")),
        FieldSpec("amount", T.DECIMAL, _label(Lead, "amount")),
        FieldSpec("expected_revenue", T.DECIMAL, _label(Lead, "expected_revenue")),
        FieldSpec(
            "expected_close_date", T.DATE, _label(Lead, "expected_close_date"), aliases=("date_deadline",)
        ),
        choice("rating", LeadRating.choices),
        choice("priority", LeadPriority.choices),
        choice("customer_type", CustomerType.choices),
        FieldSpec(
            "tags", T.MANY, _label(Lead, "tags"), target=NAMED_SCHEMA, lookup=TAG_LOOKUP, aliases=("tag_ids",)
        ),
        rel("campaign", NAMED_SCHEMA, CAMPAIGN_LOOKUP, "campaign_id"),
        rel("source", NAMED_SCHEMA, SOURCE_LOOKUP, "source_id"),
        rel("medium", NAMED_SCHEMA, MEDIUM_LOOKUP, "medium_id"),
        rel("lost_reason", NAMED_SCHEMA, LOST_REASON_LOOKUP, "lost_reason_id"),
        FieldSpec("score", T.INT, _label(LeadScore, "score"), orm="score_row__score"),
        choice("won_status", WonStatus.choices),
        FieldSpec("active", T.BOOL, _label(Lead, "active")),
        FieldSpec("created_at", T.DATETIME, _label(Lead, "created_at"), aliases=("create_date",)),
        FieldSpec("assigned_at", T.DATETIME, _label(Lead, "assigned_at"), aliases=("date_open",)),
        FieldSpec("closed_at", T.DATETIME, _label(Lead, "closed_at"), aliases=("date_closed",)),
    ]
    if apps.is_installed("pheu.scoring"):
        fields.append(
            FieldSpec(
                "pageviews", T.MANY, _("page views"), target=_pageview_schema, aliases=("score_pageview_ids",)
            )
        )
    return tuple(fields)


@cache
def lead_schema() -> Schema:
    """The schema of leads and opportunities (built once, when the apps are loaded)."""
    return Schema("lead", _lead_fields(), model=lambda: Lead)


# --- facts ------------------------------------------------------------------------------------------
_SCALARS = (
    "id",
    "type",
    "name",
    "contact_name",
    "company_name",
    "email",
    "phone",
    "mobile",
    "website",
    "job_title",
    "street",
    "city",
    "state",
    "zip",
    "language",
    "company_size",
    "industry",
    "probability",
    "automated_probability",
    "amount",
    "expected_revenue",
    "expected_close_date",
    "rating",
    "priority",
    "customer_type",
    "won_status",
    "active",
    "created_at",
    "assigned_at",
    "closed_at",
)


def _typed(model: type[Model], name: str, value: Any) -> Any:
    """A field's value as the database would return it (a form may have set "12.5" on an unsaved lead)."""
    if value is None:
        return None
    value = model_field(model, name).to_python(value)
    if isinstance(value, dt.datetime) and timezone.is_naive(value):
        value = timezone.make_aware(value)
    return value


def _named(obj: Any) -> dict[str, Any] | None:
    return None if obj is None else {"id": obj.pk, "name": obj.name}


def _country(country: Country | None) -> dict[str, Any] | None:
    if country is None:
        return None
    return {
        "id": country.code,
        "code": country.code,
        "code3": country.code3,
        "name_en": country.name_en,
        "name_vi": country.name_vi,
    }


def lead_facts(
    lead: Lead, *, tags: Iterable[Tag] | None = None, pageviews: Iterable[Any] | None = None
) -> dict[str, Any]:
    """The facts of ``lead`` for ``Domain.evaluate``, keyed as in :func:`lead_schema`.

    Works on unsaved leads: their tags and page views are empty unless given (``tags=``, ``pageviews=``).
    Reads relations through the instance (use ``FACTS_SELECT_RELATED``/``FACTS_PREFETCH`` to avoid a query
    per lead).
    """
    facts: dict[str, Any] = {name: _typed(Lead, name, getattr(lead, name)) for name in _SCALARS}
    facts["score"] = lead.score
    facts["company_size_band"] = lead.company_size_band
    partner = lead.partner if lead.partner_id else None
    facts["partner"] = (
        None
        if partner is None
        else {
            "id": partner.pk,
            "name": partner.name,
            "email": partner.email,
            "phone": partner.phone,
            "city": partner.city,
            "is_company": partner.is_company,
            "country": _country(partner.country if partner.country_id else None),
        }
    )
    facts["country"] = _country(lead.country if lead.country_id else None)
    user = lead.user if lead.user_id else None
    facts["user"] = None if user is None else {"id": user.pk, "username": user.username}
    stage = lead.stage if lead.stage_id else None
    facts["stage"] = (
        None
        if stage is None
        else {
            "id": stage.pk,
            "name": stage.name,
            "probability": _typed(Stage, "probability", stage.probability),
            "is_won": stage.is_won,
            "sequence": stage.sequence,
            "folded": stage.folded,
        }
    )
    for name in ("team", "campaign", "source", "medium", "lost_reason"):
        facts[name] = _named(getattr(lead, name) if getattr(lead, f"{name}_id") else None)
    if tags is None:
        tags = lead.tags.all() if lead.pk else ()
    facts["tags"] = [{"id": tag.pk, "name": tag.name} for tag in tags]
    if pageviews is None:
        pageviews = lead.pageviews.all() if lead.pk and hasattr(lead, "pageviews") else ()
    facts["pageviews"] = [
        {
            "id": view.pk,
            "url": view.url,
            "visitor_id": view.visitor_id,
            "created_at": _typed(type(view), "created_at", view.created_at),
        }
        for view in pageviews
    ]
    return facts
