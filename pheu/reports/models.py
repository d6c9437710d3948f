"""Monthly sales targets per team, set by managers and shown against the forecast."""

from __future__ import annotations

from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from pheu.teams.models import Team


class SalesTarget(models.Model):
    """What a team should win in one calendar month (revenue, in the installation's currency).

    ``month`` is the first day of the month (a check constraint holds it there), so that one target per team
    and month is a unique constraint and the forecast joins it by equality.
    """

    team = models.ForeignKey(Team, verbose_name=_("team"), on_delete=models.CASCADE, related_name="targets")
    month = models.DateField(_("month"), help_text=_("The first day of the month."))
    amount = models.DecimalField(
        _("target revenue"), max_digits=18, decimal_places=2, validators=[MinValueValidator(0)]
    )

    class Meta:
        verbose_name = _("sales target")
        verbose_name_plural = _("sales targets")
        ordering = ["month", "team"]
        constraints = [
            models.UniqueConstraint(fields=["team", "month"], name="sales_target_unique_month"),
            models.CheckConstraint(condition=Q(month__day=1), name="sales_target_first_day"),
            models.CheckConstraint(condition=Q(amount__gte=0), name="sales_target_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.team} {self.month:%Y-%m}: {self.amount}"

    def save(self, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
        self.month = self.month.replace(day=1)  # any day typed names its month
        super().save(*args, **kwargs)
