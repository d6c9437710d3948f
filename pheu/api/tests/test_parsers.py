"""Control characters in request bodies, checked by the API's parsers at any depth: NUL refused (a 400
naming its field), the other control characters and lone surrogates removed."""

from __future__ import annotations

import json

import pytest

from pheu.leads.models import Lead
from pheu.lib.text import strip_control

pytestmark = pytest.mark.django_db


def test_strip_control_keeps_tabs_and_line_breaks_and_drops_the_rest():
    assert strip_control("a\x00b\x07c\td\ne\rf\x1b\ud800g") == "abc\td\ne\rfg"
    assert strip_control("Nguyễn Văn An") == "Nguyễn Văn An"


def post_json(client, body: str):
    return client.generic(
        "POST", "/api/v1/leads/", body, content_type="application/json", HTTP_ACCEPT_LANGUAGE="en"
    )


def test_a_lone_surrogate_and_control_characters_are_stored_without_them(api_client, actors):
    """A lone surrogate (a JSON "\\ud800") is encoded by neither database; no control character fits in an
    XLSX cell."""
    body = r'{"name": "Kh\u00e1ch A\ud800", "description": "d\u0007\u001b"}'
    response = post_json(api_client(actors.sales1), body)
    assert response.status_code == 201, response.content
    lead = Lead.objects.get(pk=response.json()["id"])
    assert (lead.name, lead.description) == ("Khách A", "d")


@pytest.mark.parametrize(
    "body",
    [
        r'{"name": "A", "description": "x\u0000"}',
        r'{"name": "A", "description": {"nested": ["x\u0000"]}}',
    ],
)
def test_a_nul_anywhere_in_a_json_body_is_a_400_naming_its_field(api_client, english, body):
    """PostgreSQL's text columns hold no NUL: refused wherever it is, in JSON values no field checks too."""
    response = post_json(api_client(english.sales1), body)
    assert response.status_code == 400
    assert response.json() == {"description": ["Null characters are not allowed."]}
    assert not Lead.objects.exists()


def test_a_form_body_is_checked_too(api_client, actors):
    client = api_client(actors.sales1)
    response = client.post("/api/v1/leads/", {"name": "B\x01ình"}, format="multipart")
    assert response.status_code == 201, response.content
    assert json.loads(response.content)["name"] == "Bình"
    refused = client.post("/api/v1/leads/", {"name": "B\x00ình"}, format="multipart")
    assert refused.status_code == 400 and "name" in refused.json()
