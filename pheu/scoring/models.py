"""Scoring records: scoring rules, the page views of leads' visitors, runs of the set-based re-scoring, and
the predictive model (its per-record samples and the frequency tables learnt from them)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from pheu.leads.models import Lead
from pheu.lib.text import text_key


class ScoringRule(models.Model):
    """Points given to every open lead its domain selects. A lead's ``score`` is the sum of the points of
    the active rules it matches. ``window_days`` (decay) keeps, in its to-many conditions on dated records
    (page views), only the records of the last N days."""

    name = models.CharField(_("name"), max_length=100)
    domain = models.TextField(
        _("rule"), blank=True, help_text=_("The leads that get the points; empty: all.")
    )
    points = models.IntegerField(_("points"), help_text=_("Negative to take points away."))
    window_days = models.PositiveIntegerField(
        _("counts the last (days)"),
        null=True,
        blank=True,
        help_text=_("Page views older than this many days no longer count (empty: all of them)."),
    )
    active = models.BooleanField(_("active"), default=True)
    sequence = models.PositiveIntegerField(_("sequence"), default=10)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("scoring rule")
        verbose_name_plural = _("scoring rules")
        ordering = ["sequence", "id"]

    def __str__(self) -> str:
        return self.name


class PageView(models.Model):
    """One page of the website seen by a visitor: a lead's, or an anonymous visitor's until it is linked.

    ``url_key`` is the full ``text_key`` of ``url`` (unaccented, lower-case, never truncated), kept by
    :meth:`normalize` on save and on every bulk path; the rule language's ``ilike`` compares it, so that
    matching is the same on SQLite and PostgreSQL. A view with no lead has a ``visitor_id`` (the first-party
    cookie of the tracking snippet) or an ``email``: it becomes the lead's when that visitor submits the
    web-to-lead form or a lead with that e-mail is created.
    """

    lead = models.ForeignKey(
        Lead,
        verbose_name=_("lead"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="pageviews",
    )
    url = models.CharField(_("URL"), max_length=2000)
    url_key = models.TextField(blank=True, editable=False)
    visitor_id = models.CharField(_("visitor ID"), max_length=100, blank=True)
    email_normalized = models.CharField(_("e-mail"), max_length=254, blank=True)
    created_at = models.DateTimeField(_("viewed at"), default=timezone.now)

    class Meta:
        verbose_name = _("page view")
        verbose_name_plural = _("page views")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["lead", "-created_at"], name="pageview_lead_idx"),
            models.Index(
                fields=["visitor_id"],
                name="pageview_visitor_idx",
                condition=Q(lead__isnull=True) & ~Q(visitor_id=""),
            ),
            models.Index(
                fields=["email_normalized"],
                name="pageview_email_idx",
                condition=Q(lead__isnull=True) & ~Q(email_normalized=""),
            ),
        ]

    def __str__(self) -> str:
        return self.url

    def save(self, *args, **kwargs) -> None:
        self.normalize()
        update_fields = kwargs.get("update_fields")
        if update_fields is not None:
            kwargs["update_fields"] = {*update_fields, "url_key"}
        super().save(*args, **kwargs)

    def normalize(self) -> None:
        """Recompute ``url_key`` from ``url`` (save() and bulk paths call this)."""
        self.url_key = text_key(self.url)


class RescoreRun(models.Model):
    """One re-scoring of the open leads, for its progress display and its record."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    reason = models.CharField(_("reason"), max_length=200, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.QUEUED)
    total = models.PositiveIntegerField(_("leads to check"), default=0)
    done = models.PositiveIntegerField(_("leads checked"), default=0)
    changed = models.PositiveIntegerField(_("scores changed"), default=0)
    error = models.TextField(_("error"), blank=True)
    # The conditions of the changed rule, before and after ({"domain": …, "window_days": …}): only the open
    # leads matching one of them can change score. Empty: every open lead is checked.
    scope = models.JSONField(_("scope"), default=list, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("started"), auto_now_add=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)

    class Meta:
        verbose_name = _("re-scoring")
        verbose_name_plural = _("re-scorings")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.reason} ({self.get_status_display()})"

    @property
    def percent(self) -> int:
        return 100 if not self.total else min(100, round(100 * self.done / self.total))


class ModelSample(models.Model):
    """What one closed record currently teaches the predictive model: its team, outcome and the values of
    its variables, as a list of "variable:value" tokens (``["stage:1", "country:VN", "tags:3", "tags:7"]``;
    ``prediction.decode_features`` reads them by variable). The frequency tables are the sum of the samples,
    kept equal to it incrementally; a rebuild recomputes both from the records."""

    # No database constraint: a rebuild writes a sample per closed record, and PostgreSQL would check a
    # million deferred foreign keys one by one at commit (most of a rebuild's time). Deleting a record
    # through Django still deletes its sample; the samples are derived data that a rebuild recomputes.
    lead = models.OneToOneField(
        Lead, on_delete=models.CASCADE, primary_key=True, related_name="+", db_constraint=False
    )
    team_key = models.PositiveIntegerField()  # the team's id, 0 for records without a team
    won = models.BooleanField()
    features = models.JSONField(default=list)

    def __str__(self) -> str:
        return f"lead {self.lead_id}: {'won' if self.won else 'lost'}"


class Frequency(models.Model):
    """How many won and lost records of a team had a value of a variable (``variable`` ``""`` and value
    ``""``: all the team's records)."""

    team_key = models.PositiveIntegerField()
    variable = models.CharField(max_length=20)
    value = models.CharField(max_length=200)
    won = models.IntegerField(default=0)
    lost = models.IntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["team_key", "variable", "value"], name="frequency_unique")
        ]

    def __str__(self) -> str:
        return f"team {self.team_key} {self.variable}={self.value}: {self.won}/{self.lost}"


class RebuildStatus(models.TextChoices):
    IDLE = "idle", _("Done")
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Running")
    FAILED = "failed", _("Failed")


class ModelState(models.Model):
    """The predictive model's single state row (``pk=1``): when it last changed and how well it separates
    won from lost records (AUC on the most recently closed 20%, at most 50,000, measured at the last
    rebuild)."""

    version = models.PositiveBigIntegerField(default=0)
    rebuilt_at = models.DateTimeField(null=True, blank=True)
    samples = models.PositiveIntegerField(default=0)
    auc = models.FloatField(null=True, blank=True)
    auc_samples = models.PositiveIntegerField(default=0)
    predicted_version = models.PositiveBigIntegerField(default=0)
    predicted_at = models.DateTimeField(null=True, blank=True)
    # A rebuild asked for on a large history runs in the background: its state, for the model page.
    rebuild_status = models.CharField(
        _("rebuild"), max_length=10, choices=RebuildStatus.choices, default=RebuildStatus.IDLE
    )
    rebuild_asked_at = models.DateTimeField(null=True, blank=True)
    rebuild_error = models.TextField(blank=True)

    def __str__(self) -> str:
        return f"model v{self.version}"

    @property
    def rebuilding(self) -> bool:
        return self.rebuild_status in (RebuildStatus.QUEUED, RebuildStatus.RUNNING)

    @classmethod
    def load(cls) -> ModelState:
        obj, _created = cls.objects.get_or_create(pk=1)
        return obj
