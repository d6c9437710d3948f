"""Converting with "link an existing customer" when none is suggested: a customer search (issue 27)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from pheu.leads.choices import LeadType
from pheu.testing import make_lead, make_partner

pytestmark = pytest.mark.django_db


@pytest.mark.usefixtures("english")
def test_a_lead_matching_no_customer_links_one_found_by_the_search(client, actors):
    partner = make_partner("Công ty Thép Hòa Bình", is_company=True, email="lienhe@thephoabinh.vn")
    make_partner("Nhựa Tiền Phong", is_company=True)
    lead = make_lead("Báo giá thép", contact_name="Anh Minh", user=actors.sales1, team=actors.north)
    client.force_login(actors.sales1)
    url = reverse("leads:convert", args=[lead.pk])

    page = client.get(url).content.decode()
    assert 'id="convert-no-suggestion"' in page
    assert 'id="convert-partner-search"' in page and reverse("contacts:options") in page
    options = client.get(reverse("contacts:options"), {"q": "thep hoa"}, HTTP_HX_REQUEST="true")
    assert f'value="{partner.pk}"' in options.content.decode()
    assert "Nhựa" not in options.content.decode()

    response = client.post(
        url, {"team": actors.north.pk, "user": actors.sales1.pk, "customer": "link", "partner": partner.pk}
    )

    assert response.status_code == 302
    lead.refresh_from_db()
    assert (lead.type, lead.partner) == (LeadType.OPPORTUNITY, partner)


@pytest.mark.usefixtures("english")
def test_a_chosen_customer_stays_selected_when_the_page_shows_an_error(client, actors):
    partner = make_partner("Thép Hòa Bình", is_company=True)
    lead = make_lead("Báo giá", user=actors.sales1, team=actors.north)
    client.force_login(actors.sales1)
    response = client.post(
        reverse("leads:convert", args=[lead.pk]),
        {"team": actors.north.pk, "user": 999999, "customer": "link", "partner": partner.pk},
    )
    assert response.status_code == 200
    assert f'<option value="{partner.pk}" selected>Thép Hòa Bình</option>' in response.content.decode()
