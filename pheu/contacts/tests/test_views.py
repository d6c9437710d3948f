from __future__ import annotations

import re

import pytest
from django.urls import reverse

from pheu.contacts.models import Partner
from pheu.core.history import history_of
from pheu.core.models import HistoryKind
from pheu.leads.choices import LeadType
from pheu.leads.models import Lead
from pheu.testing import make_lead, make_partner

pytestmark = pytest.mark.django_db
HTMX = {"HTTP_HX_REQUEST": "true"}


def _names(response) -> list[str]:
    html = response.content.decode()
    return re.findall(r'<a href="/customers/\d+/" class="fw-semibold">([^<]+)</a>', html)


@pytest.mark.usefixtures("english")
def test_search_without_accents_finds_the_customer(client, actors):
    make_partner("Công ty TNHH Đại Việt", is_company=True)
    make_partner("Nguyễn Thị Hương")
    make_partner("Archived Đại Việt", active=False)
    client.force_login(actors.sales1)
    url = reverse("contacts:list")
    assert _names(client.get(url, {"q": "dai viet"})) == ["Công ty TNHH Đại Việt"]
    assert _names(client.get(url, {"q": "NGUYEN huong"})) == ["Nguyễn Thị Hương"]
    assert _names(client.get(url)) == ["Công ty TNHH Đại Việt", "Nguyễn Thị Hương"]
    assert _names(client.get(url, {"archived": "1"})) == ["Archived Đại Việt"]
    assert "No customers found." in client.get(url, {"q": "xyz"}).content.decode()


def test_list_is_paginated_and_pages_keep_the_search(client, actors):
    for i in range(51):
        make_partner(f"Khách {i:02d}")
    client.force_login(actors.sales1)
    response = client.get(reverse("contacts:list"), {"q": "khach"})
    assert len(_names(response)) == 50
    assert 'href="?q=khach&amp;page=2"' in response.content.decode()
    assert _names(client.get(reverse("contacts:list"), {"q": "khach", "page": 2})) == ["Khách 50"]
    partial = client.get(reverse("contacts:list"), {"q": "khach 50"}, HTTP_HX_TARGET="partner-table", **HTMX)
    assert "<html" not in partial.content.decode() and _names(partial) == ["Khách 50"]


def test_create_a_company_then_a_person_in_it(client, actors):
    client.force_login(actors.sales1)
    response = client.post(
        reverse("contacts:create"),
        {
            "is_company": "on",
            "name": "Công ty Đại Việt",
            "email": "info@daiviet.vn",
            "country": "VN",
            "active": "on",
        },
    )
    company = Partner.objects.get()
    assert response["Location"] == reverse("contacts:detail", args=[company.pk])
    assert (company.is_company, company.country_id) == (True, "VN")
    response = client.post(
        reverse("contacts:create"),
        {"name": "Nguyễn Thị Hương", "parent": company.pk, "phone": "0912 345 678", "active": "on"},
    )
    person = Partner.objects.get(name="Nguyễn Thị Hương")
    assert (person.parent, person.phone_e164) == (company, "+84912345678")
    page = client.get(reverse("contacts:detail", args=[company.pk])).content.decode()
    assert "Nguyễn Thị Hương" in page  # listed among the company's people
    assert [e.kind for e in history_of(person)] == [HistoryKind.CREATED]


@pytest.mark.usefixtures("english")
def test_invalid_email_is_shown_on_the_field_and_nothing_is_saved(client, actors):
    client.force_login(actors.sales1)
    response = client.post(reverse("contacts:create"), {"name": "Bad", "email": "nope@", "active": "on"})
    assert response.status_code == 200
    assert response.context["form"].errors["email"] == ["“nope@” is not a valid e-mail address."]
    assert not Partner.objects.exists()


def test_a_person_cannot_be_its_own_company(client, actors):
    company = make_partner("Đại Việt", is_company=True)
    client.force_login(actors.sales1)
    response = client.post(
        reverse("contacts:edit", args=[company.pk]),
        {"is_company": "on", "name": "Đại Việt", "parent": company.pk, "active": "on"},
    )
    assert response.status_code == 200
    assert "parent" in response.context["form"].errors
    company.refresh_from_db()
    assert company.parent is None


