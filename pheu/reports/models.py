"""Monthly sales targets per team, set by managers and shown against the forecast."""

from __future__ import annotations

from typing import Any

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

    def save(self, *args, **kwargs) -> None:
        self.month = self.month.replace(day=1)  # any day typed names its month
        super().save(*args, **kwargs)


def _ref(model: str) -> Any:
    """A summary's dimension: an id, no database constraint (a row describes history, names only ids) and no
    index of its own (the rows are read by day, or all of them)."""
    return models.ForeignKey(
        model, null=True, on_delete=models.DO_NOTHING, db_constraint=False, db_index=False, related_name="+"
    )


class CohortDay(models.Model):
    """The records created on one local day (merged-away ones excepted), per team × salesperson × source ×
    medium × campaign × lost reason (of the lost ones): how many, how many became opportunities, were won
    or lost, and their won and lost expected revenue — what the funnel, the sources and the lost reasons
    sum instead of the records.

    Written by database triggers on the lead table only (:mod:`pheu.reports.summaries`), as signed rows
    (+1 when a record enters a row, −1 when it leaves it) that the periodic compaction folds.
    """

    day = models.DateField()
    team = _ref("teams.Team")
    user = _ref("accounts.User")
    source = _ref("leads.Source")
    medium = _ref("leads.Medium")
    campaign = _ref("leads.Campaign")
    lost_reason = _ref("leads.LostReason")
    created = models.IntegerField()
    opportunities = models.IntegerField()
    won = models.IntegerField()
    lost = models.IntegerField()
    won_revenue = models.DecimalField(max_digits=24, decimal_places=2)
    lost_revenue = models.DecimalField(max_digits=24, decimal_places=2)

    class Meta:
        indexes = [models.Index(fields=["day"], name="reports_cohort_day")]

    def __str__(self) -> str:
        return f"{self.day} {self.team_id}/{self.user_id}: created {self.created}"


class CohortStep(models.Model):
    """How many records created on one local day (merged-away ones excepted), per team × salesperson ×
    source, took exactly ``days`` from creation to conversion (``step`` 1) or from conversion — or creation
    as an opportunity — to being won (``step`` 2): the histogram the funnel's medians are read from. The
    value is the one the record query computes, so the medians are the same."""

    day = models.DateField()
    team = _ref("teams.Team")
    user = _ref("accounts.User")
    source = _ref("leads.Source")
    step = models.SmallIntegerField()
    days = models.FloatField()
    count = models.IntegerField()

    class Meta:
        indexes = [models.Index(fields=["day"], name="reports_step_day")]

    def __str__(self) -> str:
        return f"{self.day} {self.team_id}/{self.user_id}: {self.count} × {self.days} days"


class ClosedDay(models.Model):
    """The records closed (won or lost) on one local day, per team × salesperson and whether merged away:
    how many won and lost and the won expected revenue (the forecast's "won so far", the dashboard's
    month). Kept like :class:`CohortDay`."""

    day = models.DateField()
    team = _ref("teams.Team")
    user = _ref("accounts.User")
    merged = models.BooleanField()
    won = models.IntegerField()
    lost = models.IntegerField()
    won_revenue = models.DecimalField(max_digits=24, decimal_places=2)

    class Meta:
        indexes = [models.Index(fields=["day"], name="reports_closed_day")]

    def __str__(self) -> str:
        return f"{self.day} {self.team_id}/{self.user_id}: won {self.won}, lost {self.lost}"


class OpenTotal(models.Model):
    """The open opportunities (active, status open) per team × salesperson × stage × expected closing date:
    how many, expected and weighted revenue (expected × probability ÷ 100) — the pipeline and the forecast.
    Kept like :class:`CohortDay`."""

    team = _ref("teams.Team")
    user = _ref("accounts.User")
    stage = _ref("leads.Stage")
    close_date = models.DateField(null=True)
    count = models.IntegerField()
    expected_revenue = models.DecimalField(max_digits=24, decimal_places=2)
    weighted_revenue = models.DecimalField(max_digits=30, decimal_places=6)

    def __str__(self) -> str:
        return f"{self.team_id}/{self.user_id}/{self.stage_id}: {self.count}, {self.expected_revenue}"


class AssignedRecord(models.Model):
    """One row per record that has a salesperson and an assignment time: its team and salesperson, when it
    was assigned, and when its first activity since that assignment was created (null: none yet) — what the
    assignment report's and the manager dashboard's median days to the first activity and counts of records
    without one read instead of the records and their activities.

    Kept by database triggers on the lead table (a record enters, moves, leaves; a new assignment time looks
    for the activities created since) and on the activity table (an activity added, deleted, moved to another
    record by a merge): :mod:`pheu.reports.firsts`. Not signed rows: one row per record, written in place.
    """

    lead_id = models.BigIntegerField(primary_key=True)
    team = _ref("teams.Team")
    user = _ref("accounts.User")
    assigned_at = models.DateTimeField()
    first_activity_at = models.DateTimeField(null=True)

    class Meta:
        indexes = [models.Index(fields=["assigned_at"], name="reports_assigned_at")]

    def __str__(self) -> str:
        return f"{self.lead_id} {self.user_id} {self.assigned_at:%Y-%m-%d}: {self.first_activity_at}"


class ActivityDay(models.Model):
    """Activities per assignee × type × their record — a lead's team and salesperson, or none for a
    customer's (``on_lead`` false) —, the open ones by due date, the done ones by the local day they were done
    (days before the current month folded into the month's first): how many — what the activities report
    sums instead of the activities.

    Kept by database triggers on the activity table (added, changed, done, deleted, moved by a merge) and on
    the lead table (a record's team or salesperson changed moves its activities), as signed rows that the
    periodic compaction folds: :mod:`pheu.reports.agenda`.
    """

    assignee = _ref("accounts.User")
    kind = models.CharField(max_length=10)
    on_lead = models.BooleanField()
    team = _ref("teams.Team")
    user = _ref("accounts.User")
    due_date = models.DateField(null=True)  # the open ones
    done_day = models.DateField(null=True)  # the done ones
    count = models.IntegerField()

    def __str__(self) -> str:
        return f"{self.assignee_id} {self.kind} {self.due_date or self.done_day}: {self.count}"
