"""Leads and opportunities (one model with a ``type``), stages, lost reasons and UTM records."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q, Value
from django.db.models.functions import Greatest, StrIndex, Substr
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from pheu.contacts.models import Country, Partner, Tag
from pheu.leads.choices import CompanySizeBand, CustomerType, LeadPriority, LeadRating, LeadType, WonStatus
from pheu.leads.matching import match_keys_of
from pheu.leads.querysets import LeadQuerySet
from pheu.lib.emails import valid_email_key
from pheu.lib.phones import phone_e164_or_empty
from pheu.lib.text import search_key, text_key
from pheu.teams.models import Team

PERCENT = [MinValueValidator(0), MaxValueValidator(100)]

# Free-text field → the column holding its full text_key (kept by Lead.normalize(), read by the rules' ilike).
RULE_KEY_FIELDS: dict[str, str] = {
    "name": "title_key",
    "contact_name": "contact_key",
    "job_title": "job_title_key",
    "street": "street_key",
    "city": "city_key",
    "state": "state_key",
    "industry": "industry_key",
    "website": "website_key",
}


# Foreign keys of a lead that most records leave empty, indexed only where set (see Lead.Meta.indexes).
SPARSE_FOREIGN_KEYS = ("partner", "campaign", "source", "medium", "lost_reason", "merged_into", "created_by")


def _digits(value: str) -> str:
    return "".join(ch for ch in value if ch.isdigit())


class Stage(models.Model):
    """A pipeline stage, of one team or (``team`` empty) shared by all teams."""

    name = models.CharField(_("name"), max_length=100)
    sequence = models.PositiveIntegerField(_("sequence"), default=10)
    probability = models.DecimalField(
        _("probability (%)"), max_digits=5, decimal_places=2, default=10, validators=PERCENT
    )
    is_won = models.BooleanField(_("won stage"), default=False)
    folded = models.BooleanField(_("folded in the pipeline"), default=False)
    required_fields = models.JSONField(
        _("required fields"),
        default=list,
        blank=True,
        help_text=_("Fields that must be filled before a record enters this stage."),
    )
    requirements = models.TextField(_("requirements"), blank=True, help_text=_("Shown to the salesperson."))
    rotting_days = models.PositiveIntegerField(
        _("rotting after (days)"),
        null=True,
        blank=True,
        help_text=_("Records idle in this stage longer than this are highlighted."),
    )
    team = models.ForeignKey(
        Team, verbose_name=_("team"), null=True, blank=True, on_delete=models.CASCADE, related_name="stages"
    )

    class Meta:
        verbose_name = _("stage")
        verbose_name_plural = _("stages")
        ordering = ["sequence", "id"]

    def __str__(self) -> str:
        return self.name


class LostReason(models.Model):
    name = models.CharField(_("name"), max_length=100, unique=True)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("lost reason")
        verbose_name_plural = _("lost reasons")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class UtmRecord(models.Model):
    name = models.CharField(_("name"), max_length=100, unique=True)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        abstract = True
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Campaign(UtmRecord):
    class Meta(UtmRecord.Meta):
        verbose_name = _("campaign")
        verbose_name_plural = _("campaigns")


class Source(UtmRecord):
    class Meta(UtmRecord.Meta):
        verbose_name = _("source")
        verbose_name_plural = _("sources")


class Medium(UtmRecord):
    class Meta(UtmRecord.Meta):
        verbose_name = _("medium")
        verbose_name_plural = _("mediums")


class Lead(models.Model):
    """A lead or an opportunity: one record, so that conversion and merge keep identity and history.

    Lost and merged-away records are inactive, never deleted. The ``*_normalized``/``*_e164``/``*_key``
    columns are derived from the row by :meth:`normalize` (on save and on every bulk path) and indexed.
    """

    type = models.CharField(_("type"), max_length=12, choices=LeadType.choices, default=LeadType.LEAD)
    name = models.CharField(_("name"), max_length=200)
    contact_name = models.CharField(_("contact name"), max_length=200, blank=True)
    company_name = models.CharField(_("company name"), max_length=200, blank=True)
    partner = models.ForeignKey(
        Partner,
        verbose_name=_("customer"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="leads",
        db_index=False,
    )
    email = models.CharField(_("e-mail"), max_length=254, blank=True)
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    mobile = models.CharField(_("mobile"), max_length=40, blank=True)
    website = models.CharField(_("website"), max_length=200, blank=True)
    job_title = models.CharField(_("job title"), max_length=120, blank=True)
    street = models.CharField(_("street"), max_length=200, blank=True)
    street2 = models.CharField(_("address line 2"), max_length=200, blank=True)
    city = models.CharField(_("city"), max_length=100, blank=True)
    state = models.CharField(_("state / province"), max_length=100, blank=True)
    zip = models.CharField(_("postal code"), max_length=20, blank=True)
    # db_index=False on country, team, user and stage: composite indexes below lead with team, user and stage,
    # none with country (see Meta.indexes), and every index more is a write more on each update of a lead
    # (scoring, assignment, imports). A country is never deleted while leads use it (PROTECT).
    country = models.ForeignKey(
        Country,
        verbose_name=_("country"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
    )
    language = models.CharField(_("language"), max_length=8, blank=True)
    company_size = models.PositiveIntegerField(_("company size (employees)"), null=True, blank=True)
    industry = models.CharField(_("industry"), max_length=100, blank=True)
    team = models.ForeignKey(
        Team,
        verbose_name=_("sales team"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="leads",
        db_index=False,
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("salesperson"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="leads",
        db_index=False,
    )
    stage = models.ForeignKey(
        Stage,
        verbose_name=_("stage"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="leads",
        db_index=False,
    )
    probability = models.DecimalField(
        _("probability (%)"), max_digits=5, decimal_places=2, default=0, validators=PERCENT
    )
    automated_probability = models.DecimalField(
        _("predicted probability (%)"),
        max_digits=5,
        decimal_places=2,
        null=True,
        blank=True,
        validators=PERCENT,
    )
    auto_probability = models.BooleanField(
        _("automatic probability"),
        default=True,
        help_text=_("Follow the stage's (or predicted) probability automatically."),
    )
    amount = models.DecimalField(
        _("amount"), max_digits=18, decimal_places=2, null=True, blank=True, validators=[MinValueValidator(0)]
    )
    expected_revenue = models.DecimalField(
        _("expected revenue"),
        max_digits=18,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(0)],
    )
    expected_close_date = models.DateField(_("expected closing"), null=True, blank=True)
    rating = models.CharField(_("rating"), max_length=8, choices=LeadRating.choices, blank=True)
    priority = models.PositiveSmallIntegerField(
        _("priority"), choices=LeadPriority.choices, default=LeadPriority.NORMAL
    )
    customer_type = models.CharField(
        _("customer type"), max_length=10, choices=CustomerType.choices, default=CustomerType.NEW
    )
    tags = models.ManyToManyField(Tag, verbose_name=_("tags"), blank=True, related_name="leads")
    campaign = models.ForeignKey(
        Campaign,
        verbose_name=_("campaign"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="leads",
        db_index=False,
    )
    source = models.ForeignKey(
        Source,
        verbose_name=_("source"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="leads",
        db_index=False,
    )
    medium = models.ForeignKey(
        Medium,
        verbose_name=_("medium"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="leads",
        db_index=False,
    )
    description = models.TextField(_("description"), blank=True)
    lost_reason = models.ForeignKey(
        LostReason,
        verbose_name=_("lost reason"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="leads",
        db_index=False,
    )
    won_status = models.CharField(
        _("status"), max_length=6, choices=WonStatus.choices, default=WonStatus.OPEN
    )
    active = models.BooleanField(_("active"), default=True)
    merged_into = models.ForeignKey(
        "self",
        verbose_name=_("merged into"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="merged_records",
        db_index=False,
    )
    # Unique where set (a partial unique index: no entry for the many records without one); NULL, not "",
    # is "none", as several records have none.
    external_id = models.CharField(_("external ID"), max_length=100, null=True, blank=True)  # noqa: DJ001
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    assigned_at = models.DateTimeField(_("assigned"), null=True, blank=True)
    converted_at = models.DateTimeField(_("converted"), null=True, blank=True)
    stage_changed_at = models.DateTimeField(_("stage changed"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    # Normalised keys (see normalize()).
    email_normalized = models.CharField(max_length=254, blank=True, editable=False)
    phone_e164 = models.CharField(max_length=20, blank=True, editable=False)
    mobile_e164 = models.CharField(max_length=20, blank=True, editable=False)
    name_key = models.CharField(max_length=200, blank=True, editable=False)
    company_key = models.CharField(max_length=200, blank=True, editable=False)
    search_text = models.TextField(blank=True, editable=False)
    # Full keys (text_key, never truncated) of the free-text fields, for the rule language's accent- and
    # case-insensitive `ilike` (pheu.leads.rules_schema); `name_key` above is the person's key for matching.
    title_key = models.TextField(blank=True, editable=False)  # of `name`
    contact_key = models.TextField(blank=True, editable=False)
    job_title_key = models.TextField(blank=True, editable=False)
    street_key = models.TextField(blank=True, editable=False)
    city_key = models.TextField(blank=True, editable=False)
    state_key = models.TextField(blank=True, editable=False)
    industry_key = models.TextField(blank=True, editable=False)
    website_key = models.TextField(blank=True, editable=False)
    # The duplicate matcher's blocking keys (pheu.leads.matching.stored_keys), separated by spaces; indexed
    # on PostgreSQL (GIN over the words). NULL: not computed yet (a path writing rows by itself, such as the
    # import; the duplicate scan computes the missing ones, pheu.leads.blocking.fill_match_keys).
    match_keys = models.TextField(null=True, blank=True, editable=False)  # noqa: DJ001 (NULL: not computed)

    objects = LeadQuerySet.as_manager()

    class Meta:
        verbose_name = _("lead")
        verbose_name_plural = _("leads")
        ordering = ["-created_at", "-id"]
        indexes = [
            # Matching keys: partial, so the many empty values cost nothing. On PostgreSQL they also carry
            # what the duplicate scan of the whole base reads (``include``), so that it reads these narrow
            # indexes in key order (index-only scans) instead of the whole table.
            models.Index(
                fields=["email_normalized"],
                include=["active", "id"],
                name="lead_email_idx",
                condition=~Q(email_normalized=""),
            ),
            models.Index(
                fields=["phone_e164"],
                include=["active", "id"],
                name="lead_phone_idx",
                condition=~Q(phone_e164=""),
            ),
            models.Index(
                fields=["mobile_e164"],
                include=["active", "id", "phone_e164"],
                name="lead_mobile_idx",
                condition=~Q(mobile_e164=""),
            ),
            models.Index(fields=["name_key"], name="lead_name_key_idx"),
            models.Index(fields=["company_key"], name="lead_company_key_idx", condition=~Q(company_key="")),
            # Duplicate detection (pheu.leads.duplicates reads these expressions back from here, so that the
            # lookups use the very same expression as the index): e-mail domain and local part, postcode.
            models.Index(
                Substr("email_normalized", StrIndex("email_normalized", Value("@")) + 1),
                name="lead_email_domain_idx",
                condition=~Q(email_normalized=""),
            ),
            models.Index(
                # Greatest(…, 0): an address without "@" has an empty local part (PostgreSQL refuses a
                # negative substring length, and would refuse the row).
                Substr("email_normalized", 1, Greatest(StrIndex("email_normalized", Value("@")) - 1, 0)),
                name="lead_email_local_idx",
                condition=~Q(email_normalized=""),
            ),
            models.Index(fields=["zip"], name="lead_zip_idx", condition=~Q(zip="")),
            # List filters, each leading with the filter and ending with the default ordering.
            models.Index(fields=["team", "-created_at"], name="lead_team_idx"),
            # Foreign keys most records leave empty: only the records that have one are indexed, so that an
            # insert, or an update that moves a row (assignment), does not add an entry to each of them.
            *(
                models.Index(
                    fields=[name], name=f"lead_{name}_idx", condition=Q(**{f"{name}__isnull": False})
                )
                for name in SPARSE_FOREIGN_KEYS
            ),
            # The pipeline (kanban columns and their sums by team and stage): index-only on PostgreSQL.
            models.Index(
                fields=["team", "stage", "-created_at", "-id"],
                include=["expected_revenue", "user"],
                condition=Q(active=True, type="opportunity"),
                name="lead_pipeline_idx",
            ),
            # "My pipeline" (a salesperson's cards per stage), index-only for its fallback sums.
            models.Index(
                fields=["user", "stage", "-created_at", "-id"],
                include=["expected_revenue", "team"],
                condition=Q(active=True, type="opportunity"),
                name="lead_pipeline_user_idx",
            ),
            # Only the records with a salesperson: "unassigned" is a filter over the created-order index,
            # and a lead that an assignment run gives only a team adds no entry here.
            models.Index(
                fields=["user", "-created_at"], name="lead_user_idx", condition=Q(user__isnull=False)
            ),
            models.Index(
                fields=["stage", "-created_at"], name="lead_stage_idx", condition=Q(stage__isnull=False)
            ),
            # The leads waiting for a salesperson (what an assignment run and the reports' waiting counts
            # read), index-only on PostgreSQL for their counts by team — ``user`` (null here) is included
            # for the visibility rule's "own or unassigned of my teams" —: the assignment report's groups
            # without reading the table (200,000 leads, 23,672 waiting: 329 → 88 ms). Partial: an entry only
            # while a lead waits (its creation, a team phase giving it a team), none for an assigned one.
            models.Index(
                fields=["team"],
                include=["id", "user"],
                condition=Q(active=True, won_status="open", user__isnull=True),
                name="lead_waiting_idx",
            ),
            # It also counts the active records of a list (index-only): 1M leads, 250 → 130 ms.
            models.Index(fields=["type", "active", "-created_at"], name="lead_type_active_idx"),
            # No index on the won status: each of its values is common, so a list filtered by it reads its
            # page through lead_created_idx (1M leads: the same time with or without one), while every
            # update that moves a lead's row (assignment: team, salesperson) adds an entry to each index of
            # the table: ≈ 0.35 s per 100,000 assigned leads and index.
            models.Index(fields=["-created_at", "-id"], name="lead_created_idx"),
            # No index on (country, state) nor on company_size. Each would serve a rule term that selects few
            # leads — a rule's live preview counts them in ≈ 10 ms instead of 250–400 ms at 1,000,000 leads
            # (bench/rules.py tries both) — but each costs an assignment run ≈ 0.26 s per 100,000 leads it
            # moves, the run the issue 5 target is about. A term that selects many leads (most countries of
            # a Vietnamese base, size bands) reads the table either way.
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(probability__gte=0, probability__lte=100), name="lead_probability_range"
            ),
            models.CheckConstraint(condition=Q(priority__gte=0, priority__lte=3), name="lead_priority_range"),
            models.UniqueConstraint(
                fields=["external_id"],
                condition=Q(external_id__isnull=False),
                name="lead_external_id_unique",
                violation_error_message=_("A record with this external ID exists already."),
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs) -> None:
        self.normalize()
        update_fields = kwargs.get("update_fields")
        if update_fields is not None:
            kwargs["update_fields"] = {*update_fields, *DERIVED_COLUMNS, "updated_at"}
        super().save(*args, **kwargs)

    @property
    def score(self) -> int:
        """The points of the active scoring rules the lead matches, kept in :class:`LeadScore`.

        Read from the ``score`` annotation of :meth:`LeadQuerySet.with_score` or the ``score_row`` loaded by
        ``select_related``; otherwise one query. Setting it changes only this instance: the scoring service
        writes scores (:mod:`pheu.scoring.services`)."""
        if "_score" in self.__dict__:
            return self.__dict__["_score"]
        if self.pk is None:
            return 0
        try:
            return self.score_row.score
        except LeadScore.DoesNotExist:  # only between the INSERT and its trigger's row: never seen outside
            return 0

    @score.setter
    def score(self, value: int) -> None:
        self.__dict__["_score"] = value

    def refresh_from_db(self, *args, **kwargs) -> None:
        self.__dict__.pop("_score", None)
        self._state.fields_cache.pop("score_row", None)
        super().refresh_from_db(*args, **kwargs)

    @property
    def is_opportunity(self) -> bool:
        return self.type == LeadType.OPPORTUNITY

    @property
    def weighted_revenue(self) -> Decimal | None:
        """Expected revenue × probability, rounded to the currency unit's cents."""
        if self.expected_revenue is None:
            return None
        return (self.expected_revenue * self.probability / Decimal(100)).quantize(Decimal("0.01"))

    @property
    def company_size_band(self) -> str | None:
        band = CompanySizeBand.of(self.company_size)
        return band.value if band else None

    def normalize(self) -> None:
        """Recompute the matching keys from the row's own fields (save() and bulk paths call this)."""
        self.email_normalized = valid_email_key(self.email)  # an invalid address kept as typed: none
        # An unchanged number keeps its key when the installation's phone region has changed since.
        self.phone_e164 = phone_e164_or_empty(self.phone, previous=getattr(self, "phone_e164", "") or "")
        self.mobile_e164 = phone_e164_or_empty(self.mobile, previous=getattr(self, "mobile_e164", "") or "")
        self.name_key = text_key(self.contact_name or self.name)[:200]
        self.company_key = text_key(self.company_name)[:200]
        self.search_text = search_key(
            self.name,
            self.company_name,
            self.contact_name,
            self.email,
            self.phone,
            self.mobile,
            _digits(self.phone),
            _digits(self.mobile),
            self.phone_e164,
            self.mobile_e164,
        )
        for field, key in RULE_KEY_FIELDS.items():
            setattr(self, key, text_key(getattr(self, field)))
        self.match_keys = match_keys_of(
            name_key=self.name_key,
            company_key=self.company_key,
            email=self.email_normalized,
            phones=(self.phone_e164, self.mobile_e164),
            street=self.street_key,
            city=self.city_key,
            zip_=getattr(self, "zip", "") or "",  # an import's row object may have no postcode
        )


