"""API representations of activities (writes go through ``pheu.activities.services``)."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from pheu.accounts.models import User
from pheu.activities.choices import ActivityKind, ActivityState
from pheu.activities.models import Activity
from pheu.contacts.models import Partner
from pheu.leads.models import Lead


@extend_schema_field(
    {"type": "string", "enum": list(ActivityKind.values), "description": "call, meeting, email or todo"}
)
class ActivityKindField(serializers.ChoiceField):
    """The type of an activity (inline in the schema: a shared enum named "Kind" would collide with the
    history entries' ``kind``)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(choices=ActivityKind.choices, **kwargs)


@extend_schema_field(
    {
        "type": "string",
        "pattern": r"^([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9](\.[0-9]{1,6})?)?$",
        "example": "09:30",
    }
)
class LocalTimeField(serializers.TimeField):
    """A wall-clock time in the installation's time zone, answered as ``HH:MM`` (``HH:MM[:SS]`` accepted).

    Published as a pattern rather than ``format: time``: that format is RFC 3339's full time, which carries a
    UTC offset, and a meeting's time has none."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(format="%H:%M", input_formats=["%H:%M", "%H:%M:%S", "%H:%M:%S.%f"], **kwargs)


class ActivitySerializer(serializers.ModelSerializer):
    """An activity on a lead/opportunity (``lead``) or on a customer (``partner``): exactly one of them."""

    lead = serializers.PrimaryKeyRelatedField(
        queryset=Lead.objects.none(), allow_null=True, required=False, help_text=_("The lead or opportunity.")
    )
    partner = serializers.PrimaryKeyRelatedField(
        queryset=Partner.objects.all(), allow_null=True, required=False, help_text=_("The customer.")
    )
    assignee = serializers.PrimaryKeyRelatedField(
        queryset=User.objects.filter(is_active=True),
        required=False,
        help_text=_("Who does it (default: the requesting user); they must see the record."),
    )
    kind = ActivityKindField(required=False)
    start_time = LocalTimeField(
        required=False,
        allow_null=True,
        help_text=_("The time it starts (HH:MM, the installation's time zone); null: all day."),
    )
    duration_minutes = serializers.IntegerField(
        required=False,
        allow_null=True,
        min_value=1,
        max_value=24 * 60,
        help_text=_("How long, in minutes (null: one hour for a timed activity)."),
    )
    attendees = serializers.PrimaryKeyRelatedField(
        queryset=User.objects.filter(is_active=True),
        many=True,
        required=False,
        help_text=_("Colleagues who take part besides the assignee (user ids)."),
    )
    state = serializers.ChoiceField(
        choices=ActivityState.choices,
        read_only=True,
        source="current_state",
        help_text=_("overdue, today or planned while open (from the due date); done once completed."),
    )

    class Meta:
        model = Activity
        fields = [
            "id",
            "lead",
            "partner",
            "kind",
            "summary",
            "note",
            "due_date",
            "start_time",
            "duration_minutes",
            "assignee",
            "attendees",
            "state",
            "done_at",
            "done_by",
            "feedback",
            "created_by",
            "created_at",
        ]
        read_only_fields = ["id", "done_at", "done_by", "feedback", "created_by", "created_at"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        user = getattr(request, "user", None)
        # A lead the user may not see is "does not exist", as everywhere else.
        self.fields["lead"].queryset = Lead.objects.visible_to(user)  # type: ignore[attr-defined]  # lead is a PrimaryKeyRelatedField
        if self.instance is not None and not isinstance(self.instance, list | tuple):
            # The record of an activity does not change.
            self.fields["lead"].read_only = True
            self.fields["partner"].read_only = True


class FeedbackSerializer(serializers.Serializer):
    feedback = serializers.CharField(
        max_length=20000, allow_blank=True, required=False, default="", help_text=_("How it went.")
    )


class SendEmailSerializer(serializers.Serializer):
    """An e-mail about a record: as the record page's "Send e-mail" form."""

    to = serializers.CharField(
        max_length=2000,
        required=False,
        allow_blank=True,
        help_text=_("Addresses separated by commas. Empty: the record's e-mail (or its customer's)."),
    )
    subject = serializers.CharField(max_length=300)
    body = serializers.CharField(max_length=100_000, trim_whitespace=False)


class CalendarFeedSerializer(serializers.Serializer):
    url = serializers.URLField(
        read_only=True, help_text=_("The secret address of the user's meetings (.ics) for a calendar app.")
    )
    download = serializers.URLField(read_only=True, help_text=_("The same meetings as a file, signed in."))
