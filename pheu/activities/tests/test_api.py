"""The activities API (``/api/v1/activities/``)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from pheu.activities.models import Activity
from pheu.activities.testing import days, make_activity
from pheu.core.history import history_of
from pheu.core.models import HistoryKind
from pheu.testing import make_lead, make_partner

pytestmark = pytest.mark.django_db

LIST = reverse("api:activity-list")


def detail(activity: Activity, suffix: str = "") -> str:
    return reverse("api:activity-detail", args=[activity.pk]) + suffix


@pytest.fixture
def lead(actors):
    return make_lead("Máy lọc nước", team=actors.north, user=actors.sales1)


def test_schedule_list_by_state_and_complete(actors, api_client, lead):
    client = api_client(actors.sales1)
    response = client.post(
        LIST,
        {"lead": lead.pk, "kind": "meeting", "summary": "Gặp khách", "due_date": days(0).isoformat()},
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["assignee"], body["state"], body["partner"]) == (actors.sales1.pk, "today", None)
    make_activity(lead=lead, due_date=days(-2))

    overdue = client.get(LIST, {"state": "overdue"}).json()["results"]
    assert [row["state"] for row in overdue] == ["overdue"]
    assert len(client.get(LIST, {"lead": lead.pk}).json()["results"]) == 2

    done = client.post(f"{LIST}{body['id']}/done/", {"feedback": "Khách đồng ý"}, format="json")
    assert done.status_code == 200, done.json()
    assert (done.json()["state"], done.json()["feedback"]) == ("done", "Khách đồng ý")
    assert history_of(lead).get().kind == HistoryKind.ACTIVITY

    again = client.post(f"{LIST}{body['id']}/done/", {"feedback": "again"}, format="json")
    assert again.status_code == 400
    assert again.json()["code"] == "already_done"
    assert history_of(lead).count() == 1


def test_a_lead_the_user_does_not_see_is_an_unknown_id(actors, api_client, lead):
    response = api_client(actors.sales3).post(
        LIST, {"lead": lead.pk, "due_date": days(1).isoformat()}, format="json"
    )
    assert response.status_code == 400
    assert "lead" in response.json()
    assert not Activity.objects.exists()


def test_others_activities_are_404_and_cancel_removes_an_open_one(actors, api_client, lead):
    activity = make_activity(lead=lead)
    assert api_client(actors.sales3).get(detail(activity)).status_code == 404
    assert api_client(actors.sales3).delete(detail(activity)).status_code == 404
    assert api_client(actors.sales1).delete(detail(activity)).status_code == 204
    assert not Activity.objects.exists()


def test_on_a_customer_and_bad_input_is_400(actors, api_client):
    partner = make_partner("Công ty Sao Mai")
    client = api_client(actors.sales3)
    ok = client.post(
        LIST, {"partner": partner.pk, "kind": "todo", "due_date": days(3).isoformat()}, format="json"
    )
    assert ok.status_code == 201 and ok.json()["state"] == "planned"
    for payload in (
        {"partner": partner.pk},
        {"partner": partner.pk, "due_date": "tomorrow"},
        {"partner": partner.pk, "due_date": days(1).isoformat(), "kind": "fax"},
        {"due_date": days(1).isoformat()},
    ):
        response = client.post(LIST, payload, format="json")
        assert response.status_code == 400, payload
    assert Activity.objects.count() == 1
