"""API representations of leads and opportunities, stages, lost reasons and UTM records.

Field names are SPEC section 1's. Relations are ids, ``country`` an ISO code, money decimal strings.
Writes of leads and stages go through ``pheu.leads.services``; these serializers only parse.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from pheu.accounts.models import User
from pheu.contacts.api.serializers import CountryField
from pheu.contacts.models import Partner, Tag
from pheu.core.api.serializers import COUNT, DisplayNameEmailMixin, DomainInputField, PreparedFieldsMixin
from pheu.leads.choices import LeadPriority
from pheu.leads.models import Campaign, Lead, LostReason, Medium, Source, Stage
from pheu.leads.services import EDITABLE_FIELDS
from pheu.teams.models import Team


def _optional_id(queryset: QuerySet) -> serializers.PrimaryKeyRelatedField:
    return serializers.PrimaryKeyRelatedField(queryset=queryset, allow_null=True, required=False)


LEAD_READ_ONLY = [
    "id",
    "automated_probability",
    "weighted_revenue",
    "score",
    "lost_reason",
    "won_status",
    "active",
    "merged_into",
    "created_at",
    "assigned_at",
    "converted_at",
    "stage_changed_at",
    "closed_at",
    "updated_at",
    "email_normalized",
    "phone_e164",
    "name_key",
]


class LeadSerializer(DisplayNameEmailMixin, PreparedFieldsMixin, serializers.ModelSerializer):
    """A lead or opportunity. Read-only fields are computed by Pheu (scores, status, dates, keys).
    ``email`` may be written ``Tên <x@y.vn>``: the address is kept, the name fills an empty
    ``contact_name``."""

    partner = _optional_id(Partner.objects.all())
    country = CountryField(allow_null=True, required=False)
    team = _optional_id(Team.objects.all())
    user = serializers.PrimaryKeyRelatedField(
        queryset=User.objects.filter(is_active=True),
        allow_null=True,
        required=False,
        help_text=_(
            "The salesperson. Left out when creating: the requesting user; null: none, so that automatic "
            "assignment gives it one. Salespeople may take a record or leave it unassigned."
        ),
    )
    stage = _optional_id(Stage.objects.all())
    tags = serializers.PrimaryKeyRelatedField(queryset=Tag.objects.all(), many=True, required=False)
    campaign = _optional_id(Campaign.objects.all())
    source = _optional_id(Source.objects.all())  # type: ignore[assignment]  # a field named like a Field attribute: DRF moves it to _declared_fields
    medium = _optional_id(Medium.objects.all())
    priority = serializers.ChoiceField(
        choices=LeadPriority.choices, required=False, help_text=_("0–3 stars.")
    )
    score = serializers.IntegerField(
        read_only=True, help_text=_("The points of the active scoring rules the record matches.")
    )
    weighted_revenue = serializers.DecimalField(
        max_digits=20,
        decimal_places=2,
        read_only=True,
        allow_null=True,
        help_text=_("Expected revenue × probability."),
    )

    class Meta:
        model = Lead
        # What a person may write is what the service accepts; the rest is computed by Pheu.
        fields = ["id", *EDITABLE_FIELDS, "tags", *LEAD_READ_ONLY[1:]]
        read_only_fields = LEAD_READ_ONLY
        extra_kwargs = {"company_size": COUNT}


class StageSerializer(serializers.ModelSerializer):
    required_fields = serializers.ListField(
        child=serializers.CharField(max_length=60),
        required=False,
        max_length=50,
        help_text=_("Lead fields that must be filled before a record enters this stage."),
    )
    team = serializers.PrimaryKeyRelatedField(
        queryset=Team.objects.all(),
        allow_null=True,
        required=False,
        help_text=_("Empty: shared by all teams."),
    )

    class Meta:
        model = Stage
        fields = [
            "id",
            "name",
            "sequence",
            "probability",
            "is_won",
            "folded",
            "required_fields",
            "requirements",
            "rotting_days",
            "team",
        ]
        read_only_fields = ["id"]
        extra_kwargs = {"sequence": COUNT, "rotting_days": COUNT}


class LostReasonSerializer(serializers.ModelSerializer):
    class Meta:
        model = LostReason
        fields = ["id", "name", "active"]


class CampaignSerializer(serializers.ModelSerializer):
    class Meta:
        model = Campaign
        fields = ["id", "name", "active"]


class SourceSerializer(serializers.ModelSerializer):
    class Meta:
        model = Source
        fields = ["id", "name", "active"]


class MediumSerializer(serializers.ModelSerializer):
    class Meta:
        model = Medium
        fields = ["id", "name", "active"]


# --- rule preview (POST /api/v1/domains/validate/) ------------------------------------------------------
class DomainValidateSerializer(serializers.Serializer):
    domain = DomainInputField(
        help_text="The domain to check, as typed or as a JSON array; empty: every record."
    )
    model = serializers.ChoiceField(
        choices=[("lead", "lead")], default="lead", help_text="The records the domain selects."
    )


class RuleProblemSerializer(serializers.Serializer):
    position = serializers.IntegerField(
        allow_null=True, help_text="1-based index of the term in the domain; null: the whole text."
    )
    path = serializers.CharField(allow_null=True, help_text="The field path as typed, if the term has one.")
    code = serializers.CharField(help_text="Machine-readable kind of problem, e.g. unknown_field.")
    message = serializers.CharField(help_text="The problem in words, in the request's language.")

    def to_representation(self, instance: Any) -> dict[str, Any]:
        return dict(instance.as_dict())


class LeadSampleSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class DomainPreviewSerializer(serializers.Serializer):
    valid = serializers.BooleanField()
    errors = RuleProblemSerializer(many=True, help_text="Every problem; empty when valid.")  # type: ignore[assignment]  # a field named like a Field attribute: DRF moves it to _declared_fields
    text = serializers.CharField(
        help_text="The text to store: as typed, or the canonical text of an array; empty for every record."
    )
    canonical = serializers.ListField(
        child=serializers.JSONField(),
        allow_null=True,
        help_text="The domain as a canonical JSON array ([] for every record); null if invalid.",
    )
    explanation = serializers.CharField(help_text="The domain in words, in the request's language.")
    count = serializers.IntegerField(
        allow_null=True, help_text="Active records visible to the user that match; null if invalid."
    )
    sample = LeadSampleSerializer(many=True, help_text="Up to 5 of them, newest first.")
