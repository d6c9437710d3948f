"""API of products, quotations and sales orders. Reads start from ``visible_to(user)`` (a document the user
may not see is a 404); writes and actions go through ``pheu.sales.services``."""

from __future__ import annotations

from typing import Any, TypeVar

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from pheu.activities.services import default_recipient
from pheu.core.api.filters import FilterBackend
from pheu.core.api.views import ConfigViewSet, RecordHistoryMixin, updated_record
from pheu.sales.api.serializers import OrderSerializer, ProductSerializer, QuotationSerializer, SendSerializer
from pheu.sales.filters import OrderFilterSet, ProductFilterSet, QuotationFilterSet
from pheu.sales.models import Order, Product, Quotation
from pheu.sales.services import (
    cancel_order,
    cancel_quotation,
    confirm_quotation,
    create_order,
    create_product,
    create_quotation,
    send_quotation,
    update_product,
    update_quotation,
)

# What a queryset's rows are: DRF's filter_queryset is generic in them, so are these overrides.
Row = TypeVar("Row")


class ProductViewSet(ConfigViewSet):
    """Products: read by every user, written by managers and administrators. Archive with `active`."""

    queryset = Product.objects.all()
    serializer_class = ProductSerializer
    filter_backends = [FilterBackend]
    filterset_class = ProductFilterSet

    def perform_create(self, serializer: serializers.BaseSerializer) -> None:
        serializer.instance = create_product(actor=self.request.user, values=dict(serializer.validated_data))

    def perform_update(self, serializer: serializers.BaseSerializer) -> None:
        serializer.instance = update_product(
            actor=self.request.user,
            product=updated_record(serializer, Product),
            values=dict(serializer.validated_data),
        )


class _DocumentViewSet(
    RecordHistoryMixin,
    mixins.ListModelMixin,
    mixins.CreateModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    filter_backends = [FilterBackend]
    model: Any = None

    def get_queryset(self) -> QuerySet[Any]:
        return (
            self.model.objects.visible_to(self.request.user)
            .select_related("partner", "lead")
            .prefetch_related("lines")
            .order_by("-created_at", "-id")
        )

    def filter_queryset(self, queryset: QuerySet[Any, Row]) -> QuerySet[Any, Row]:
        return super().filter_queryset(queryset) if self.action == "list" else queryset


def _split(validated: dict[str, Any]) -> tuple[Any, list[dict[str, Any]] | None, dict[str, Any]]:
    values = dict(validated)
    lines = values.pop("lines", None)
    lead = values.pop("lead", None)
    return lead, lines, values


@extend_schema_view(
    list=extend_schema(summary="List the quotations the user may see"),
    create=extend_schema(
        summary="Create a draft quotation",
        description="From an opportunity (`lead`): its customer, team, salesperson, campaign and source are "
        "carried; `partner` is required when the opportunity has none (and is then linked to it). Without "
        "`lead`, `partner` is required. `lines`: `product`, `description`, `quantity`, `unit_price`, "
        "`discount` %, `tax` %; amounts are computed and rounded half up to the currency's decimals.",
    ),
    retrieve=extend_schema(summary="One quotation with its lines and totals"),
    update=extend_schema(summary="Change a draft or sent quotation (`lines` replace all lines)"),
    partial_update=extend_schema(summary="Change some fields of a draft or sent quotation"),
)
class QuotationViewSet(mixins.UpdateModelMixin, _DocumentViewSet):
    """Quotations: draft → sent → confirmed (a sales order is made), or cancelled."""

    queryset = Quotation.objects.all()
    serializer_class = QuotationSerializer
    filterset_class = QuotationFilterSet
    model = Quotation

    def get_queryset(self) -> QuerySet[Quotation]:
        return super().get_queryset().select_related("order")

    def perform_create(self, serializer: serializers.BaseSerializer) -> None:
        lead, lines, values = _split(serializer.validated_data)
        serializer.instance = create_quotation(
            actor=self.request.user, lead=lead, values=values, lines=lines or ()
        )

    def perform_update(self, serializer: serializers.BaseSerializer) -> None:
        _lead, lines, values = _split(serializer.validated_data)
        serializer.instance = update_quotation(
            actor=self.request.user,
            quotation=updated_record(serializer, Quotation),
            values=values,
            lines=lines,
        )

    @extend_schema(
        request=None,
        responses={200: OrderSerializer},
        summary="Confirm the quotation: returns the sales order made",
        description="Only a draft or sent quotation with lines (400 otherwise). Marks the opportunity won "
        "when the setting `confirm_marks_won` is on (the default).",
    )
    @action(detail=True, methods=["post"], filter_backends=[], pagination_class=None)
    def confirm(self, request: Request, pk: str | None = None) -> Response:
        order = confirm_quotation(actor=request.user, quotation=self.get_object())
        return Response(OrderSerializer(order, context=self.get_serializer_context()).data)

    @extend_schema(
        request=None,
        responses={200: QuotationSerializer},
        summary="Cancel a draft or sent quotation",
    )
    @action(detail=True, methods=["post"], filter_backends=[], pagination_class=None)
    def cancel(self, request: Request, pk: str | None = None) -> Response:
        quotation = cancel_quotation(actor=request.user, quotation=self.get_object())
        return Response(QuotationSerializer(quotation, context=self.get_serializer_context()).data)

    @extend_schema(
        request=SendSerializer,
        responses={200: QuotationSerializer},
        summary="E-mail the quotation (its printable page attached) and mark it sent",
        description="The e-mail is written in the history of the opportunity (or of the customer).",
    )
    @action(detail=True, methods=["post"], filter_backends=[], pagination_class=None)
    def send(self, request: Request, pk: str | None = None) -> Response:
        quotation = self.get_object()
        form = SendSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        params = dict(form.validated_data)
        to = params.pop("to", "") or default_recipient(quotation.lead or quotation.partner)
        send_quotation(actor=request.user, quotation=quotation, to=to, **params)
        quotation = self.get_queryset().get(pk=quotation.pk)
        return Response(QuotationSerializer(quotation, context=self.get_serializer_context()).data)


@extend_schema_view(
    list=extend_schema(summary="List the sales orders the user may see"),
    create=extend_schema(
        summary="Create a sales order directly for a customer",
        description="`partner` and at least one line are required; `lead` (an opportunity) is optional.",
    ),
    retrieve=extend_schema(summary="One sales order with its lines and totals"),
)
class OrderViewSet(_DocumentViewSet):
    """Sales orders: made by confirming a quotation, or directly for a customer."""

    queryset = Order.objects.all()
    serializer_class = OrderSerializer
    filterset_class = OrderFilterSet
    model = Order

    def perform_create(self, serializer: serializers.BaseSerializer) -> None:
        lead, lines, values = _split(serializer.validated_data)
        partner = values.pop("partner", None)
        if partner is None:
            raise serializers.ValidationError(
                {"partner": [serializers.Field.default_error_messages["required"]]}
            )
        serializer.instance = create_order(
            actor=self.request.user, partner=partner, lead=lead, values=values, lines=lines or ()
        )

    @extend_schema(request=None, responses={200: OrderSerializer}, summary="Cancel a confirmed order")
    @action(detail=True, methods=["post"], filter_backends=[], pagination_class=None)
    def cancel(self, request: Request, pk: str | None = None) -> Response:
        order = cancel_order(actor=request.user, order=self.get_object())
        return Response(OrderSerializer(order, context=self.get_serializer_context()).data)
