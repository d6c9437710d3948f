from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class LeadType(models.TextChoices):
    LEAD = "lead", _("Lead")
    OPPORTUNITY = "opportunity", _("Opportunity")


class LeadRating(models.TextChoices):
    COLD = "cold", _("Cold")
    WARM = "warm", _("Warm")
    HOT = "hot", _("Hot")


class LeadPriority(models.IntegerChoices):
    NORMAL = 0, _("Normal")
    GOOD = 1, _("Good")
    VERY_GOOD = 2, _("Very good")
    EXCELLENT = 3, _("Excellent")


class CustomerType(models.TextChoices):
    NEW = "new", _("New customer")
    EXISTING = "existing", _("Existing customer")


class WonStatus(models.TextChoices):
    OPEN = "open", _("Open")
    WON = "won", _("Won")
    LOST = "lost", _("Lost")


class CompanySizeBand(models.TextChoices):
    """Bands of ``company_size`` (employees) used by rules and reports."""

    MICRO = "1-9", _("1–9 employees")
    SMALL = "10-49", _("10–49 employees")
    MEDIUM = "50-249", _("50–249 employees")
    LARGE = "250+", _("250+ employees")

    @classmethod
    def of(cls, employees: int | None) -> CompanySizeBand | None:
        if employees is None or employees < 1:
            return None
        if employees < 10:
            return cls.MICRO
        if employees < 50:
            return cls.SMALL
        if employees < 250:
            return cls.MEDIUM
        return cls.LARGE


# Fields whose every change is logged in the record's history.
TRACKED_FIELDS: tuple[str, ...] = (
    "type",
    "stage",
    "user",
    "team",
    "probability",
    "expected_revenue",
    "won_status",
    "lost_reason",
    "active",
)
