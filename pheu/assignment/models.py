"""Assignment runs and the decision recorded for each lead they assigned (SPEC section 5)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from pheu.leads.models import Lead
from pheu.teams.models import Team, TeamMember


class AssignmentTrigger(models.TextChoices):
    REALTIME = "realtime", _("On creation")
    SCHEDULE = "schedule", _("Schedule")
    MANUAL = "manual", _("Button")
    API = "api", _("API")
    CLI = "cli", _("Command line")
    IMPORT = "import", _("Import")
    REDISTRIBUTE = "redistribute", _("Redistribution")


class AssignmentRun(models.Model):
    """One run of the assignment service that wrote something (dry runs are not stored).

    ``counts`` is ``{"teams": {team_id: n}, "members": {member_id: n}}`` (JSON keys are strings): the leads
    the run gave to each team, and to each member. ``rules`` keeps the rules the run used, as they were
    (``{"teams": {id: text}, "members": {id: text}}``), so explanations stay true after a rule changes.
    """

    started_at = models.DateTimeField(_("started"))
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("started by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    trigger = models.CharField(_("trigger"), max_length=16, choices=AssignmentTrigger.choices)
    team = models.ForeignKey(
        Team,
        verbose_name=_("for team"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="assignment_runs",
    )
    considered = models.PositiveIntegerField(_("leads considered"), default=0)
    teamed = models.PositiveIntegerField(_("given a team"), default=0)
    assigned = models.PositiveIntegerField(_("given a salesperson"), default=0)
    converted = models.PositiveIntegerField(_("converted to opportunities"), default=0)
    counts = models.JSONField(_("counts"), default=dict, blank=True)
    rules = models.JSONField(_("rules"), default=dict, blank=True)

    class Meta:
        verbose_name = _("assignment run")
        verbose_name_plural = _("assignment runs")
        ordering = ["-started_at", "-id"]

    def __str__(self) -> str:
        return f"#{self.pk} {self.get_trigger_display()} {self.started_at:%Y-%m-%d %H:%M}"


class AssignmentDecision(models.Model):
    """Why a lead was given a team and/or a salesperson: the rules that matched, its score, the member's
    capacity left after it. The newest decision of a lead is its current explanation; a lead whose
    salesperson differs from its newest decision's was assigned by hand since (manual assignment wins).
    ``run`` is empty for real-time assignment on creation.

    A run writes one decision per lead, so each index and foreign-key check costs once per lead (100,000
    checks at commit for a large run): the links have no database constraint — Django deletes a lead's or a
    run's decisions with them, and empties the team, salesperson and member links when those are deleted
    (a rare administrative act, which then reads the table once: those links have no index either). The
    lead's index is the (lead, -id) one below; the run has its own.
    """

    run = models.ForeignKey(
        AssignmentRun,
        verbose_name=_("run"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="decisions",
        db_constraint=False,
    )
    lead = models.ForeignKey(
        Lead,
        verbose_name=_("lead"),
        on_delete=models.CASCADE,
        related_name="assignment_decisions",
        db_index=False,
        db_constraint=False,
    )
    created_at = models.DateTimeField(_("date"))
    team = models.ForeignKey(
        Team,
        verbose_name=_("team"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_constraint=False,
        db_index=False,
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("salesperson"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_constraint=False,
        db_index=False,
    )
    member = models.ForeignKey(
        TeamMember,
        verbose_name=_("member"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_constraint=False,
        db_index=False,
    )
    previous_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("previous salesperson"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_constraint=False,
        db_index=False,
    )
    # True when this decision chose the team (the lead had none); False: the team was already set.
    team_chosen = models.BooleanField(_("team chosen"), default=False)
    team_rule = models.TextField(_("team rule"), blank=True)
    min_score = models.IntegerField(_("minimum score"), null=True)
    member_rule = models.TextField(_("member rule"), blank=True)
    score = models.IntegerField(_("score"))
    capacity = models.PositiveIntegerField(_("capacity"), null=True)
    capacity_left = models.IntegerField(_("capacity left"), null=True)
    converted = models.BooleanField(_("converted to opportunity"), default=False)

    class Meta:
        verbose_name = _("assignment decision")
        verbose_name_plural = _("assignment decisions")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["lead", "-id"], name="assignment_decision_lead_idx")]

    def __str__(self) -> str:
        return f"{self.lead_id} → {self.team_id}/{self.user_id}"


class MemberLoadDay(models.Model):
    """How many leads a salesperson holds in a team that were assigned on one day (UTC): the capacity counts.

    Kept by database triggers on ``leads_lead`` (:mod:`pheu.assignment.loads`) in the writer's transaction,
    whatever wrote the lead (assignment runs, a person, a merge, an import's ``COPY``, a delete): one row per
    (team, salesperson, day), so that a member's leads of the last 30 days are a sum of at most 31 rows
    instead of a count over every lead they hold (SPEC 13: a creation costs the same at 1,000,000 leads).
    ``count`` may be 0 (a lead moved away). Not a Django relation on purpose: no constraint to check on
    each change, and nothing to delete with a team or a user (their leads' rows go with the leads).
    """

    team_id = models.BigIntegerField()
    user_id = models.BigIntegerField()
    day = models.DateField()
    count = models.IntegerField(default=0)

    class Meta:
        verbose_name = _("member load per day")
        verbose_name_plural = _("member loads per day")
        constraints = [
            models.UniqueConstraint(fields=["team_id", "user_id", "day"], name="assignment_memberloadday_key")
        ]

    def __str__(self) -> str:
        return f"team {self.team_id}, user {self.user_id}, {self.day}: {self.count}"


class ConfigVersion(models.Model):
    """One row: a token that changes, in the writer's transaction, with every change to what real-time
    assignment decides from — teams, members, their users' names and status, stages, the installation's
    lead settings (database triggers: :mod:`pheu.assignment.config_cache`). A process keeps the config it
    read under this token and reads it again only when the token differs."""

    ROW_ID = 1  # the one row's id

    token = models.CharField(max_length=32)

    class Meta:
        verbose_name = _("assignment configuration version")
        verbose_name_plural = _("assignment configuration versions")

    def __str__(self) -> str:
        return self.token
