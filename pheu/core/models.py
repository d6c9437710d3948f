"""Installation settings and the history (chatter) shared by every record that has one."""

from __future__ import annotations

import functools
import uuid
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import connection, models
from django.db.models import Q
from django.utils import timezone
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from pheu.core.fields import model_field
from pheu.lib.names import language_name
from pheu.lib.phones import set_default_region

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise


class Currency(models.TextChoices):
    VND = "VND", _("Vietnamese đồng (₫)")
    USD = "USD", _("US dollar ($)")
    EUR = "EUR", _("Euro (€)")


PREDICTIVE_FIELDS: tuple[str, ...] = (
    "stage",
    "country",
    "state",
    "source",
    "language",
    "tags",
    "email_quality",
    "phone_quality",
)


# Their names as the settings page shows them (the scoring app's model pages use the same words).
PREDICTIVE_FIELD_LABELS: dict[str, Any] = {
    "stage": _("Stage"),
    "country": _("Country"),
    "state": _("State / province"),
    "source": _("Source"),
    "language": _("Language"),
    "tags": _("Tag"),
    "email_quality": _("E-mail"),
    "phone_quality": _("Phone"),
}


def default_predictive_fields() -> list[str]:
    return list(PREDICTIVE_FIELDS)


def default_phone_region() -> str:
    """A new installation's phone region: the server's ``PHEU_PHONE_REGION`` (``VN`` unless it says
    otherwise); managers change it on the settings page afterwards."""
    return str(settings.PHEU_PHONE_REGION).upper()


