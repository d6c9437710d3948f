"""Reads of activities: chainable, visibility first, every later filter only narrows."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import models
from django.db.models import Q
from django.utils import timezone


class ActivityQuerySet(models.QuerySet):
    def visible_to(self, user: Any) -> ActivityQuerySet:
        """The activities ``user`` may see and complete: those of the leads they may see
        (``Lead.objects.visible_to``), those of customers (every user sees customers), and those given to
        them whatever the record."""
        if user is None or not user.is_authenticated or not user.is_active:
            return self.none()
        if user.sees_all_records:
            return self
        from pheu.leads.models import Lead

        leads = Lead.objects.visible_to(user).values("pk")
        return self.filter(Q(lead__in=leads) | Q(lead__isnull=True) | Q(assignee=user))

    def open(self) -> ActivityQuerySet:
        return self.filter(done_at__isnull=True)

    def done(self) -> ActivityQuerySet:
        return self.filter(done_at__isnull=False)

    def assigned_to(self, user: Any) -> ActivityQuerySet:
        return self.filter(assignee=user)

    def in_calendar_of(self, user: Any) -> ActivityQuerySet:
        """The activities on ``user``'s calendar: given to them, or with them among the attendees."""
        return self.filter(Q(assignee=user) | Q(attendees=user)).distinct()

    def overdue(self, today: dt.date | None = None) -> ActivityQuerySet:
        return self.open().filter(due_date__lt=today or timezone.localdate())

    def due_today(self, today: dt.date | None = None) -> ActivityQuerySet:
        return self.open().filter(due_date=today or timezone.localdate())

    def planned(self, today: dt.date | None = None) -> ActivityQuerySet:
        return self.open().filter(due_date__gt=today or timezone.localdate())

    def in_state(self, state: str, today: dt.date | None = None) -> ActivityQuerySet:
        """Narrow to one :class:`~pheu.activities.choices.ActivityState` (unknown: unchanged)."""
        by_state = {
            "overdue": self.overdue,
            "today": self.due_today,
            "planned": self.planned,
        }
        if state == "done":
            return self.done()
        return by_state[state](today) if state in by_state else self

    def for_list(self) -> ActivityQuerySet:
        """Load what a list row shows in the same query."""
        return self.select_related("lead", "partner", "partner__parent", "assignee")