# --- the lead's column lists, derived from its fields (one definition) -----------------------------------
# The columns normalize() derives from the row's own fields: the lead's text columns that nobody edits
# (``editable=False``), in the order of the model.
DERIVED_COLUMNS: tuple[str, ...] = tuple(
    f.attname
    for f in Lead._meta.concrete_fields
    if not f.editable and isinstance(f, models.CharField | models.TextField)
)
# The keys a path writing rows itself computes (the import's writer): all the derived columns but
# ``match_keys``, which such a path leaves NULL for the duplicate scan to compute.
KEY_COLUMNS: tuple[str, ...] = tuple(name for name in DERIVED_COLUMNS if name != "match_keys")
# The fields normalize() derives them from (its sources, besides the keys it keeps): what a row writer
# hands it (the import's workers get exactly these).
KEY_SOURCES: tuple[str, ...] = tuple(
    dict.fromkeys(
        ("name", "contact_name", "company_name", "email", "phone", "mobile", *RULE_KEY_FIELDS, "zip")
    )
)
# Fields Pheu sets itself (the services of stages, outcome, merge and assignment; the prediction): no person
# sets them through the form, the API or an import.
SET_BY_PHEU: tuple[str, ...] = (
    "automated_probability",
    "lost_reason",
    "won_status",
    "active",
    "merged_into",
    "created_by",
    "assigned_at",
    "converted_at",
    "stage_changed_at",
    "closed_at",
)
# Fields a person may set through the form, the API or an import (relations as instances), in the order of
# the model: every editable column but the primary key and those Pheu sets.
EDITABLE_FIELDS: tuple[str, ...] = tuple(
    f.name
    for f in Lead._meta.concrete_fields
    if f.editable and not f.primary_key and f.name not in SET_BY_PHEU
)


