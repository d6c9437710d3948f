"""Sales teams and their members (SPEC section 1)."""

from __future__ import annotations

from datetime import date

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _


class Team(models.Model):
    """A sales team. ``use_leads`` None follows the installation setting."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    sequence = models.PositiveIntegerField(_("sequence"), default=10)
    active = models.BooleanField(_("active"), default=True)
    leader = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("team leader"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="led_teams",
    )
    use_leads = models.BooleanField(
        _("use leads"),
        null=True,
        blank=True,
        help_text=_("Empty: follow the installation setting. Off: everything enters as an opportunity."),
    )
    assignment_domain = models.TextField(
        _("assignment rule"),
        blank=True,
        help_text=_(
            "Leads this team takes, as a rule, e.g. [['country_id', 'in', ['Vietnam']]]. Empty: all."
        ),
    )
    min_score = models.IntegerField(_("minimum score"), default=0)
    assignment_optout = models.BooleanField(
        _("skip automatic assignment"),
        default=False,
        help_text=_("The team receives no leads from automatic assignment."),
    )
    assignment_every_hours = models.PositiveIntegerField(
        _("assign automatically every (hours)"),
        null=True,
        blank=True,
        help_text=_("The worker assigns this team's leads this often, e.g. 24 for daily. Empty: never."),
    )
    last_scheduled_assignment_at = models.DateTimeField(
        _("last scheduled assignment"), null=True, blank=True, editable=False
    )
    merge_duplicates_on_assignment = models.BooleanField(
        _("merge duplicates on assignment"),
        null=True,
        blank=True,
        default=None,
        help_text=_(
            "A new lead this team receives with the e-mail of an open record (of any team) is merged into it "
            "instead of being assigned separately. Empty: follow the installation setting."
        ),
    )
    email_alias = models.CharField(_("e-mail alias"), max_length=254, blank=True)
    form_key = models.CharField(
        _("web form key"),
        max_length=64,
        unique=True,
        null=True,
        blank=True,
        editable=False,
        help_text=_(
            "The secret part of the address of the team's web-to-lead form; regenerate it to revoke."
        ),
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("sales team")
        verbose_name_plural = _("sales teams")
        ordering = ["sequence", "id"]

    def __str__(self) -> str:
        return self.name

    def uses_leads(self, installation_default: bool) -> bool:
        return installation_default if self.use_leads is None else self.use_leads

    def merges_duplicates(self, installation_default: bool) -> bool:
        """Whether a new lead it receives is merged into an open record of its e-mail (SPEC 6)."""
        if self.merge_duplicates_on_assignment is None:
            return installation_default
        return self.merge_duplicates_on_assignment


class TeamMember(models.Model):
    """A salesperson's place in a team; a user may be in several teams."""

    team = models.ForeignKey(Team, verbose_name=_("team"), on_delete=models.CASCADE, related_name="members")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("salesperson"),
        on_delete=models.CASCADE,
        related_name="team_memberships",
    )
    assignment_domain = models.TextField(_("assignment rule"), blank=True)
    capacity = models.PositiveIntegerField(
        _("capacity"), default=30, help_text=_("Most leads assigned automatically per 30 days; 0 takes none.")
    )
    weight = models.DecimalField(
        _("weight"),
        max_digits=6,
        decimal_places=2,
        default=1,
        validators=[MinValueValidator(0)],
    )
    optout = models.BooleanField(_("skip automatic assignment"), default=False)
    active = models.BooleanField(_("active"), default=True)
    # Away (holiday, sick leave): inclusive dates; no end date means away until further notice.
    away_from = models.DateField(_("away from"), null=True, blank=True)
    away_until = models.DateField(_("away until"), null=True, blank=True)

    class Meta:
        verbose_name = _("team member")
        verbose_name_plural = _("team members")
        ordering = ["team", "user__username"]
        constraints = [models.UniqueConstraint(fields=["team", "user"], name="team_member_unique")]

    def __str__(self) -> str:
        return f"{self.user} ({self.team})"

    def is_away(self, day: date) -> bool:
        """Whether the member is away on ``day`` (between ``away_from`` and ``away_until``, inclusive)."""
        return (
            self.away_from is not None
            and self.away_from <= day
            and (self.away_until is None or day <= self.away_until)
        )
