"""Forms of the assignment pages: a team's and a member's assignment settings (rules with live preview)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from pheu.leads.widgets import DomainField
from pheu.teams.models import Team, TeamMember


class TeamAssignmentForm(forms.ModelForm):
    assignment_domain = DomainField(required=False, label=_("Assignment rule"))

    class Meta:
        model = Team
        fields = [
            "assignment_domain",
            "min_score",
            "assignment_optout",
            "assignment_every_hours",
            "merge_duplicates_on_assignment",
        ]
        widgets = {
            "min_score": forms.NumberInput(attrs={"class": "form-control"}),
            "assignment_every_hours": forms.NumberInput(attrs={"class": "form-control", "min": 1}),
            "assignment_optout": forms.CheckboxInput(attrs={"class": "form-check-input"}),
            "merge_duplicates_on_assignment": forms.CheckboxInput(attrs={"class": "form-check-input"}),
        }


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
