"""``/api/v1/``: the router of every resource, the token endpoint, the OpenAPI schema and its docs."""

from __future__ import annotations

from importlib import import_module

from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.routers import DefaultRouter

from pheu.accounts.api.views import UserViewSet
from pheu.api.auth import ObtainTokenView
from pheu.api.errors import not_found
from pheu.contacts.api.views import CountryViewSet, PartnerViewSet, TagViewSet
from pheu.core.api.views import SettingsView
from pheu.leads.api.views import (
    CampaignViewSet,
    DomainValidateView,
    LeadViewSet,
    LostReasonViewSet,
    MediumViewSet,
    SourceViewSet,
    StageViewSet,
)
from pheu.teams.api.views import TeamMemberViewSet, TeamViewSet

app_name = "api"

router = DefaultRouter()
router.register("leads", LeadViewSet, basename="lead")
router.register("partners", PartnerViewSet, basename="partner")
router.register("teams", TeamViewSet, basename="team")
router.register("team-members", TeamMemberViewSet, basename="team-member")
router.register("stages", StageViewSet, basename="stage")
router.register("lost-reasons", LostReasonViewSet, basename="lost-reason")
router.register("tags", TagViewSet, basename="tag")
router.register("campaigns", CampaignViewSet, basename="campaign")
router.register("sources", SourceViewSet, basename="source")
router.register("mediums", MediumViewSet, basename="medium")
router.register("users", UserViewSet, basename="user")
router.register("countries", CountryViewSet, basename="country")

# Each app's API module adds its viewsets and paths (the apps depend on leads; the API shell on them).
ROUTE_MODULES = (
    "pheu.leads.api.routes_duplicates",
    "pheu.leads.api.routes_outcome",
    "pheu.scoring.api.routes",
    "pheu.assignment.api.routes",
    "pheu.activities.api.routes",
    "pheu.sales.api.routes",
    "pheu.capture.api.routes",
    "pheu.imports.api.routes",
    "pheu.reports.api.routes",
    "pheu.webhooks.api.routes",
)
extra_urlpatterns = []
for module_name in ROUTE_MODULES:
    module = import_module(module_name)
    module.register(router)
    extra_urlpatterns += module.urlpatterns

urlpatterns = [
    *extra_urlpatterns,
    path("auth/token/", ObtainTokenView.as_view(), name="token"),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api:schema"), name="docs"),
    path("domains/validate/", DomainValidateView.as_view(), name="domain-validate"),
    path("settings/", SettingsView.as_view(), name="settings"),
    path("", include(router.urls)),
    # Last: any other path (ending in a slash, so that APPEND_SLASH still adds a missing one) is the
    # API's 404 body (JSON), not the site's 404 page.
    re_path(r"^(?P<path>(?:.*/)?)$", not_found),
]
