from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class ActivityKind(models.TextChoices):
    CALL = "call", _("Call")
    MEETING = "meeting", _("Meeting")
    EMAIL = "email", _("E-mail")
    TODO = "todo", _("To-do")


class ActivityState(models.TextChoices):
    """Where an activity stands, from its due date and today's date (in the installation's time zone)."""

    OVERDUE = "overdue", _("Overdue")
    TODAY = "today", _("Today")
    PLANNED = "planned", _("Planned")
    DONE = "done", _("Done")


KIND_ICONS: dict[str, str] = {
    ActivityKind.CALL: "bi-telephone",
    ActivityKind.MEETING: "bi-people",
    ActivityKind.EMAIL: "bi-envelope",
    ActivityKind.TODO: "bi-check2-square",
}