class PheuSettings(models.Model):
    """The installation-wide settings: exactly one row (``pk=1``), created on first read."""

    currency = models.CharField(_("currency"), max_length=3, choices=Currency.choices, default=Currency.VND)
    use_leads = models.BooleanField(
        _("use leads"),
        default=True,
        help_text=_("When off, everything that comes in is an opportunity (teams can override)."),
    )
    # On by default (issue 27): a new lead is assigned as it arrives rather than waiting for a schedule.
    # An installation that turned it off keeps its choice (the row holds it).
    realtime_assignment = models.BooleanField(
        _("assign in real time"),
        default=True,
        help_text=_("Assign each new lead to a team and a salesperson as soon as it is created."),
    )
    predictive_fields = models.JSONField(
        _("variables of the predictive probability"),
        default=default_predictive_fields,
        blank=True,
        help_text=_(
            "What the won/lost history is learnt by: stage, country, state, source, language, tags, "
            "email_quality, phone_quality."
        ),
    )
    probability_follows_prediction = models.BooleanField(
        _("probability follows the prediction"),
        default=False,
        help_text=_(
            "Records with automatic probability take the predicted probability instead of their stage's."
        ),
    )
    confirm_marks_won = models.BooleanField(
        _("confirming a quotation marks the opportunity won"),
        default=True,
    )
    # Teams follow it unless they say otherwise (Team.merge_duplicates_on_assignment None).
    merge_duplicates_on_assignment = models.BooleanField(
        _("merge duplicates on assignment"),
        default=False,
        help_text=_(
            "A new lead a team receives with the e-mail of an open record (of any team) is merged into it "
            "instead of being assigned separately (teams can override)."
        ),
    )
    # Read by every phone normalisation (pheu.lib.phones) through from_db() below: forms, API, web form,
    # imports, e-mail intake. Records keep the keys they were given; numbers typed or changed afterwards are
    # read in the new region.
    phone_region = models.CharField(
        _("default phone region"),
        max_length=2,
        default=default_phone_region,
        help_text=_("Phone numbers typed without a country code are read as numbers of this country."),
    )
    # The duplicate matcher's thresholds (pheu.leads.matching): a match probability in percent.
    duplicate_show_threshold = models.PositiveSmallIntegerField(
        _("show as similar from (%)"),
        default=60,
        validators=[MinValueValidator(1), MaxValueValidator(100)],
        help_text=_("A record at least this likely to be the same person is listed as similar."),
    )
    duplicate_merge_threshold = models.PositiveSmallIntegerField(
        _("propose merge from (%)"),
        default=90,
        validators=[MinValueValidator(1), MaxValueValidator(100)],
        help_text=_("A record at least this likely to be the same person is proposed for merge."),
    )
    # The matcher's weights trained on this base (`pheu duplicates --train`); empty: the shipped ones.
    duplicate_weights = models.JSONField(
        _("duplicate matcher weights"), default=dict, blank=True, editable=False
    )
    # Drawn anew in the transaction of every change of a scoring rule: a process keeps the active rules it
    # read while this stays the same (pheu.scoring.services.active_rules), so creating a lead, which reads
    # these settings anyway, reads no rule. Random, not a counter: a rolled-back change leaves a value that
    # no later change can take again.
    scoring_rules_stamp = models.UUIDField(default=uuid.uuid4, editable=False)
    # The events at least one active webhook endpoint listens to, rewritten by pheu.webhooks.services in the
    # transaction of every change of an endpoint: the services that fire events read these settings (most
    # of them anyway), so a write with no endpoint listening costs no query for webhooks, in every process.
    webhook_events = models.JSONField(default=list, blank=True, editable=False)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("settings")
        verbose_name_plural = _("settings")

    def __str__(self) -> str:
        return str(_("Pheu settings"))

    @classmethod
    def from_db(cls, db: str | None, field_names: Any, values: Any) -> PheuSettings:
        # Every read of the row (load(), the web form's own SELECT, the ORM) tells the phone parser the
        # region, at no cost: it imports no app, and a query of its own on each parse would be one per save.
        loaded = super().from_db(db, field_names, values)
        if "phone_region" in loaded.__dict__:
            set_default_region(loaded.phone_region)
        return loaded

    def clean(self) -> None:
        if self.duplicate_merge_threshold < self.duplicate_show_threshold:
            message = _("The merge threshold cannot be below the “show as similar” threshold.")
            raise ValidationError({"duplicate_merge_threshold": [message]})

    @classmethod
    def load(cls) -> PheuSettings:
        """The installation's settings (made with their defaults the first time). Read on every lead
        creation: a hand-written SELECT, since the ORM's form cost ≈ 0.4 ms of Python to compile."""
        columns = _settings_columns()
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT {columns.select()} FROM {columns.table()} p WHERE p.id = 1")
            row = cursor.fetchone()
        if row is not None:
            found = columns.instance(row)
            assert isinstance(found, cls)
            return found
        obj, _created = cls.objects.get_or_create(pk=1)
        return obj


class HistoryKind(models.TextChoices):
    CREATED = "created", pgettext_lazy("history entry kind", "Created")
    NOTE = "note", _("Note")
    CHANGE = "change", _("Change")
    EMAIL = "email", _("E-mail")
    ACTIVITY = "activity", _("Activity")
    SYSTEM = "system", _("System")


