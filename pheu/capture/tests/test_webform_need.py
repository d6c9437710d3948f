"""The web form asks what the visitor needs, and the lead is named after it (not after the person)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from pheu.capture.testing import make_web_form
from pheu.core.models import PheuSettings
from pheu.leads.models import Lead

pytestmark = pytest.mark.django_db
URL = "/forms/lead/north-key/"


@pytest.fixture
def form(actors):
    return make_web_form(team=actors.north, key="north-key")


def test_the_hosted_form_and_the_snippet_ask_what_the_visitor_needs(client, actors, form):
    page = client.get(URL).content.decode()
    assert 'name="name"' in page and "Bạn cần gì?" in page
    client.force_login(actors.manager)
    settings_page = client.get(reverse("capture:team_web_form", args=[actors.north.pk])).content.decode()
    assert "name=&quot;name&quot;" in settings_page or 'name="name"' in settings_page


def test_the_lead_is_named_after_the_need_and_the_post_costs_no_more_queries(
    client, form, django_assert_max_num_queries
):
    PheuSettings.objects.update_or_create(pk=1, defaults={"realtime_assignment": False})
    visitor = {
        "contact_name": "Trần Thị Bích",
        "email": "bich@hoaphat-example.vn",
        "name": "Báo giá 50 máy lọc nước",
        "description": "Giao trước tháng 9.",
    }
    client.post(URL, {**visitor, "email": "warm@hoaphat-example.vn"})  # caches warmed, as in the bench
    with django_assert_max_num_queries(7):
        assert client.post(URL, visitor).status_code == 303
    lead = Lead.objects.get(email="bich@hoaphat-example.vn")
    assert (lead.name, lead.contact_name) == ("Báo giá 50 máy lọc nước", "Trần Thị Bích")
    without = client.post(URL, {"contact_name": "Lê Văn Cường", "email": "cuong@example.vn"})
    assert without.status_code == 303
    assert Lead.objects.get(email="cuong@example.vn").name == "Lê Văn Cường"
