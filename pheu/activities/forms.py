"""Forms of activities and of the e-mail sent from a record (they parse; the services decide)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth import get_user_model
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from pheu.accounts.forms import UsersChoiceField
from pheu.activities.choices import ActivityKind
from pheu.core.forms import BootstrapFormMixin, form_field


class AssigneeChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return obj.display_name


class ActivityForm(BootstrapFormMixin, forms.Form):
    kind = forms.ChoiceField(label=_("Type"), choices=ActivityKind.choices, initial=ActivityKind.CALL)
    due_date = forms.DateField(
        label=_("Due date"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    start_time = forms.TimeField(
        label=_("Time"), required=False, widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M")
    )
    duration_minutes = forms.IntegerField(
        label=_("Duration (minutes)"), required=False, min_value=1, max_value=24 * 60
    )
    summary = forms.CharField(label=_("Summary"), max_length=200, required=False)
    assignee = AssigneeChoiceField(label=_("Assigned to"), queryset=get_user_model().objects.none())
    attendees = UsersChoiceField(
        label=_("Attendees"),
        required=False,
        queryset=get_user_model().objects.none(),
        widget=forms.SelectMultiple(attrs={"size": 3}),
    )
    note = forms.CharField(label=_("Note"), required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args: Any, actor: Any, **kwargs: Any) -> None:
        kwargs.setdefault("initial", {}).update(
            {"due_date": timezone.localdate(), "assignee": actor.pk if actor else None}
        )
        super().__init__(*args, **kwargs)
        people = (
            get_user_model().objects.filter(is_active=True).order_by("first_name", "last_name", "username")
        )
        form_field(self, "assignee", AssigneeChoiceField).queryset = people
        form_field(self, "attendees", UsersChoiceField).queryset = people


class FeedbackForm(BootstrapFormMixin, forms.Form):
    feedback = forms.CharField(
        label=_("Feedback"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2, "placeholder": _("How did it go?")}),
    )


class EmailForm(BootstrapFormMixin, forms.Form):
    to = forms.CharField(
        label=_("To"), max_length=2000, help_text=_("Several addresses: separate them with commas.")
    )
    subject = forms.CharField(label=_("Subject"), max_length=300)
    body = forms.CharField(label=_("Message"), widget=forms.Textarea(attrs={"rows": 8}))
