"""Forms of the assignment pages: a team's and a member's assignment settings (rules with live preview)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from pheu.core.forms import DomainField, follow_setting_field
from pheu.core.models import PheuSettings
from pheu.teams.models import Team, TeamMember


class TeamAssignmentForm(forms.ModelForm):
    """A team's assignment settings, and its overrides of the installation's settings ("Follow the general
    setting", "Yes", "No")."""

    assignment_domain = DomainField(required=False, label=_("Assignment rule"))

    class Meta:
        model = Team
        fields = [
            "assignment_domain",
            "min_score",
            "assignment_optout",
            "assignment_every_hours",
            "use_leads",
            "merge_duplicates_on_assignment",
        ]
        widgets = {
            "min_score": forms.NumberInput(attrs={"class": "form-control"}),
            "assignment_every_hours": forms.NumberInput(attrs={"class": "form-control", "min": 1}),
            "assignment_optout": forms.CheckboxInput(attrs={"class": "form-check-input"}),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        general = PheuSettings.load()
        self.fields["use_leads"] = follow_setting_field(
            label=_("Use leads"),
            general=general.use_leads,
            help_text=_("No: everything this team receives enters as an opportunity."),
        )
        self.fields["merge_duplicates_on_assignment"] = follow_setting_field(
            label=_("Merge duplicates on assignment"),
            general=general.merge_duplicates_on_assignment,
            help_text=_(
                "A new lead this team receives with the e-mail of an open record (of any team) is merged "
                "into it instead of being assigned separately."
            ),
        )


class MemberAssignmentForm(forms.ModelForm):
    assignment_domain = DomainField(required=False, label=_("Assignment rule"))

    class Meta:
        model = TeamMember
        fields = ["assignment_domain", "capacity", "weight", "optout", "active", "away_from", "away_until"]
        widgets = {
            "capacity": forms.NumberInput(attrs={"class": "form-control"}),
            "weight": forms.NumberInput(attrs={"class": "form-control", "step": "0.1"}),
            "optout": forms.CheckboxInput(attrs={"class": "form-check-input"}),
            "active": forms.CheckboxInput(attrs={"class": "form-check-input"}),
            "away_from": forms.DateInput(attrs={"class": "form-control", "type": "date"}, format="%Y-%m-%d"),
            "away_until": forms.DateInput(attrs={"class": "form-control", "type": "date"}, format="%Y-%m-%d"),
        }
