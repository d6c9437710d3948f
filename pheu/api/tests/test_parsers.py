"""Control characters in request bodies: removed from every text by the API's parsers, at any depth."""

from __future__ import annotations

import json

import pytest

from pheu.leads.models import Lead
from pheu.lib.text import strip_control

pytestmark = pytest.mark.django_db


def test_strip_control_keeps_tabs_and_line_breaks_and_drops_the_rest():
    assert strip_control("a\x00b\x07c\td\ne\rf\x1b\ud800g") == "abc\td\ne\rfg"
    assert strip_control("Nguyễn Văn An") == "Nguyễn Văn An"


def test_a_json_body_with_nul_and_a_lone_surrogate_is_stored_without_them(api_client, actors):
    """NUL is refused by PostgreSQL's text columns and a lone surrogate (a JSON "\\ud800") is encoded by
    neither database: both were a 500 (NUL also where a JSON field or filter holds it)."""
    body = '{"name": "Kh\\u00e1ch\\u0000 A\\ud800", "description": "d\\u0000\\u0007"}'
    response = api_client(actors.sales1).generic(
        "POST", "/api/v1/leads/", body, content_type="application/json"
    )
    assert response.status_code == 201, response.content
    lead = Lead.objects.get(pk=response.json()["id"])
    assert (lead.name, lead.description) == ("Khách A", "d")


def test_a_form_body_is_cleaned_too(api_client, actors):
    response = api_client(actors.sales1).post("/api/v1/leads/", {"name": "B\x00\x01ình"}, format="multipart")
    assert response.status_code == 201, response.content
    assert json.loads(response.content)["name"] == "Bình"
