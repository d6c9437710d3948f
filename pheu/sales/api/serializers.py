"""API representations of products, quotations and orders. Money is a decimal string; writes go through
``pheu.sales.services`` (these serializers only parse)."""

from __future__ import annotations

from typing import Any, Final

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from pheu.accounts.models import User
from pheu.contacts.models import Partner
from pheu.leads.models import Lead
from pheu.lib.money import MONEY_DIGITS, DecimalDigits
from pheu.sales.models import Order, Product, Quotation
from pheu.teams.models import Team


class _Percent(DecimalDigits):
    min_value: int
    max_value: int


MONEY = MONEY_DIGITS
PERCENT: Final[_Percent] = {"max_digits": 5, "decimal_places": 2, "min_value": 0, "max_value": 100}
LINE_AMOUNTS = ["untaxed_amount", "tax_amount", "total"]
DOCUMENT_READ_ONLY = [
    "id",
    "number",
    "state",
    "currency",
    "campaign",
    "source",
    "untaxed_amount",
    "tax_amount",
    "total",
    "created_at",
    "updated_at",
]


class ProductSerializer(serializers.ModelSerializer):
    price = serializers.DecimalField(**MONEY, min_value=0, required=False)
    tax = serializers.DecimalField(**PERCENT, required=False, help_text=_("Default tax (%) of its lines."))
    code = serializers.CharField(max_length=60, allow_blank=True, allow_null=True, required=False)

    class Meta:
        model = Product
        fields = ["id", "name", "code", "price", "tax", "description", "active"]
        read_only_fields = ["id"]


class LineSerializer(serializers.Serializer):
    """A line: ``product`` and/or ``description``; quantity defaults to 1, the unit price and tax to the
    product's. Amounts are computed (rounded half up to the currency's decimals)."""

    id = serializers.IntegerField(read_only=True)
    product = serializers.PrimaryKeyRelatedField(
        queryset=Product.objects.all(), allow_null=True, required=False
    )
    description = serializers.CharField(max_length=500, allow_blank=True, required=False)
    quantity = serializers.DecimalField(max_digits=14, decimal_places=3, min_value=0, required=False)
    unit_price = serializers.DecimalField(**MONEY, min_value=0, required=False)
    discount = serializers.DecimalField(**PERCENT, required=False, help_text=_("Discount %."))
    tax = serializers.DecimalField(**PERCENT, required=False, help_text=_("Tax %."))
    untaxed_amount = serializers.DecimalField(**MONEY, read_only=True)
    tax_amount = serializers.DecimalField(**MONEY, read_only=True)
    total = serializers.DecimalField(**MONEY, read_only=True)


class _DocumentSerializer(serializers.ModelSerializer):
    number = serializers.CharField(read_only=True, help_text=_('The reference, e.g. "Q00012".'))
    partner = serializers.PrimaryKeyRelatedField(
        queryset=Partner.objects.all(), required=False, help_text=_("The customer.")
    )
    lead = serializers.PrimaryKeyRelatedField(
        queryset=Lead.objects.none(), allow_null=True, required=False, help_text=_("The opportunity.")
    )
    user = serializers.PrimaryKeyRelatedField(
        queryset=User.objects.filter(is_active=True), allow_null=True, required=False
    )
    team = serializers.PrimaryKeyRelatedField(queryset=Team.objects.all(), allow_null=True, required=False)
    lines = LineSerializer(many=True, required=False, help_text=_("Given on a change: replaces every line."))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        user = getattr(self.context.get("request"), "user", None)
        self.fields["lead"].queryset = Lead.objects.visible_to(user)  # type: ignore[attr-defined]  # lead is a PrimaryKeyRelatedField
        if self.instance is not None and not isinstance(self.instance, list | tuple):
            self.fields["lead"].read_only = True

    def to_representation(self, instance: Any) -> dict[str, Any]:
        data = super().to_representation(instance)
        data["lines"] = LineSerializer(instance.lines.all(), many=True).data
        return data


class QuotationSerializer(_DocumentSerializer):
    order = serializers.SerializerMethodField(help_text=_("The sales order made by confirming it."))

    class Meta:
        model = Quotation
        fields = [
            *DOCUMENT_READ_ONLY[:3],
            "lead",
            "partner",
            "team",
            "user",
            "campaign",
            "source",
            "currency",
            "valid_until",
            "note",
            "lines",
            "untaxed_amount",
            "tax_amount",
            "total",
            "order",
            "sent_at",
            "confirmed_at",
            "cancelled_at",
            "created_at",
            "updated_at",
        ]
        read_only_fields = [*DOCUMENT_READ_ONLY, "sent_at", "confirmed_at", "cancelled_at"]

    @extend_schema_field(serializers.IntegerField(allow_null=True))  # none before it is confirmed
    def get_order(self, quotation: Quotation) -> int | None:
        order = getattr(quotation, "order", None)
        return order.pk if order is not None else None


class OrderSerializer(_DocumentSerializer):
    class Meta:
        model = Order
        fields = [
            *DOCUMENT_READ_ONLY[:3],
            "lead",
            "partner",
            "quotation",
            "team",
            "user",
            "campaign",
            "source",
            "currency",
            "note",
            "lines",
            "untaxed_amount",
            "tax_amount",
            "total",
            "confirmed_at",
            "cancelled_at",
            "created_at",
            "updated_at",
        ]
        read_only_fields = [*DOCUMENT_READ_ONLY, "quotation", "confirmed_at", "cancelled_at"]


class SendSerializer(serializers.Serializer):
    to = serializers.CharField(
        max_length=2000,
        required=False,
        help_text=_("Addresses separated by commas (default: the customer's)."),
    )
    subject = serializers.CharField(max_length=300, required=False, allow_blank=True)
    body = serializers.CharField(max_length=50000, required=False, allow_blank=True)
