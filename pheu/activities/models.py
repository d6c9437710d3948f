"""Activities: calls, meetings, e-mails and to-dos planned on a lead/opportunity or on a customer."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from pheu.activities.choices import KIND_ICONS, ActivityKind, ActivityState
from pheu.activities.querysets import ActivityQuerySet
from pheu.contacts.models import Partner
from pheu.leads.models import Lead


class Activity(models.Model):
    """Something to do about one record — a lead/opportunity *or* a customer, never both nor neither.

    Open while ``done_at`` is null; its state (overdue, today, planned) follows from ``due_date`` and the
    local date (``timezone.localdate()``), so it is computed, never stored. Completing it stores ``done_at``,
    ``done_by`` and the ``feedback``, and writes an ``activity`` entry in the record's history.
    """

    lead = models.ForeignKey(
        Lead,
        verbose_name=_("lead"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="activities",
    )
    partner = models.ForeignKey(
        Partner,
        verbose_name=_("customer"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="activities",
    )
    kind = models.CharField(_("type"), max_length=10, choices=ActivityKind.choices, default=ActivityKind.TODO)
    summary = models.CharField(_("summary"), max_length=200, blank=True)
    note = models.TextField(_("note"), blank=True)
    due_date = models.DateField(_("due date"))
    # A meeting (or any activity) at a time of day, in the installation's time zone; none: all day.
    start_time = models.TimeField(_("time"), null=True, blank=True)
    duration_minutes = models.PositiveIntegerField(
        _("duration (minutes)"), null=True, blank=True, help_text=_("Empty: one hour for a timed activity.")
    )
    attendees = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("attendees"),
        blank=True,
        related_name="meetings_attended",
        help_text=_("Colleagues who take part besides the assignee (their calendars show it too)."),
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("assigned to"),
        on_delete=models.PROTECT,
        related_name="activities",
    )
    done_at = models.DateTimeField(_("done"), null=True, blank=True)
    done_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("done by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    feedback = models.TextField(_("feedback"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    objects = ActivityQuerySet.as_manager()

    class Meta:
        verbose_name = _("activity")
        verbose_name_plural = _("activities")
        ordering = ["due_date", "id"]
        indexes = [
            # "My activities" and the overdue filters: the open ones of a person, by date.
            models.Index(
                fields=["assignee", "due_date"], name="activity_open_assignee_idx", condition=Q(done_at=None)
            ),
            models.Index(fields=["due_date"], name="activity_open_due_idx", condition=Q(done_at=None)),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(lead__isnull=False, partner__isnull=True)
                | Q(lead__isnull=True, partner__isnull=False),
                name="activity_one_record",
            )
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def title(self) -> str:
        """The summary, or the type when there is none."""
        return self.summary or str(self.get_kind_display())

    @property
    def record(self) -> Lead | Partner:
        return self.lead if self.lead_id else self.partner  # type: ignore[return-value]  # one of the two is set (a check constraint)

    @property
    def icon(self) -> str:
        return KIND_ICONS.get(self.kind, "bi-check2-square")

    def state(self, today: dt.date | None = None) -> ActivityState:
        if self.done_at is not None:
            return ActivityState.DONE
        today = today or timezone.localdate()
        if self.due_date < today:
            return ActivityState.OVERDUE
        if self.due_date == today:
            return ActivityState.TODAY
        return ActivityState.PLANNED

    @property
    def current_state(self) -> ActivityState:
        return self.state()

    DEFAULT_MINUTES = 60

    def starts_at(self) -> dt.datetime | None:
        """When it starts (aware, in the installation's time zone); None for an all-day activity."""
        if self.start_time is None:
            return None
        return timezone.make_aware(dt.datetime.combine(self.due_date, self.start_time))

    def ends_at(self) -> dt.datetime | None:
        start = self.starts_at()
        if start is None:
            return None
        return start + dt.timedelta(minutes=self.duration_minutes or self.DEFAULT_MINUTES)


class CalendarFeed(models.Model):
    """The secret address of a user's calendar feed (``.ics``) that a calendar app subscribes to: whoever
    knows the token reads that user's meetings, so it is random (192 bits) and can be replaced."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="calendar_feed",
        verbose_name=_("user"),
    )
    token = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        verbose_name = _("calendar feed")
        verbose_name_plural = _("calendar feeds")

    def __str__(self) -> str:
        return str(self.user)
