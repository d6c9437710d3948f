"""The API resources of duplicates, conversion and merge of leads.

``register`` adds viewsets to the router, ``urlpatterns`` the other paths (mounted under ``/api/v1/``
before the router's)."""

from __future__ import annotations

from django.urls import path
from rest_framework.routers import DefaultRouter

from pheu.leads.api.duplicates import LeadConvertView, LeadDuplicatesView, LeadMergeView, LeadUnmergeView


def register(router: DefaultRouter) -> None:
    """Add viewsets to the API router."""


urlpatterns: list = [
    path("leads/merge/", LeadMergeView.as_view(), name="lead-merge"),
    path("leads/unmerge/", LeadUnmergeView.as_view(), name="lead-unmerge"),
    path("leads/<int:pk>/duplicates/", LeadDuplicatesView.as_view(), name="lead-duplicates"),
    path("leads/<int:pk>/convert/", LeadConvertView.as_view(), name="lead-convert"),
]