class HistoryEntry(models.Model):
    """One line of a record's history: a note, an e-mail, or the tracked field changes of one save.

    ``changes`` is a list of ``{"field", "old", "new", "old_id", "new_id"}``: ``old``/``new`` are the values
    as shown when the change happened (names for relations, raw values for choices — rendered through the
    field's choices at display time, so they follow the reader's language); ``*_id`` keep relation ids.
    """

    # Indexed by history_record_idx (which leads with it); the author only where there is one (automatic
    # changes — assignment, imports, captures — have none): every entry is an insert into each index.
    # The content type has no database constraint: a run that assigns 100,000 leads writes as many
    # entries, and each would be one more row-by-row check at commit (≈ 0.3 s); content types are rows
    # Django itself keeps, and deleting one still deletes its entries (the ORM's cascade).
    content_type = models.ForeignKey(
        ContentType, on_delete=models.CASCADE, db_index=False, db_constraint=False
    )
    object_id = models.PositiveBigIntegerField()
    record = GenericForeignKey("content_type", "object_id")
    kind = models.CharField(_("kind"), max_length=16, choices=HistoryKind.choices)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("author"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
    )
    created_at = models.DateTimeField(_("date"), default=timezone.now)
    body = models.TextField(_("text"), blank=True)
    changes = models.JSONField(_("changes"), default=list, blank=True)
    # Not stored: what the record of a "created" entry was created as, when the timeline knows it
    # (pheu.core.history names it: "opportunity", not "lead").
    created_as: StrOrPromise | None = None

    class Meta:
        verbose_name = _("history entry")
        verbose_name_plural = _("history")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["content_type", "object_id", "-created_at"], name="history_record_idx"),
            models.Index(fields=["author"], name="history_author_idx", condition=Q(author__isnull=False)),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.created_at:%Y-%m-%d %H:%M}"

    def summary(self) -> str:
        """The entry's text in the reader's language: "created" entries store none and are worded here."""
        if self.kind == HistoryKind.CREATED and not self.body:
            model = self.content_type.model_class()
            record = model._meta.verbose_name if model is not None else self.content_type.model
            # What the record was created as, when the timeline knows it ("opportunity", not "lead").
            if getattr(self, "created_as", None):
                record = str(self.created_as).lower()
            return capfirst(_("%(record)s created") % {"record": record})
        return self.body

    def changes_for_display(self) -> list[dict[str, Any]]:
        """The changes with field labels and choice values in the active language."""
        model = self.content_type.model_class()
        rows = []
        for change in self.changes:
            label: Any = change["field"]
            old, new = change.get("old"), change.get("new")
            if model is not None:
                field: models.Field[Any, Any] | None
                try:
                    field = model_field(model, change["field"])
                except Exception:  # a field removed since: show its stored name
                    field = None
                if field is not None:
                    label = field.verbose_name
                    choices = dict(getattr(field, "flatchoices", None) or [])
                    if choices:
                        old, new = choices.get(old, old), choices.get(new, new)
                    elif field.name == "language":  # a language code, free text: its name ("Tiếng Việt")
                        old, new = language_name(old) or old, language_name(new) or new
            rows.append({"field": change["field"], "label": label, "old": old, "new": new})
        return rows


class WorkerHeartbeat(models.Model):
    """Last sign of life of each running ``pheu worker`` (shown by ``/healthz``)."""

    name = models.CharField(max_length=200, unique=True)
    seen_at = models.DateTimeField()

    class Meta:
        verbose_name = _("worker heartbeat")
        verbose_name_plural = _("worker heartbeats")

    def __str__(self) -> str:
        return self.name


class PeriodicJob(models.Model):
    """When a periodic job (see ``pheu.core.periodic``) was last put in the queue, by any worker.

    Shared by all workers so that a job is enqueued once per period however many workers run, and so that a
    restart neither skips a job nor runs it again early. Rows are created on demand; ``last_enqueued_at`` is
    null until the first run.
    """

    name = models.CharField(max_length=100, unique=True)
    last_enqueued_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("periodic job")
        verbose_name_plural = _("periodic jobs")

    def __str__(self) -> str:
        return self.name


@functools.cache
def _settings_columns() -> Any:
    from pheu.core.rows import ModelColumns  # rows imports nothing of the models

    return ModelColumns(PheuSettings, "p")


class Counter(models.Model):
    """A count shared by every process, for one fixed window (rate limits), when there is no Redis.

    Written only by :func:`pheu.core.counters.count_hit`, one ``INSERT … ON CONFLICT DO UPDATE`` a hit, so
    that concurrent processes never lose a hit. ``key`` holds the window's number; rows past
    ``expires_at`` are deleted by the daily prune.
    """

    key = models.CharField(max_length=250, primary_key=True)
    count = models.PositiveIntegerField(default=0)
    expires_at = models.DateTimeField(db_index=True)

    class Meta:
        verbose_name = _("counter")
        verbose_name_plural = _("counters")

    def __str__(self) -> str:
        return f"{self.key}: {self.count}"
