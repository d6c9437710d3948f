"""The customer API (``/api/v1/partners/``), countries and tags."""

from __future__ import annotations

import pytest
from django.urls import reverse

from pheu.contacts.models import Partner, Tag
from pheu.contacts.services import create_partner
from pheu.core.history import history_of
from pheu.core.models import HistoryKind
from pheu.testing import make_lead, make_partner, make_tag

pytestmark = pytest.mark.django_db

LIST = reverse("api:partner-list")


def detail(partner: Partner, suffix: str = "") -> str:
    return reverse("api:partner-detail", args=[partner.pk]) + suffix


def ids(response) -> list[int]:
    return [row["id"] for row in response.json()["results"]]


def test_create_a_company_and_a_person_in_it(actors, api_client):
    client = api_client(actors.sales1)
    tag = make_tag("vip")
    response = client.post(
        LIST,
        {
            "name": "Công ty TNHH Đại Việt",
            "is_company": True,
            "country": "vn",
            "vat": "0101234567",
            "tags": [tag.pk],
            "language": "vi",
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    company = response.json()
    assert (company["country"], company["tags"]) == ("VN", [tag.pk])
    assert company["name_key"] == "cong ty tnhh dai viet"
    response = client.post(
        LIST,
        {
            "name": "Nguyễn Thị Hương",
            "parent": company["id"],
            "email": "Huong@DaiViet.vn",
            "phone": "024 3826 1234",
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    person = Partner.objects.get(pk=response.json()["id"])
    assert person.parent_id == company["id"]
    assert person.email_normalized == "huong@daiviet.vn"
    assert person.phone_e164 == "+842438261234"
    assert person.created_by == actors.sales1
    assert [e.kind for e in history_of(person)] == [HistoryKind.CREATED]


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({}, "name"),
        ({"name": " "}, "name"),
        ({"name": "X", "email": "x@"}, "email"),
        ({"name": "X", "phone": "123"}, "phone"),
        ({"name": "X", "country": "ZZ"}, "country"),
        ({"name": "X", "language": "fr"}, "language"),
        ({"name": "X", "parent": 999999}, "parent"),
        ({"name": "X", "parent": "abc"}, "parent"),
        ({"name": "X", "tags": [0]}, "tags"),
        ({"name": "X", "is_company": "maybe"}, "is_company"),
    ],
)
def test_bad_input_is_a_400_naming_the_field(actors, api_client, payload, field):
    response = api_client(actors.sales1).post(LIST, payload, format="json")
    assert response.status_code == 400
    assert field in response.json()
    assert not Partner.objects.exists()


def test_a_person_cannot_belong_to_a_person(actors, api_client):
    person = make_partner("Trần Văn Bảo")
    response = api_client(actors.sales1).post(LIST, {"name": "X", "parent": person.pk}, format="json")
    assert response.status_code == 400
    assert list(response.json()) == ["parent"]
    assert Partner.objects.count() == 1


def test_update_goes_through_the_service_and_logs_changes(actors, api_client):
    partner = create_partner(actor=actors.sales1, values={"name": "Công ty A", "is_company": True})
    response = api_client(actors.sales2).patch(
        detail(partner), {"name": "Công ty B", "city": "Đà Nẵng", "tags": [make_tag("x").pk]}, format="json"
    )
    assert response.status_code == 200, response.json()
    partner.refresh_from_db()
    assert (partner.name, partner.city, partner.name_key) == ("Công ty B", "Đà Nẵng", "cong ty b")
    assert partner.tags.count() == 1
    entries = api_client(actors.sales1).get(detail(partner, "history/")).json()
    assert [e["kind"] for e in entries] == ["change", "created"]
    assert entries[0]["author"] == {"id": actors.sales2.pk, "name": "Lê Bình"}
    assert entries[0]["changes"][0] == {
        "field": "name",
        "old": "Công ty A",
        "new": "Công ty B",
        "old_id": "Công ty A",
        "new_id": "Công ty B",
    }


def test_a_company_cannot_be_its_own_parent(actors, api_client):
    company = make_partner("A", is_company=True)
    response = api_client(actors.manager).patch(detail(company), {"parent": company.pk}, format="json")
    assert response.status_code == 400 and "parent" in response.json()
    company.refresh_from_db()
    assert company.parent_id is None


def test_search_ignores_accents_and_finds_e_mail(actors, api_client):
    hit = make_partner("Nguyễn Thị Hương", email="huong@daiviet.vn")
    make_partner("Trần Văn Bảo")
    client = api_client(actors.sales1)
    assert ids(client.get(LIST, {"search": "nguyen huong"})) == [hit.pk]
    assert ids(client.get(LIST, {"search": "HƯƠNG"})) == [hit.pk]
    assert ids(client.get(LIST, {"search": "daiviet.vn"})) == [hit.pk]
    assert client.get(LIST, {"search": "le"}).json()["count"] == 0


def test_list_filters_and_hides_archived_customers(actors, api_client):
    company = make_partner("Công ty", is_company=True, country="VN")
    person = make_partner("Người", parent=company, country="US")
    archived = make_partner("Cũ", active=False)
    client = api_client(actors.sales1)
    assert client.get(LIST).json()["count"] == 2
    assert ids(client.get(LIST, {"is_company": "true"})) == [company.pk]
    assert ids(client.get(LIST, {"parent": company.pk})) == [person.pk]
    assert ids(client.get(LIST, {"country": "US"})) == [person.pk]
    assert ids(client.get(LIST, {"active": "false"})) == [archived.pk]
    assert client.get(detail(archived)).status_code == 200
    for bad in ({"parent": str(10**30)}, {"country": "XX"}, {"ordering": "vat"}):
        assert client.get(LIST, bad).status_code == 400


def test_partners_are_never_deleted_through_the_api(actors, api_client):
    partner = make_partner()
    assert api_client(actors.admin).delete(detail(partner)).status_code == 405
    assert Partner.objects.filter(pk=partner.pk).exists()


def test_notes_on_a_customer(actors, api_client):
    partner = make_partner()
    client = api_client(actors.sales1)
    response = client.post(detail(partner, "notes/"), {"body": "Khách quen"}, format="json")
    assert response.status_code == 201
    assert history_of(partner).get().body == "Khách quen"


# --- countries and tags ----------------------------------------------------------------------------
def test_countries_have_codes_and_names_in_the_request_language(actors, api_client):
    client = api_client(actors.sales1)
    url = reverse("api:country-detail", args=["vn"])
    vn = client.get(url, HTTP_ACCEPT_LANGUAGE="en").json()
    assert vn == {"code": "VN", "name_en": "Vietnam", "name_vi": vn["name_vi"], "name": "Vietnam"}
    assert client.get(url, HTTP_ACCEPT_LANGUAGE="vi").json()["name"] == vn["name_vi"] != "Vietnam"
    assert client.get(reverse("api:country-detail", args=["XX"])).status_code == 404
    found = client.get(reverse("api:country-list"), {"search": "viet"}).json()
    assert [c["code"] for c in found["results"]] == ["VN"]
    assert client.get(reverse("api:country-list")).json()["count"] > 240
    assert client.post(reverse("api:country-list"), {"code": "QQ"}, format="json").status_code == 405


def test_tags_are_managed_by_managers(actors, api_client):
    url = reverse("api:tag-list")
    assert api_client(actors.sales1).post(url, {"name": "vip"}, format="json").status_code == 403
    response = api_client(actors.manager).post(url, {"name": "vip", "color": "danger"}, format="json")
    assert response.status_code == 201
    assert api_client(actors.manager).post(url, {"name": "vip"}, format="json").status_code == 400
    tag = Tag.objects.get()
    make_lead(tags=[tag])
    # a tag is only a label: deleting it takes it off its records
    assert api_client(actors.manager).delete(reverse("api:tag-detail", args=[tag.pk])).status_code == 204