class LeadScore(models.Model):
    """A lead's score, in a narrow table of its own.

    A rule change re-scores many leads at once. Written in the lead table, each changed score rewrote a row
    of about 1 KB and dirtied its page, so a change reaching 10% of a large base went through most of the
    table; here a changed score rewrites a row of a few bytes, in a table that stays in memory.

    Every lead has its row from the moment it is inserted, whatever the path (ORM, bulk insert, ``COPY``):
    a database trigger adds it with score 0 (:mod:`pheu.leads.scores`), and the scoring service writes the
    score. Read it as ``lead.score`` (:meth:`LeadQuerySet.with_score` for many leads), filter and sort on
    ``score_row__score``.
    """

    lead = models.OneToOneField(
        Lead, verbose_name=_("lead"), primary_key=True, on_delete=models.CASCADE, related_name="score_row"
    )
    score = models.IntegerField(_("score"), default=0)

    class Meta:
        verbose_name = _("lead score")
        verbose_name_plural = _("lead scores")

    def __str__(self) -> str:
        return f"{self.lead_id}: {self.score}"


class MatchStopKey(models.Model):
    """A blocking key of the duplicate matcher shared by too many records to compare them all (more than
    ``pheu.leads.matching.BLOCK_CAP``: a common family name with a big city): the whole-base scan writes
    them (:mod:`pheu.leads.blocking`), and the lookup on a lead leaves them out, as the scan does."""

    key = models.CharField(_("key"), max_length=100, primary_key=True)
    records = models.IntegerField(_("records"))

    class Meta:
        verbose_name = _("duplicate stop key")
        verbose_name_plural = _("duplicate stop keys")

    def __str__(self) -> str:
        return f"{self.key} ({self.records})"


