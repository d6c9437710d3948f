"""An e-mail written with its display name, ``Tên <x@y.vn>``, is accepted wherever an e-mail is typed: the
address is kept, the name fills an empty contact name (issue 27)."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse

from pheu.capture.testing import make_web_form
from pheu.contacts.models import Partner
from pheu.leads.models import Lead
from pheu.lib.emails import split_display_name, with_display_name
from pheu.testing import make_lead

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Bùi Vi <vi@example.vn>", ("Bùi Vi", "vi@example.vn")),
        ('"Nguyễn, Văn An" <an@example.vn>', ("Nguyễn, Văn An", "an@example.vn")),
        ("  <an@example.vn> ", ("", "an@example.vn")),
        ("an@example.vn", None),
        ("An <an@example.vn> more", None),
        ("a@b.vn <c@d.vn>", None),
        ("An <an@example.vn>, Bo <bo@example.vn>", None),
    ],
)
def test_split_display_name_reads_the_mail_programs_form_only(raw, expected):
    assert split_display_name(raw) == expected


def test_with_display_name_keeps_values_without_one_and_a_name_given():
    plain = {"email": "an@example.vn"}
    assert with_display_name(plain) is plain
    given = with_display_name({"email": "An <an@example.vn>", "contact_name": "Anh An"})
    assert given == {"email": "an@example.vn", "contact_name": "Anh An"}
    kept = with_display_name({"email": "An <an@example.vn>"}, current="Anh An")
    assert kept == {"email": "an@example.vn"}


def test_api_create_accepts_the_display_name_and_fills_the_contact_name(actors, api_client):
    response = api_client(actors.sales1).post(
        reverse("api:lead-list"), {"name": "Cần báo giá", "email": "Bùi Vi <Vi@Example.vn>"}, format="json"
    )

    assert response.status_code == 201, response.json()
    lead = Lead.objects.get()
    assert (lead.email, lead.email_normalized, lead.contact_name) == (
        "Vi@Example.vn",
        "vi@example.vn",
        "Bùi Vi",
    )


def test_api_update_fills_only_an_empty_contact_name(actors, api_client):
    named = make_lead(name="A", user=actors.sales1, team=actors.north, contact_name="Anh Vi")
    unnamed = make_lead(name="B", user=actors.sales1, team=actors.north)
    client = api_client(actors.sales1)

    for lead in (named, unnamed):
        url = reverse("api:lead-detail", args=[lead.pk])
        response = client.patch(url, {"email": "Bùi Vi <vi@example.vn>"}, format="json")
        assert response.status_code == 200, response.json()

    named.refresh_from_db()
    unnamed.refresh_from_db()
    assert (named.email, named.contact_name) == ("vi@example.vn", "Anh Vi")
    assert (unnamed.email, unnamed.contact_name) == ("vi@example.vn", "Bùi Vi")


def test_api_still_refuses_a_bad_address_with_a_display_name(actors, api_client):
    response = api_client(actors.sales1).post(
        reverse("api:lead-list"), {"name": "X", "email": "Bùi Vi <vi@@example>"}, format="json"
    )
    assert response.status_code == 400
    assert "email" in response.json()
    assert not Lead.objects.exists()


def test_partner_api_names_a_customer_from_the_display_name(actors, api_client):
    response = api_client(actors.manager).post(
        reverse("api:partner-list"), {"name": "", "email": "Công ty Đại Việt <lh@daiviet.vn>"}, format="json"
    )
    assert response.status_code == 201, response.json()
    partner = Partner.objects.get()
    assert (partner.name, partner.email) == ("Công ty Đại Việt", "lh@daiviet.vn")


def test_lead_form_takes_the_display_name(client, actors):
    client.force_login(actors.sales1)
    page = client.get(reverse("leads:create")).content.decode()
    assert 'type="email"' not in page  # a browser refuses "Tên <x@y.vn>" in an e-mail input

    response = client.post(
        reverse("leads:create"),
        {
            "name": "Cần báo giá",
            "type": "lead",
            "email": "Bùi Vi <vi@example.vn>",
            "priority": "0",
            "customer_type": "new",
            "probability": "0",
            "auto_probability": "on",
        },
    )

    assert response.status_code == 302, response.content.decode()[:3000]
    lead = Lead.objects.get()
    assert (lead.email, lead.contact_name) == ("vi@example.vn", "Bùi Vi")


def test_quick_create_takes_the_display_name(client, actors):
    client.force_login(actors.sales1)
    response = client.post(
        reverse("leads:quick_create"), {"name": "Báo giá", "email": "Bùi Vi <vi@example.vn>"}, **HTMX
    )
    assert response.status_code == 200
    lead = Lead.objects.get()
    assert (lead.email, lead.contact_name) == ("vi@example.vn", "Bùi Vi")


def test_web_form_json_takes_the_display_name(client, actors):
    make_web_form(team=actors.north, key="north-key")
    response = client.post(
        "/forms/lead/north-key/",
        json.dumps({"email": "Bùi Vi <vi@example.vn>", "description": "Tư vấn giúp tôi"}),
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    lead = Lead.objects.get()
    assert (lead.email, lead.contact_name, lead.name) == ("vi@example.vn", "Bùi Vi", "Bùi Vi")


def test_import_takes_the_display_name(tmp_path, actors):
    from pheu.imports.testing import make_import, write_csv

    rows = [
        ["Tên", "E-mail", "Người liên hệ"],
        ["Báo giá", "Bùi Vi <vi@example.vn>", ""],
        ["Khác", "Lê An <an@x.vn>", "Anh An"],
    ]
    run = make_import(write_csv(tmp_path / "a.csv", rows), actor=actors.manager)

    assert run.created_count == 2
    assert {(lead.email, lead.contact_name) for lead in Lead.objects.all()} == {
        ("vi@example.vn", "Bùi Vi"),
        ("an@x.vn", "Anh An"),
    }
    assert not run.issues.exists()
