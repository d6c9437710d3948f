"""Factories of activities for tests."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone

from pheu.activities.models import Activity


def make_activity(**kw: Any) -> Activity:
    """An activity saved directly (no service): due today, a call, assigned to its lead's salesperson."""
    if "assignee" not in kw:
        lead = kw.get("lead")
        kw["assignee"] = lead.user if lead is not None else None
    kw.setdefault("due_date", timezone.localdate())
    kw.setdefault("kind", "call")
    return Activity.objects.create(**kw)


def days(n: int) -> dt.date:
    """Today (local date) shifted by ``n`` days."""
    return timezone.localdate() + dt.timedelta(days=n)