class SavedFilter(models.Model):
    """A lead list filter a user saved under a name: the list's query string (``domain`` included).

    Private to its owner. The query string is stored as the list sent it, without the page number; it is
    checked again by the list's FilterSet whenever it is opened (a renamed tag then shows an error, visibly).
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.CASCADE,
        related_name="saved_lead_filters",
    )
    name = models.CharField(_("name"), max_length=100)
    query_string = models.TextField(_("query string"), blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("saved filter")
        verbose_name_plural = _("saved filters")
        ordering = ["name", "id"]
        constraints = [models.UniqueConstraint(fields=["user", "name"], name="saved_filter_unique_name")]

    def __str__(self) -> str:
        return self.name


class PipelineTotal(models.Model):
    """Running totals of the active opportunities by team, stage and salesperson: the kanban's column sums.

    Written by database triggers on the lead table only (:mod:`pheu.leads.totals`): every insert, delete or
    change of an active opportunity's team, stage, salesperson, expected revenue, type or ``active`` appends a
    signed row (+1/−1 and the revenue), so writers never wait on one another; the periodic compaction folds
    them into one row per (team, stage, salesperson). The sum over a filter's rows is the live count. The
    foreign keys carry no database constraint: a row describes history, and names only ids.
    """

    team = models.ForeignKey(
        Team, null=True, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )
    stage = models.ForeignKey(
        Stage, null=True, on_delete=models.DO_NOTHING, db_constraint=False, db_index=False, related_name="+"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    count = models.IntegerField()
    expected_revenue = models.DecimalField(max_digits=24, decimal_places=2)

    class Meta:
        verbose_name = _("pipeline total")
        verbose_name_plural = _("pipeline totals")

    def __str__(self) -> str:
        return f"{self.team_id}/{self.stage_id}/{self.user_id}: {self.count}, {self.expected_revenue}"


class Merge(models.Model):
    """One merge of leads/opportunities into a survivor, with everything needed to undo it.

    ``merged_ids`` are the merged-away records in the order their values were taken. ``snapshot`` holds every
    row the merge changed as it was before (field values by model and primary key), the rows it added, and the
    survivor's values right after the merge (so that an unmerge restores exactly, and can tell a later edit),
    in the JSON form of :class:`~pheu.leads.services.merge_snapshot.MergeSnapshot`, which reads every
    snapshot stored so far; see :mod:`pheu.leads.services.merge`. ``undone_at`` is set by an unmerge; a merge
    is undone at most once.
    """

    survivor = models.ForeignKey(
        Lead, verbose_name=_("survivor"), on_delete=models.PROTECT, related_name="merges"
    )
    merged_ids = models.JSONField(_("merged records"), default=list)
    snapshot = models.JSONField(_("snapshot"), default=dict, encoder=DjangoJSONEncoder, editable=False)
    warnings = models.JSONField(_("warnings"), default=list, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("merged by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("merged at"), default=timezone.now)
    undone_at = models.DateTimeField(_("undone at"), null=True, blank=True)
    undone_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("undone by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("merge")
        verbose_name_plural = _("merges")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"#{self.pk} → {self.survivor_id}"

    @property
    def is_undone(self) -> bool:
        return self.undone_at is not None