@pytest.mark.usefixtures("english")
def test_edit_logs_tracked_changes(client, actors):
    partner = make_partner("Hương", email="a@example.com")
    client.force_login(actors.manager)
    response = client.post(
        reverse("contacts:edit", args=[partner.pk]),
        {"name": "Hương", "email": "b@example.com", "active": "on"},
    )
    assert response.status_code == 302
    page = client.get(reverse("contacts:detail", args=[partner.pk])).content.decode()
    assert re.search(r"E-mail</span>: <span[^>]*>a@example.com</span> → <span>b@example.com</span>", page)


def test_detail_lists_only_the_opportunities_the_user_may_see(client, actors):
    company = make_partner("Đại Việt", is_company=True)
    person = make_partner("Hương", parent=company)
    make_lead("Mine", partner=company, user=actors.sales1, team=actors.north)
    make_lead("Via the person", partner=person, user=actors.sales1, team=actors.north)
    make_lead("Of sales3", partner=company, user=actors.sales3, team=actors.south)
    client.force_login(actors.sales1)
    page = client.get(reverse("contacts:detail", args=[company.pk])).content.decode()
    table = re.search(r'<table[^>]*id="partner-leads".*?</table>', page, re.S).group(0)
    assert "Mine" in table and "Via the person" in table
    assert "Of sales3" not in page
    client.force_login(actors.manager)
    assert "Of sales3" in client.get(reverse("contacts:detail", args=[company.pk])).content.decode()


def test_new_opportunity_is_prefilled_from_the_customer(client, actors):
    company = make_partner("Công ty Đại Việt", is_company=True)
    person = make_partner(
        "Nguyễn Thị Hương",
        parent=company,
        email="huong@daiviet.vn",
        phone="0912 345 678",
        street="12 Lý Thường Kiệt",
        city="Hà Nội",
        country="VN",
        job_title="Giám đốc",
    )
    client.force_login(actors.sales1)
    detail = client.get(reverse("contacts:detail", args=[person.pk])).content.decode()
    url = f"{reverse('leads:create')}?partner={person.pk}&type=opportunity"
    assert f'href="{url.replace("&", "&amp;")}"' in detail

    response = client.get(url)
    html = response.content.decode()
    for value in (
        "Nguyễn Thị Hương",
        "Công ty Đại Việt",
        "huong@daiviet.vn",
        "0912 345 678",
        "12 Lý Thường Kiệt",
        "Hà Nội",
        "Giám đốc",
    ):
        assert f'value="{value}"' in html
    chosen = f'<option value="{person.pk}" selected>Công ty Đại Việt, Nguyễn Thị Hương</option>'
    assert chosen in html
    assert re.search(r'<option value="VN" selected>', html)
    assert re.search(r'<option value="opportunity" selected>', html)
    assert re.search(r'<option value="existing" selected>', html)

    form = response.context["form"]
    data = {
        name: form[name].value()
        for name in form.fields
        if form[name].value() is not None and form[name].value() is not False
    }
    data["name"] = "50 máy lọc nước"
    response = client.post(reverse("leads:create"), data)
    assert response.status_code == 302, response.context["form"].errors
    lead = Lead.objects.get()
    assert response["Location"] == reverse("leads:detail", args=[lead.pk])
    assert (lead.type, lead.partner, lead.contact_name, lead.company_name, lead.email, lead.country_id) == (
        LeadType.OPPORTUNITY,
        person,
        "Nguyễn Thị Hương",
        "Công ty Đại Việt",
        "huong@daiviet.vn",
        "VN",
    )
    assert lead.user == actors.sales1
    assert lead.customer_type == "existing"  # a customer's opportunity is not "Khách hàng mới"


def test_customer_picker_options_search_without_accents(client, actors):
    make_partner("Công ty Đại Việt", is_company=True)
    make_partner("Đại Việt Person")
    client.force_login(actors.sales1)
    html = client.get(reverse("contacts:options"), {"q": "dai viet"}).content.decode()
    assert html.count('<option value="') == 3  # the empty choice and two matches
    html = client.get(reverse("contacts:options"), {"q": "dai viet", "companies": "1"}).content.decode()
    assert "Công ty Đại Việt" in html and "Person" not in html


def test_note_on_a_customer(client, actors):
    partner = make_partner("Hương")
    client.force_login(actors.sales1)
    response = client.post(reverse("contacts:note", args=[partner.pk]), {"body": "Khách quen"}, **HTMX)
    assert "Khách quen" in response.content.decode()
    assert history_of(partner).get().body == "Khách quen"
