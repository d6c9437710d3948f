"""The OpenAPI schema: served, valid, complete, and the copy in docs/openapi.yaml up to date."""

from __future__ import annotations

from io import StringIO
from pathlib import Path

import pytest
import yaml
from django.conf import settings
from django.core.management import call_command
from django.urls import reverse
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db

RESOURCES = [
    "leads",
    "partners",
    "teams",
    "team-members",
    "stages",
    "lost-reasons",
    "tags",
    "campaigns",
    "sources",
    "mediums",
    "users",
    "countries",
]


def test_schema_is_served_and_lists_every_resource(db):
    response = APIClient().get(reverse("api:schema"), HTTP_ACCEPT="application/vnd.oai.openapi")
    assert response.status_code == 200
    schema = yaml.safe_load(response.content)
    assert schema["openapi"].startswith("3.")
    paths = set(schema["paths"])
    assert "/api/v1/auth/token/" in paths
    for resource in RESOURCES:
        assert f"/api/v1/{resource}/" in paths
    assert "/api/v1/leads/{id}/history/" in paths
    assert "/api/v1/leads/{id}/notes/" in paths
    assert "tokenAuth" in schema["components"]["securitySchemes"]


def test_docs_page_is_served(db):
    response = APIClient().get(reverse("api:docs"))
    assert response.status_code == 200
    assert b"swagger" in response.content.lower()


def test_docs_openapi_yaml_is_up_to_date(db):
    """Regenerate with: .venv/bin/pheu spectacular --lang en --file docs/openapi.yaml"""
    out = StringIO()
    call_command("spectacular", "--lang", "en", "--validate", "--fail-on-warn", stdout=out)
    committed = Path(settings.BASE_DIR, "docs", "openapi.yaml").read_text(encoding="utf-8")
    assert out.getvalue() == committed, "docs/openapi.yaml is stale: regenerate it (see the docstring)"
