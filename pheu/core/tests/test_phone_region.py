"""The default phone region is a setting managers change in the app, read by every phone normalisation:
forms, API, web form, imports (issue 27; it was the server's PHEU_PHONE_REGION, shown only)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from pheu.capture.testing import make_web_form
from pheu.contacts.models import Partner
from pheu.core.models import PheuSettings
from pheu.core.services import update_settings
from pheu.imports.testing import make_import, write_csv
from pheu.leads.models import Lead
from pheu.lib import phones

pytestmark = pytest.mark.django_db

API = reverse("api:settings")
PAGE = reverse("core:settings")
# A Californian number typed as Americans type it: no country code. Not a number in Vietnam.
US_NUMBER, US_E164 = "(650) 253-0000", "+16502530000"
PAGE_POST = {"realtime_assignment": "on", "currency": "VND", "duplicate_show_threshold": "60",
             "duplicate_merge_threshold": "90", "predictive_fields": ["stage"]}  # fmt: skip


def _to_us(actors) -> None:
    """The change, committed (this process reads numbers in the new region from its commit)."""
    from django.test import TestCase

    with TestCase.captureOnCommitCallbacks(execute=True):
        update_settings(actor=actors.manager, values={"phone_region": "US"})


def test_a_new_installation_starts_with_the_servers_region(settings):
    settings.PHEU_PHONE_REGION = "th"
    PheuSettings.objects.all().delete()
    assert PheuSettings.load().phone_region == "TH"
    assert phones.parse_phone("081 234 5678") == "+66812345678"


def test_a_manager_chooses_the_region_on_the_settings_page(client, actors):
    client.force_login(actors.manager)
    page = client.get(PAGE).content.decode()
    assert 'name="phone_region"' in page and "Hoa Kỳ (+1)" in page and "PHEU_PHONE_REGION" not in page

    assert client.post(PAGE, {**PAGE_POST, "phone_region": "US"}).status_code == 302

    assert PheuSettings.load().phone_region == "US"
    refused = client.post(PAGE, {**PAGE_POST, "phone_region": "ZZ"})
    assert refused.status_code == 200 and refused.context["form"].errors["phone_region"]
    assert PheuSettings.load().phone_region == "US"


def test_the_lead_form_reads_numbers_in_the_chosen_region(client, actors):
    form = {"type": "lead", "priority": "0", "customer_type": "new", "probability": "0", "name": "Máy chủ",
            "auto_probability": "on", "user": actors.sales1.pk, "phone": US_NUMBER}  # fmt: skip
    client.force_login(actors.sales1)
    before = client.post(reverse("leads:create"), form)
    assert before.status_code == 200 and "phone" in before.context["form"].errors  # not a Vietnamese number

    _to_us(actors)
    assert client.post(reverse("leads:create"), form).status_code == 302
    assert Lead.objects.get().phone_e164 == US_E164


def test_the_api_changes_the_region_and_reads_leads_and_customers_numbers_in_it(actors, api_client):
    manager = api_client(actors.manager)
    assert manager.get(API).json()["phone_region"] == "VN"
    changed = manager.patch(API, {"phone_region": "us"}, format="json")
    assert changed.status_code == 200 and changed.json()["phone_region"] == "US"
    bad = manager.patch(API, {"phone_region": "XX"}, format="json")
    assert bad.status_code == 400 and "phone_region" in bad.json()
    assert api_client(actors.sales1).patch(API, {"phone_region": "VN"}, format="json").status_code == 403

    lead = manager.post(reverse("api:lead-list"), {"name": "Máy chủ", "mobile": US_NUMBER}, format="json")
    partner = manager.post(reverse("api:partner-list"), {"name": "Acme", "phone": US_NUMBER}, format="json")

    assert (lead.status_code, partner.status_code) == (201, 201), (lead.json(), partner.json())
    assert Lead.objects.get().mobile_e164 == US_E164
    assert Partner.objects.get(name="Acme").phone_e164 == US_E164


def test_the_web_form_reads_numbers_in_the_chosen_region(client, actors):
    make_web_form(team=actors.north, key="north-key")
    _to_us(actors)
    phones.set_default_region("VN")  # a process that read the settings before the change: the post reads them

    response = client.post("/forms/lead/north-key/", {"contact_name": "Jane Roe", "phone": US_NUMBER})

    assert response.status_code == 303
    assert Lead.objects.get().phone_e164 == US_E164


def test_an_import_reads_numbers_in_the_chosen_region(tmp_path, actors):
    _to_us(actors)
    phones.set_default_region("VN")  # an import process started before the change: the run reads them
    path = write_csv(tmp_path / "leads.csv", [["Name", "Phone"], ["Máy chủ", US_NUMBER]])

    run = make_import(path, actor=actors.manager)

    assert (run.created_count, run.error_count) == (1, 0)
    assert Lead.objects.get().phone_e164 == US_E164


def test_records_keep_their_numbers_keys_when_the_region_changes(actors, api_client):
    manager = api_client(actors.manager)
    created = manager.post(
        reverse("api:lead-list"), {"name": "Trước", "phone": "0912 345 678"}, format="json"
    )
    _to_us(actors)

    # Saved again (any change): the number typed in Vietnam keeps its key; one typed now is American.
    changed = manager.patch(reverse("api:lead-detail", args=[created.json()["id"]]), {"mobile": US_NUMBER},
                            format="json")  # fmt: skip

    assert changed.status_code == 200, changed.json()
    lead = Lead.objects.get()
    assert (lead.phone, lead.phone_e164, lead.mobile_e164) == ("0912 345 678", "+84912345678", US_E164)


def test_a_process_reads_numbers_in_the_region_of_its_last_read_of_the_settings(actors):
    PheuSettings.load()
    PheuSettings.objects.filter(pk=1).update(phone_region="US")  # changed by another process
    assert phones.phone_e164_or_empty(US_NUMBER) == ""  # not read since: still Vietnam
    PheuSettings.load()
    assert phones.phone_e164_or_empty(US_NUMBER) == US_E164
