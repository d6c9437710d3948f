"""API representations of countries, tags and customers (partners)."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from pheu.contacts.countries import find_country
from pheu.contacts.models import Country, Partner, Tag
from pheu.contacts.services import EDITABLE_FIELDS
from pheu.core.api.serializers import DisplayNameEmailMixin


class CountryField(serializers.SlugRelatedField):
    """A country given and shown by its ISO 3166-1 alpha-2 code ("VN"); lower case is accepted."""

    default_error_messages = {
        "does_not_exist": _("Unknown country code “{value}” (use an ISO 3166 code such as VN)."),
        "invalid": _("Give the country as an ISO 3166 code such as VN."),
    }

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("queryset", Country.objects.all())
        super().__init__(slug_field="code", **kwargs)

    def to_internal_value(self, data: Any) -> Country:
        if not isinstance(data, str):
            self.fail("invalid")
        code = data.strip().upper()
        # Found in the process's copy of the countries (no query: this field is on every lead write).
        country = find_country(code) if len(code) == 2 else None
        if country is None or country.code != code:
            self.fail("does_not_exist", slug_name="code", value=code)
        return country


class CountrySerializer(serializers.ModelSerializer):
    name = serializers.CharField(read_only=True, help_text=_("The name in the request's language."))

    class Meta:
        model = Country
        fields = ["code", "name_en", "name_vi", "name"]
        read_only_fields = fields


class TagSerializer(serializers.ModelSerializer):
    class Meta:
        model = Tag
        fields = ["id", "name", "color"]


PARTNER_READ_ONLY = [
    "id",
    "created_at",
    "updated_at",
    "email_normalized",
    "phone_e164",
    "mobile_e164",
    "name_key",
]


class PartnerSerializer(DisplayNameEmailMixin, serializers.ModelSerializer):
    """A customer. Writes go through ``pheu.contacts.services``; ``tags`` are ids. ``email`` may be written
    ``Tên <x@y.vn>``: the address is kept, the name names a customer given without one."""

    display_name_field = "name"

    parent = serializers.PrimaryKeyRelatedField(  # type: ignore[assignment]  # a field named like a Field attribute: DRF moves it to _declared_fields
        queryset=Partner.objects.all(),
        allow_null=True,
        required=False,
        help_text=_("The company this person belongs to."),
    )
    country = CountryField(allow_null=True, required=False)
    tags = serializers.PrimaryKeyRelatedField(queryset=Tag.objects.all(), many=True, required=False)

    class Meta:
        model = Partner
        # What a person may write is what the service accepts; the rest is computed by Pheu.
        fields = ["id", *EDITABLE_FIELDS, "tags", *PARTNER_READ_ONLY[1:]]
        read_only_fields = PARTNER_READ_ONLY
