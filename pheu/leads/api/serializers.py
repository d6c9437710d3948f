"""API representations of leads and opportunities, stages, lost reasons and UTM records.

Field names are SPEC section 1's. Relations are ids, ``country`` an ISO code, money decimal strings.
Writes of leads and stages go through ``pheu.leads.services``; these serializers only parse.
"""

from __future__ import annotations

from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from pheu.accounts.models import User
from pheu.contacts.api.serializers import CountryField
from pheu.contacts.models import Partner, Tag
from pheu.core.api.serializers import COUNT
from pheu.leads.choices import LeadPriority
from pheu.leads.models import Campaign, Lead, LostReason, Medium, Source, Stage
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


class LeadSerializer(serializers.ModelSerializer):
    """A lead or opportunity. Read-only fields are computed by Pheu (scores, status, dates, keys)."""

    partner = _optional_id(Partner.objects.all())
    country = CountryField(allow_null=True, required=False)
    team = _optional_id(Team.objects.all())
    user = serializers.PrimaryKeyRelatedField(
        queryset=User.objects.filter(is_active=True),
        allow_null=True,
        required=False,
        help_text=_("The salesperson. Salespeople may take a record or leave it unassigned."),
    )
    stage = _optional_id(Stage.objects.all())
    tags = serializers.PrimaryKeyRelatedField(queryset=Tag.objects.all(), many=True, required=False)
    campaign = _optional_id(Campaign.objects.all())
    source = _optional_id(Source.objects.all())
    medium = _optional_id(Medium.objects.all())
    priority = serializers.ChoiceField(
        choices=LeadPriority.choices, required=False, help_text=_("0–3 stars.")
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
        fields = [
            "id",
            "name",
            "type",
            "contact_name",
            "company_name",
            "partner",
            "email",
            "phone",
            "mobile",
            "website",
            "job_title",
            "street",
            "city",
            "state",
            "zip",
            "country",
            "language",
            "company_size",
            "industry",
            "team",
            "user",
            "stage",
            "probability",
            "automated_probability",
            "auto_probability",
            "amount",
            "expected_revenue",
            "weighted_revenue",
            "expected_close_date",
            "rating",
            "priority",
            "customer_type",
            "tags",
            "campaign",
            "source",
            "medium",
            "score",
            "description",
            "lost_reason",
            "won_status",
            "active",
            "merged_into",
            "external_id",
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
