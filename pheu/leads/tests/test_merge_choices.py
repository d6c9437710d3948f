"""A merge where a person chooses the record kept and, per field the records disagree on, the value kept —
on the merge page and in the API — with nothing lost and the undo as exact as ever (issue 27)."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import translation

from pheu.core.history import history_of
from pheu.core.models import HistoryKind
from pheu.leads.models import Lead, Merge
from pheu.leads.services.merge import MergeError, merge_leads, unmerge
from pheu.leads.tests.test_merge import _state, aged
from pheu.testing import PASSWORD, make_lead

pytestmark = pytest.mark.django_db
URL = reverse("leads:merge")


@pytest.fixture
def records(actors):
    """The oldest (the automatic survivor) and a newer one that disagree on the e-mail and the address."""
    old = aged(make_lead("Máy lọc nước – Hòa Phát", user=actors.sales1, email="cu@hoaphat.vn",
                         contact_name="Trần Bích", street="1 Lê Lợi", city="Huế"), 30)  # fmt: skip
    new = aged(make_lead("Báo giá máy lọc nước", user=actors.sales1, email="moi@hoaphat.vn", zip="550000",
                         street="25 Trần Phú", city="Đà Nẵng", phone="0912 345 678"), 2)  # fmt: skip
    return old, new


def test_by_default_the_oldest_is_kept_with_its_values(actors, records):
    old, new = records
    merge = merge_leads(actor=actors.sales1, leads=[new, old])
    kept = Lead.objects.get(pk=merge.survivor_id)
    assert (kept.pk, kept.email, kept.city, kept.phone) == (
        old.pk,
        "cu@hoaphat.vn",
        "Đà Nẵng",
        "0912 345 678",
    )


def test_a_person_chooses_the_record_kept_and_the_values_kept(actors, records):
    old, new = records
    merge = merge_leads(actor=actors.sales1, leads=[old, new], survivor_id=new.pk,
                        values={"email": old.pk, "address": old.pk, "name": old.pk})  # fmt: skip

    kept = Lead.objects.get(pk=merge.survivor_id)
    assert kept.pk == new.pk and merge.merged_ids == [old.pk]
    assert (kept.name, kept.email, kept.email_normalized) == ("Máy lọc nước – Hòa Phát", "cu@hoaphat.vn",
                                                              "cu@hoaphat.vn")  # fmt: skip
    assert (kept.street, kept.city, kept.zip) == ("1 Lê Lợi", "Huế", "")  # the address as one block
    assert kept.contact_name == "Trần Bích"  # an empty field still takes the other's value
    # Nothing lost: the survivor's own values a choice replaced are in its history, the other's values too.
    entry = history_of(kept).get(kind=HistoryKind.SYSTEM)
    replaced = {(c["field"], c["old"], c["record"]) for c in entry.changes if c["record"] == new.pk}
    assert replaced == {("name", "Báo giá máy lọc nước", new.pk), ("email", "moi@hoaphat.vn", new.pk),
                        ("street", "25 Trần Phú", new.pk), ("city", "Đà Nẵng", new.pk),
                        ("zip", "550000", new.pk)}  # fmt: skip
    assert Lead.objects.get(pk=old.pk).email == "cu@hoaphat.vn"  # the archived record keeps its own


def test_a_merge_with_choices_is_undone_exactly(actors, records):
    old, new = records
    before = _state([old.pk, new.pk])
    merge = merge_leads(actor=actors.sales1, leads=[old, new], survivor_id=new.pk,
                        values={"email": old.pk, "address": old.pk})  # fmt: skip

    unmerge(actor=actors.sales1, merge_id=merge.pk)

    after = _state([old.pk, new.pk])
    new_entries = set(after["history"]) - set(before["history"])
    after["history"] = sorted(set(after["history"]) - new_entries)
    assert after == before


@pytest.mark.parametrize(
    ("survivor", "values", "field"),
    [
        ("other", {}, "survivor"),  # not one of the records
        (None, {"stage": "old"}, "values"),  # not a field a person chooses
        (None, {"email": "other"}, "values"),  # not one of the records
        (None, {"phone": "old"}, "values"),  # the old record has no phone: the survivor would lose it
    ],
)
def test_bad_choices_are_refused_and_change_nothing(actors, records, survivor, values, field):
    old, new = records
    other = make_lead("Khác", user=actors.sales1)
    ids = {"old": old.pk, "other": other.pk}
    with pytest.raises(MergeError) as refused:
        merge_leads(actor=actors.sales1, leads=[old, new], survivor_id=ids.get(survivor),
                    values={name: ids[who] for name, who in values.items()})  # fmt: skip
    assert field in refused.value.field_errors
    assert not Merge.objects.exists() and Lead.objects.filter(active=True).count() == 3


def test_the_merge_page_offers_the_survivor_and_the_conflicting_values(client, actors, records):
    old, new = records
    client.login(username=actors.sales1.username, password=PASSWORD)
    with translation.override("en"):
        page = client.get(URL, {"ids": [old.pk, new.pk]}, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    # The oldest is kept by default; the other can be chosen; e-mail and address disagree, the phone not.
    assert f'name="survivor" value="{old.pk}"' in page and f"survivor={new.pk}" in page
    assert f'id="value-email-{old.pk}" checked' in page and f'id="value-email-{new.pk}"' in page
    assert "merge-value-address" in page and "25 Trần Phú, Đà Nẵng, 550000" in page
    assert "merge-value-phone" not in page and "merge-value-contact_name" not in page

    chosen = client.get(URL, {"ids": [old.pk, new.pk], "survivor": new.pk}).content.decode()
    assert f'name="survivor" value="{new.pk}"' in chosen
    assert f'id="value-email-{new.pk}" checked' in chosen  # the survivor keeps its own by default

    response = client.post(URL, {"ids": [old.pk, new.pk], "survivor": new.pk, "value_email": old.pk,
                                 "value_address": new.pk})  # fmt: skip
    assert response.status_code == 302 and response.url == reverse("leads:detail", args=[new.pk])
    assert "moi@hoaphat.vn" in client.get(response.url).content.decode()  # the value replaced: in history
    kept = Lead.objects.get(pk=new.pk)
    assert (kept.email, kept.city, Lead.objects.get(pk=old.pk).merged_into_id) == (
        "cu@hoaphat.vn",
        "Đà Nẵng",
        new.pk,
    )


def test_the_merge_page_shows_a_refused_choice(client, actors, records):
    old, new = records
    client.login(username=actors.sales1.username, password=PASSWORD)
    response = client.post(URL, {"ids": [old.pk, new.pk], "value_phone": old.pk})
    assert response.status_code == 400 and 'id="merge-error"' in response.content.decode()
    assert not Merge.objects.exists()


def test_the_api_merge_accepts_the_same_choices(actors, api_client, records):
    old, new = records
    client = api_client(actors.sales1)
    response = client.post("/api/v1/leads/merge/", {"ids": [old.pk, new.pk], "survivor": new.pk,
                           "values": {"email": old.pk}}, format="json")  # fmt: skip
    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["survivor"]["id"], body["survivor"]["email"], body["merged_ids"]) == (
        new.pk,
        "cu@hoaphat.vn",
        [old.pk],
    )
    bad = client.post("/api/v1/leads/unmerge/", {"merge_id": body["merge_id"]}, format="json")
    assert bad.status_code == 200 and Lead.objects.get(pk=new.pk).email == "moi@hoaphat.vn"
    refused = client.post("/api/v1/leads/merge/", {"ids": [old.pk, new.pk], "values": {"stage": old.pk}},
                          format="json")  # fmt: skip
    assert refused.status_code == 400 and "values" in refused.json()
