"""API of duplicates, conversion, merge and unmerge: outcomes, bad requests, permissions."""

from __future__ import annotations

import pytest

from pheu.leads.choices import LeadType
from pheu.leads.models import Lead, Merge
from pheu.testing import make_lead, make_partner

pytestmark = pytest.mark.django_db

MERGE = "/api/v1/leads/merge/"
UNMERGE = "/api/v1/leads/unmerge/"


def test_duplicates_of_a_lead_with_reasons(actors, api_client):
    a = make_lead("A", email="an@thepviet.vn", phone="0912 345 678", user=actors.sales1)
    b = make_lead("B", mobile="+84 912345678", email="binh@thepviet.vn", user=actors.sales1)
    make_lead("Hidden", email="an@thepviet.vn", user=actors.sales3)  # not visible to sales1
    response = api_client(actors.sales1).get(f"/api/v1/leads/{a.pk}/duplicates/")
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 1
    [match] = body["results"]
    assert match["id"] == b.pk and match["reasons"][0]["score"] == 100
    assert [r["code"] for r in match["reasons"]] == ["phone", "email_domain"]
    assert match["reasons"][0]["value"] == "+84912345678"
    assert match["propose_merge"] and match["probability"] >= 0.9 and match["score"] >= 90
    assert match["lost"] is False
    [phone] = [e for e in match["evidence"] if e["field"] == "phone"]
    assert phone["level"] == "same" and phone["weight"] > 0 and phone["label"]


def test_duplicates_of_a_record_the_user_cannot_see_is_a_404(actors, api_client):
    theirs = make_lead("Theirs", user=actors.sales3)
    assert api_client(actors.sales1).get(f"/api/v1/leads/{theirs.pk}/duplicates/").status_code == 404
    assert api_client().get(f"/api/v1/leads/{theirs.pk}/duplicates/").status_code == 401


def test_merge_returns_the_survivor_and_the_merge_id_and_unmerge_undoes_it(actors, api_client):
    a = make_lead("A", email="an@thepviet.vn", user=actors.sales1)
    b = make_lead(
        "B", email="an@thepviet.vn", phone="0912 345 678", user=actors.sales1, type=LeadType.OPPORTUNITY
    )
    client = api_client(actors.sales1)
    response = client.post(MERGE, {"ids": [a.pk, b.pk]}, format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    merge = Merge.objects.get()
    assert body["merge_id"] == merge.pk and body["merged_ids"] == [a.pk]
    assert body["survivor"]["id"] == b.pk and body["warnings"] == []
    assert Lead.objects.get(pk=a.pk).merged_into_id == b.pk

    response = client.post(UNMERGE, {"merge_id": merge.pk}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["lead_ids"] == [b.pk, a.pk]
    assert Lead.objects.get(pk=a.pk).active
    assert client.post(UNMERGE, {"merge_id": merge.pk}, format="json").status_code == 400


@pytest.mark.parametrize(
    ("ids", "field"),
    [
        (lambda a, b, c: [a], "ids"),  # one id
        (lambda a, b, c: [a, 987_654], "ids"),  # unknown id
        (lambda a, b, c: [a, a], "ids"),  # a record with itself
        (lambda a, b, c: [a, c], "ids"),  # no permission: another salesperson's record
        (lambda a, b, c: "x", "ids"),
    ],
)
def test_merge_bad_requests_are_400_and_change_nothing(actors, api_client, ids, field):
    a = make_lead("A", user=actors.sales1)
    b = make_lead("B", user=actors.sales1)
    c = make_lead("C", user=actors.sales3)
    response = api_client(actors.sales1).post(MERGE, {"ids": ids(a.pk, b.pk, c.pk)}, format="json")
    assert response.status_code == 400
    assert field in response.json()
    assert not Merge.objects.exists() and Lead.objects.filter(active=True).count() == 3


def test_merge_of_different_customers_needs_the_confirmation(actors, api_client):
    a = make_lead("A", partner=make_partner("K1"))
    b = make_lead("B", partner=make_partner("K2"))
    client = api_client(actors.manager)
    response = client.post(MERGE, {"ids": [a.pk, b.pk]}, format="json")
    assert response.status_code == 400
    assert "confirm_different_customers" in response.json()
    response = client.post(MERGE, {"ids": [a.pk, b.pk], "confirm_different_customers": True}, format="json")
    assert response.status_code == 200


def test_unmerge_bad_requests(actors, api_client):
    client = api_client(actors.manager)
    assert client.post(UNMERGE, {"merge_id": 424242}, format="json").status_code == 400
    assert client.post(UNMERGE, {}, format="json").status_code == 400
    a = make_lead("A", user=actors.sales3)
    b = make_lead("B", user=actors.sales3)
    merge = client.post(MERGE, {"ids": [a.pk, b.pk]}, format="json").json()["merge_id"]
    refused = api_client(actors.sales1).post(UNMERGE, {"merge_id": merge}, format="json")
    assert refused.status_code == 400  # unknown to one who may not see its records (never a 403)
    assert list(refused.json()) == ["merge_id"]
    assert f"#{merge}" in refused.json()["merge_id"][0]
    assert Merge.objects.get().undone_at is None


def test_convert_creates_the_customer_and_merges_the_duplicates(actors, api_client):
    lead = make_lead("A", contact_name="Nguyễn Văn An", email="an@thepviet.vn", user=actors.sales1)
    dup = make_lead("B", email="an@thepviet.vn", user=actors.sales1)
    response = api_client(actors.sales1).post(
        f"/api/v1/leads/{lead.pk}/convert/", {"customer": "create", "merge": [dup.pk]}, format="json"
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["id"] == lead.pk and body["type"] == "opportunity" and body["converted_at"]
    assert body["partner"] is not None
    assert Lead.objects.get(pk=dup.pk).merged_into_id == lead.pk


def test_convert_bad_requests(actors, api_client):
    lead = make_lead("A", user=actors.sales1)
    theirs = make_lead("T", user=actors.sales3)
    client = api_client(actors.sales1)
    url = f"/api/v1/leads/{lead.pk}/convert/"
    assert client.post(url, {"customer": "link"}, format="json").status_code == 400
    assert client.post(url, {"customer": "nope"}, format="json").status_code == 400
    assert client.post(url, {"merge": [theirs.pk]}, format="json").status_code == 400
    assert client.post(f"/api/v1/leads/{theirs.pk}/convert/", {}, format="json").status_code == 404
    assert Lead.objects.get(pk=lead.pk).type == LeadType.LEAD
