"""API of customers (partners), countries and tags. Writes of customers go through the services."""

from __future__ import annotations

from typing import Any, TypeVar

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, serializers, viewsets

from pheu.contacts.api.serializers import CountrySerializer, PartnerSerializer, TagSerializer
from pheu.contacts.filters import CountryFilterSet, PartnerFilterSet
from pheu.contacts.models import Country, Partner, Tag
from pheu.contacts.services import create_partner, update_partner
from pheu.core.api.filters import FilterBackend
from pheu.core.api.views import ConfigViewSet, RecordHistoryMixin, updated_record

# What a queryset's rows are: DRF's filter_queryset is generic in them, so are these overrides.
Row = TypeVar("Row")


@extend_schema_view(
    history=extend_schema(description="Notes and tracked changes of the customer."),
    notes=extend_schema(description="The body is HTML, sanitised before it is stored."),
)
class PartnerViewSet(
    RecordHistoryMixin,
    mixins.ListModelMixin,
    mixins.CreateModelMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Customers: companies and people. Never deleted: set ``active`` to false to archive one."""

    queryset = Partner.objects.all()
    serializer_class = PartnerSerializer
    filter_backends = [FilterBackend]
    filterset_class = PartnerFilterSet

    def get_queryset(self) -> QuerySet[Partner]:
        return Partner.objects.prefetch_related("tags")

    def filter_queryset(self, queryset: QuerySet[Partner, Row]) -> QuerySet[Partner, Row]:
        # Filters narrow the list only: one record is found by its id whatever the query string says.
        return super().filter_queryset(queryset) if self.action == "list" else queryset

    def perform_create(self, serializer: serializers.BaseSerializer) -> None:
        values: dict[str, Any] = dict(serializer.validated_data)
        tags = values.pop("tags", ())
        serializer.instance = create_partner(actor=self.request.user, values=values, tags=tags)

    def perform_update(self, serializer: serializers.BaseSerializer) -> None:
        values: dict[str, Any] = dict(serializer.validated_data)
        tags = values.pop("tags", None)
        serializer.instance = update_partner(
            actor=self.request.user, partner=updated_record(serializer, Partner), values=values, tags=tags
        )


class CountryViewSet(viewsets.ReadOnlyModelViewSet):
    """ISO 3166 countries with their English and Vietnamese names; ``name`` is in the request's language."""

    queryset = Country.objects.all()
    serializer_class = CountrySerializer
    lookup_field = "code"
    lookup_value_regex = "[A-Za-z]{2}"
    filter_backends = [FilterBackend]
    filterset_class = CountryFilterSet

    def get_object(self) -> Country:
        self.kwargs["code"] = self.kwargs["code"].upper()
        return super().get_object()


class TagViewSet(ConfigViewSet):
    """Tags of leads and customers."""

    queryset = Tag.objects.all()
    serializer_class = TagSerializer
    filterset_fields = ["name"]
    ordering_fields = ["id", "name"]
